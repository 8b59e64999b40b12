"""Convolution stacks shared by the encoder and the decoders."""

from __future__ import annotations

import torch
from torch import nn

from tts_gen.models.layers.normalization import ChannelLayerNorm


class ConvReluNorm(nn.Module):
    """Masked stack of Conv1d -> LayerNorm -> ReLU -> Dropout with a zero-initialised residual projection."""

    def __init__(self, channels: int, n_layers: int, kernel_size: int, dropout: float):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2) for _ in range(n_layers)
        )
        self.norms = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Conv1d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        residual = x
        for conv, norm in zip(self.convs, self.norms):
            x = self.dropout(torch.relu(norm(conv(x * mask))))
        return (residual + self.proj(x)) * mask
