"""The shared text encoder: tokens -> mel-space prior ``mu_x`` per token and log-durations.

It follows the encoder of Glow-TTS (Kim et al., 2020) as reused by Grad-TTS (Popov et al., 2021) and
Matcha-TTS (Mehta et al., 2024): token embedding, a residual convolutional prenet, a Transformer encoder with
relative position attention, a 1x1 projection to ``n_mels`` channels (the prior mean in mel space), and a
convolutional duration predictor that sees the detached encoder output and predicts log-durations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from tts_gen.models.layers.conv import ConvReluNorm
from tts_gen.models.layers.masks import sequence_mask
from tts_gen.models.layers.normalization import ChannelLayerNorm
from tts_gen.models.layers.transformer import RelativeTransformer


@dataclass
class EncoderConfig:
    """Sizes of the text encoder (defaults: Glow-TTS / Grad-TTS on LJSpeech)."""

    hidden_channels: int = 192
    filter_channels: int = 768
    n_heads: int = 2
    n_layers: int = 6
    kernel_size: int = 3
    dropout: float = 0.1
    window_size: int = 4
    prenet_layers: int = 3
    prenet_kernel_size: int = 5
    prenet_dropout: float = 0.5
    duration_filter_channels: int = 256
    duration_kernel_size: int = 3
    duration_dropout: float = 0.1


@dataclass
class EncoderOutput:
    """mu_x (B, n_mels, T_text), log_durations (B, 1, T_text), x_mask (B, 1, T_text); zero past lengths."""

    mu_x: torch.Tensor
    log_durations: torch.Tensor
    x_mask: torch.Tensor


class DurationPredictor(nn.Module):
    """Two conv layers (ReLU, LayerNorm, dropout) and a 1x1 projection: (B, C, T) -> (B, 1, T) log-durations."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, dropout: float):
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=pad)
        self.norm1 = ChannelLayerNorm(filter_channels)
        self.conv2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad)
        self.norm2 = ChannelLayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.norm1(torch.relu(self.conv1(x * mask))))
        x = self.dropout(self.norm2(torch.relu(self.conv2(x * mask))))
        return self.proj(x * mask) * mask


class TextEncoder(nn.Module):
    """Token ids -> prior mean in mel space and log-durations per token."""

    def __init__(self, config: EncoderConfig, num_symbols: int, n_mels: int):
        super().__init__()
        self.config = config
        hidden = config.hidden_channels
        self.embedding = nn.Embedding(num_symbols, hidden)
        nn.init.normal_(self.embedding.weight, 0.0, hidden**-0.5)
        self.prenet = ConvReluNorm(hidden, config.prenet_layers, config.prenet_kernel_size, config.prenet_dropout)
        self.transformer = RelativeTransformer(
            hidden,
            config.filter_channels,
            config.n_heads,
            config.n_layers,
            config.kernel_size,
            config.dropout,
            config.window_size,
        )
        self.proj_mu = nn.Conv1d(hidden, n_mels, 1)
        self.duration_predictor = DurationPredictor(
            hidden, config.duration_filter_channels, config.duration_kernel_size, config.duration_dropout
        )

    def forward(self, x: torch.Tensor, x_lengths: torch.Tensor) -> EncoderOutput:
        """x (B, T_text) token ids, x_lengths (B,) -> :class:`EncoderOutput`."""
        x_mask = sequence_mask(x_lengths, x.shape[1]).to(self.embedding.weight.dtype)
        h = self.embedding(x).transpose(1, 2) * math.sqrt(self.config.hidden_channels)  # (B, C, T_text)
        h = self.prenet(h * x_mask, x_mask)
        h = self.transformer(h, x_mask)
        mu_x = self.proj_mu(h) * x_mask
        log_durations = self.duration_predictor(h.detach(), x_mask)
        return EncoderOutput(mu_x=mu_x, log_durations=log_durations, x_mask=x_mask)
