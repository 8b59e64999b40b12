"""The one decoder interface that every generative family implements.

A decoder turns the frame-level condition ``cond`` (the encoder's prior mean, expanded by the durations:
(B, n_mels, T)) into a mel spectrogram (B, n_mels, T), in the normalized mel space of the model. It has exactly
two entry points, with the same names in every family:

* ``loss(cond, mask, target) -> DecoderOutput``: named, unweighted loss terms (``"<family>/<term>"``), plus the
  predicted mel where the family has one;
* ``generate(cond, mask, options) -> mel``: a sample, zero past the mask.

A family declares its sampling options as a small dataclass (``options_class``) and any length constraint
(``frame_multiple``). Adversarial families subclass :class:`AdversarialDecoder`, which adds a discriminator.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import nn


@dataclass
class DecoderConfig:
    """Base of every family's config; ``family`` picks the variant (see ``tts_gen.registry``).

    ``sampling`` sets the run's default sampling options (e.g. ``{temperature: 0.3}``), which synthesis and
    evaluation use unless told otherwise; unset options keep the family's published defaults.
    """

    family: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve_variant(cls, data: Mapping[str, Any]) -> type:
        from tts_gen.registry import decoder_entry

        if "family" not in data:
            raise KeyError("decoder.family is required")
        return decoder_entry(data["family"]).config_class


@dataclass
class NoOptions:
    """Sampling options of a family that has none."""


@dataclass
class DecoderOutput:
    """Named, unweighted loss terms and, where the family has one, the predicted mel (B, n_mels, T)."""

    terms: dict[str, torch.Tensor]
    mel: torch.Tensor | None = None


def make_options(options_class: type, family: str, values: Mapping[str, Any]) -> Any:
    """Builds a family's options dataclass; an option the family does not have is a clear error."""
    names = [f.name for f in dataclasses.fields(options_class)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        have = ", ".join(names) if names else "none"
        raise ValueError(f"the {family} decoder has no option {', '.join(unknown)}; its options are: {have}")
    return options_class(**values)


class Decoder(nn.Module):
    """Base class of the mel decoders.

    Subclasses set ``options_class`` and, if their lengths must be multiples of some number,
    ``frame_multiple``; they implement :meth:`loss` and :meth:`generate`.
    """

    options_class: type = NoOptions
    frame_multiple: int = 1

    def __init__(self, config: DecoderConfig, n_mels: int):
        super().__init__()
        self.config = config
        self.n_mels = n_mels
        self.options()  # an unknown option in config.sampling fails when the model is built

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        """cond, target (B, n_mels, T); mask (B, 1, T) -> loss terms."""
        raise NotImplementedError

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: Any) -> torch.Tensor:
        """cond (B, n_mels, T), mask (B, 1, T), the family's options -> mel (B, n_mels, T), zero past mask."""
        raise NotImplementedError

    def options(self, **values: Any) -> Any:
        """The family's options: its defaults, then the config's ``sampling``, then ``values`` (unknown names raise
        ValueError)."""
        return make_options(self.options_class, self.config.family, {**self.config.sampling, **values})


@dataclass
class AdversarialTerms:
    """What the adversarial steps need: the condition, mask, real and generated mels (B, n_mels, T)."""

    cond: torch.Tensor
    mask: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


class AdversarialDecoder(Decoder):
    """A decoder trained against a discriminator (``self.discriminator``, an ``nn.Module``).

    The trainer calls :meth:`loss` (the generator forward and its non-adversarial terms, with the generated
    mel in ``DecoderOutput.mel``), then steps the discriminator on :meth:`discriminator_loss` with the
    generated mel detached, then adds :meth:`adversarial_loss` to the generator's loss and steps it.
    """

    discriminator: nn.Module

    def discriminator_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def adversarial_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        raise NotImplementedError
