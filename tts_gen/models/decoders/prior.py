"""The prior baseline: no generative decoder at all; the mel is the shared encoder's prior mean ``cond``.

This is the encoder output that Grad-TTS (Popov et al., 2021) starts its diffusion from, used directly as the
prediction: a deterministic regression of the mel from text. In a comparison it shows what each generative
family adds on top of the shared encoder and aligner, and a trained ``prior`` run is the natural shared
starting point (``train.init_from``) for the encoders of the other families.

It has no parameters. Its one loss term, ``prior/l1``, is the mean absolute error between ``cond`` and the
target mel (per mel bin over valid frames); it trains the encoder alongside the Gaussian prior loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput, NoOptions


@dataclass
class PriorDecoderConfig(DecoderConfig):
    family: str = "prior"


class PriorDecoder(Decoder):
    """mel = cond; loss ``prior/l1``."""

    options_class = NoOptions

    def loss_keys(self) -> tuple[str, ...]:
        return ("prior/l1",)

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        l1 = ((cond - target).abs() * mask).sum() / (mask.sum() * cond.shape[1])
        return DecoderOutput(terms={"prior/l1": l1}, mel=cond * mask)

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: NoOptions) -> torch.Tensor:
        return cond * mask

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: NoOptions) -> list:
        return [("the condition is the mel", cond * mask)]
