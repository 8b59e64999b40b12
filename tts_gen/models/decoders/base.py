"""The one decoder interface that every generative family implements.

A decoder turns the frame-level condition ``cond`` (the encoder's prior mean, expanded by the durations:
(B, n_mels, T)) into a mel spectrogram (B, n_mels, T), in the normalized mel space of the model. It has exactly
two entry points, with the same names in every family:

* ``loss(cond, mask, target) -> DecoderOutput``: named, unweighted loss terms (``"<family>/<term>"``), plus the
  predicted mel where the family has one;
* ``generate(cond, mask, options) -> mel``: a sample, zero past the mask.

A family declares the names of its loss terms (``loss_keys``), its sampling options as a small dataclass
(``options_class``) and any length constraint (``frame_multiple``). Adversarial families subclass
:class:`AdversarialDecoder`, which adds a discriminator.
"""

from __future__ import annotations

import abc
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tts_gen.trainable import AdversarialTerms
from tts_gen.validation import finite_number


@dataclass
class DecoderConfig:
    """Base of every family's config; ``family`` picks the variant (see ``tts_gen.models.decoders.registry``).

    ``sampling`` sets the run's default sampling options (e.g. ``{temperature: 0.3}``), which synthesis and
    evaluation use unless told otherwise; unset options keep the family's published defaults.

    ``segment_frames`` is the decoder's loss window, the same setting in every family: training takes the decoder's
    loss on one random window of this many frames per utterance, cut identically from the condition, mask and
    target (Grad-TTS's ``out_size``: 172 frames = 2 s at 22.05 kHz); 0 = on whole utterances. The encoder's own
    terms (joint protocol) still see whole utterances, and synthesis always decodes whole utterances.
    """

    family: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    segment_frames: int = 0

    def __post_init__(self) -> None:
        if self.segment_frames < 0:
            raise ValueError(f"segment_frames must be >= 0 (0 = whole utterances), got {self.segment_frames}")

    @classmethod
    def resolve_variant(cls, data: Mapping[str, Any]) -> type:
        from tts_gen.models.decoders.registry import decoder_entry

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


TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")
KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number"}


def parse_option(kind: type, name: str, text: str) -> Any:
    """An option's value given as text (``--option NAME=VALUE``) -> a value of the option's type ``kind``."""
    text = text.strip()
    try:
        if kind is bool:
            if text.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise ValueError
            return text.lower() in TRUE_WORDS
        value = kind(text) if kind in (int, float) else text
    except ValueError:
        raise ValueError(f"option {name} needs {KIND_NAMES[kind]}, got {text!r}") from None
    if kind is float:
        finite_number(value, f"option {name}")  # "nan" and "inf" are floats to Python, not to a sampler
    return value


def make_options(options_class: type, family: str, values: Mapping[str, Any]) -> Any:
    """Builds a family's options dataclass from values or their text (converted to each option's type); an
    option the family does not have is a clear error."""
    hints = typing.get_type_hints(options_class)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        have = ", ".join(hints) if hints else "none"
        raise ValueError(f"the {family} decoder has no option {', '.join(unknown)}; its options are: {have}")
    typed = {
        name: parse_option(hints[name], name, value) if isinstance(value, str) else value
        for name, value in values.items()
    }
    for name, value in typed.items():
        if hints[name] in (int, float):
            finite_number(value, f"option {name}")  # NaN or infinity never reaches a sampler
    return options_class(**typed)


class Decoder(nn.Module, abc.ABC):
    """Base class of the mel decoders.

    Subclasses set ``options_class`` and, if their lengths must be multiples of some number,
    ``frame_multiple``; they implement :meth:`loss_keys`, :meth:`loss` and :meth:`generate`.
    """

    options_class: type = NoOptions
    frame_multiple: int = 1
    # Why ``generate`` cannot become a fixed ONNX graph ("" = it can; see ``tts_gen.export``).
    onnx_unsupported: str = ""

    def __init__(self, config: DecoderConfig, n_mels: int):
        super().__init__()
        self.config = config
        self.n_mels = n_mels
        self.options()  # an unknown option in config.sampling fails when the model is built

    @abc.abstractmethod
    def loss_keys(self) -> tuple[str, ...]:
        """The names of every loss term this decoder returns (``<family>/<term>``), discriminator's included."""

    @abc.abstractmethod
    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        """cond, target (B, n_mels, T); mask (B, 1, T) -> loss terms."""

    @abc.abstractmethod
    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: Any) -> torch.Tensor:
        """cond (B, n_mels, T), mask (B, 1, T), the family's options -> mel (B, n_mels, T), zero past mask."""

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: Any) -> list[tuple[str, torch.Tensor]]:
        """How one sample crosses from the family's starting point to the mel, for figures: (label, state
        (B, C, T)) pairs in order, the last one the sample; states are in the normalized mel space or in the
        family's latent space. The default shows the condition and the sample."""
        return [("condition (prior mean)", cond * mask), ("sample", self.generate(cond, mask, options))]

    def network_evaluations(self, options: Any) -> int | None:
        """Evaluations of the decoder's network for one sample under ``options`` (NFE); None when it grows with
        the length (autoregressive)."""
        return 1

    def options(self, **values: Any) -> Any:
        """The family's options: its defaults, then the config's ``sampling``, then ``values``, each a value or
        its text (``"0.5"``); unknown names and text of the wrong type raise ValueError."""
        return make_options(self.options_class, self.config.family, {**self.config.sampling, **values})


class AdversarialDecoder(Decoder):
    """A decoder trained against a discriminator (``self.discriminator``, an ``nn.Module``).

    The trainer calls :meth:`loss` (the generator forward and its non-adversarial terms, with the generated
    mel in ``DecoderOutput.mel``), then steps the discriminator on :meth:`discriminator_loss` with the
    generated mel detached, then adds :meth:`adversarial_loss` to the generator's loss and steps it.
    """

    discriminator: nn.Module

    @abc.abstractmethod
    def discriminator_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        """The discriminator's terms on real and (detached) generated mels."""

    @abc.abstractmethod
    def adversarial_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        """The generator's adversarial terms."""
