"""Transformer encoder with windowed relative position attention (Shaw et al., 2018), as in Glow-TTS.

Channels-first throughout: inputs and outputs are (B, C, T) with a (B, 1, T) mask.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tts_gen.models.layers.normalization import ChannelLayerNorm


def relative_index(length: int, window: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query i and relative offset k in [-window, window]: key index i + k and whether it exists.

    Returns:
        keys (T, 2w+1) clamped to [0, T-1], and valid (T, 2w+1) bool.
    """
    offsets = torch.arange(-window, window + 1, device=device)
    keys = torch.arange(length, device=device).unsqueeze(1) + offsets.unsqueeze(0)
    valid = (keys >= 0) & (keys < length)
    return keys.clamp(0, length - 1), valid


class RelativeMultiHeadAttention(nn.Module):
    """Multi-head self-attention whose logits and values add learned embeddings of the relative offset
    ``j - i`` for ``|j - i| <= window`` (shared across heads)."""

    def __init__(self, channels: int, n_heads: int, window: int, dropout: float):
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels ({channels}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.head_dim = channels // n_heads
        self.window = window
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.out = nn.Conv1d(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)
        scale = self.head_dim**-0.5
        self.rel_keys = nn.Parameter(torch.randn(2 * window + 1, self.head_dim) * scale)
        self.rel_values = nn.Parameter(torch.randn(2 * window + 1, self.head_dim) * scale)
        nn.init.xavier_uniform_(self.qkv.weight)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, C, T), mask (B, 1, T) -> (B, C, T)."""
        batch, channels, length = x.shape
        q, k, v = self.qkv(x).view(batch, 3, self.n_heads, self.head_dim, length).unbind(1)
        q, k, v = (t.transpose(2, 3) for t in (q, k, v))  # (B, H, T, D)
        q = q / math.sqrt(self.head_dim)
        scores = q @ k.transpose(2, 3)  # (B, H, T, T)
        keys, valid = relative_index(length, self.window, x.device)  # (T, W)
        rel_scores = q @ self.rel_keys.T  # (B, H, T, W): logit of query i for offset k
        absolute = torch.zeros_like(scores).scatter_add_(
            -1, keys.expand_as(rel_scores), rel_scores * valid.to(rel_scores.dtype)
        )
        scores = scores + absolute
        pair_mask = mask.unsqueeze(2) * mask.unsqueeze(3)  # (B, 1, T, T)
        scores = scores.masked_fill(pair_mask == 0, -1e4)
        weights = self.dropout(torch.softmax(scores, dim=-1))
        output = weights @ v  # (B, H, T, D)
        rel_weights = torch.gather(weights, -1, keys.expand(batch, self.n_heads, -1, -1)) * valid.to(weights.dtype)
        output = output + rel_weights @ self.rel_values  # (B, H, T, W) @ (W, D)
        output = output.transpose(2, 3).reshape(batch, channels, length)
        return self.out(output)


class FeedForward(nn.Module):
    """Two masked convolutions with a ReLU between them."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int, dropout: float):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv1d(filter_channels, channels, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.dropout(torch.relu(self.conv1(x * mask)))
        return self.conv2(x * mask) * mask


class RelativeTransformer(nn.Module):
    """Post-norm Transformer encoder stack of Glow-TTS: (B, C, T) -> (B, C, T), zero past the mask."""

    def __init__(
        self,
        channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        dropout: float,
        window: int,
    ):
        super().__init__()
        self.attentions = nn.ModuleList(
            RelativeMultiHeadAttention(channels, n_heads, window, dropout) for _ in range(n_layers)
        )
        self.norms1 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.ffns = nn.ModuleList(FeedForward(channels, filter_channels, kernel_size, dropout) for _ in range(n_layers))
        self.norms2 = nn.ModuleList(ChannelLayerNorm(channels) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x * mask
        for attention, norm1, ffn, norm2 in zip(self.attentions, self.norms1, self.ffns, self.norms2):
            x = norm1(x + self.dropout(attention(x, mask)))
            x = norm2(x + self.dropout(ffn(x, mask)))
        return x * mask
