"""What the trainer needs from a model: the same for every decoder family and for the vocoder.

A trainable model is an ``nn.Module`` whose ``forward(batch)`` returns a :class:`StepOutput` of named,
unweighted loss terms. If its ``discriminator`` attribute is a module (not None), the trainer also runs the
adversarial steps: ``discriminator_loss(adversarial)`` on the detached generated output, then
``adversarial_loss(adversarial)`` added to the generator's terms. ``validation_sample(batch)`` gives a
:class:`Sample` for the logs. The trainer never asks which family or model it trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tts_gen.models.decoders.base import AdversarialTerms


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
