"""What the trainer trains: the interface between :mod:`tts_gen.train` and every model it runs.

A trainable model (:class:`Trainable`) is an ``nn.Module`` whose ``forward(batch)`` returns a
:class:`StepOutput` of named, unweighted loss terms, and which declares the names of every loss term it can
produce (``loss_keys``), so that loss weights of a config are checked before training starts. If its
``discriminator`` is a module (not None), the trainer also runs the adversarial steps:
``discriminator_loss(adversarial)`` on the detached generated output, then ``adversarial_loss(adversarial)``
added to the generator's terms. ``validation_error(batch)`` measures each validation item the same way for every
model of a kind (``best.pt`` is chosen on it); ``validation_sample(batch)`` gives a :class:`Sample` for the logs.

This module depends on nothing of tts_gen, so models and the trainer both import it and neither imports
the other; the trainer never asks which family or model it trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn


@dataclass
class AdversarialTerms:
    """What the adversarial steps need: the condition, mask, real and generated outputs (same shapes)."""

    cond: torch.Tensor
    mask: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)

    def detached(self) -> AdversarialTerms:
        """The same terms cut from the generator's graph (for the discriminator step)."""
        return AdversarialTerms(
            cond=self.cond.detach(),
            mask=self.mask,
            real=self.real.detach(),
            fake=self.fake.detach(),
            extra={key: value.detach() for key, value in self.extra.items()},
        )


@dataclass
class StepOutput:
    """Named unweighted loss terms; ``adversarial`` holds what the adversarial steps need (or None)."""

    terms: dict[str, torch.Tensor]
    adversarial: AdversarialTerms | None = None


@dataclass
class Sample:
    """One validation example for the logs: raw log-mels (n_mels, T) and, if the model makes one, audio (T,)."""

    target_mel: torch.Tensor
    predicted_mel: torch.Tensor
    audio: torch.Tensor | None = None


class Trainable(Protocol):
    """The methods the trainer calls; adversarial models also have ``discriminator_loss`` and
    ``adversarial_loss`` (see the module docstring)."""

    discriminator: nn.Module | None
    validation_metric: str  # the name of what validation_error measures, e.g. "mel_l1"

    def __call__(self, batch: Any) -> StepOutput: ...

    def loss_keys(self) -> tuple[str, ...]:
        """Every loss term name that the forward and the adversarial steps can return."""
        ...

    def validation_error(self, batch: Any) -> torch.Tensor:
        """(B,) error of each item, lower is better: the measure ``best.pt`` is chosen on. It must not depend on
        the model's loss, so that it means the same for every model of a kind."""
        ...

    def validation_sample(self, batch: Any) -> Sample: ...
