"""Griffin-Lim as a :class:`Vocoder` (no training, no parameters)."""

from __future__ import annotations

import torch

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.vocoders.base import Vocoder


class GriffinLimVocoder(Vocoder):
    """Fast Griffin-Lim on the pseudo-inverted mel; ``n_iter`` iterations."""

    name = "griffin-lim"

    def __init__(self, audio: AudioConfig, n_iter: int = 32):
        super().__init__(audio)
        self.n_iter = n_iter

    @torch.no_grad()
    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return griffin_lim(mel, self.audio, n_iter=self.n_iter)
