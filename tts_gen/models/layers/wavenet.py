"""Non-causal WaveNet-style stack with gated activations and a frame-level condition (WaveGlow, Glow-TTS)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class WaveNetStack(nn.Module):
    """Dilated convolutions with tanh x sigmoid gates, residual and skip paths, conditioned on ``cond``.

    Args:
        channels: hidden channels.
        kernel_size: odd kernel size of the dilated convolutions.
        dilation_rate: dilation of layer i is ``dilation_rate ** i``.
        n_layers: number of layers.
        cond_channels: channels of the condition (0 for none).
        dropout: dropout on the gated activations.

    Shapes: x (B, channels, T), mask (B, 1, T), cond (B, cond_channels, T) -> skip sum (B, channels, T).
    """

    def __init__(
        self, channels: int, kernel_size: int, dilation_rate: int, n_layers: int, cond_channels: int, dropout: float
    ):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.n_layers = n_layers
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            dilation = dilation_rate**i
            padding = (kernel_size * dilation - dilation) // 2
            self.in_layers.append(
                weight_norm(nn.Conv1d(channels, 2 * channels, kernel_size, dilation=dilation, padding=padding))
            )
            out_channels = 2 * channels if i < n_layers - 1 else channels
            self.res_skip_layers.append(weight_norm(nn.Conv1d(channels, out_channels, 1)))
        self.cond_layer = weight_norm(nn.Conv1d(cond_channels, 2 * channels * n_layers, 1)) if cond_channels else None
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        skip = torch.zeros_like(x)
        cond_all = self.cond_layer(cond) if self.cond_layer is not None else None  # (B, 2C * n_layers, T)
        for i, (in_layer, res_skip_layer) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            h = in_layer(x)
            if cond_all is not None:
                h = h + cond_all[:, 2 * self.channels * i : 2 * self.channels * (i + 1)]
            a, b = h.chunk(2, dim=1)
            acts = self.dropout(torch.tanh(a) * torch.sigmoid(b))
            res_skip = res_skip_layer(acts)
            if i < self.n_layers - 1:
                x = (x + res_skip[:, : self.channels]) * mask
                skip = skip + res_skip[:, self.channels :]
            else:
                skip = skip + res_skip
        return skip * mask
