"""A 1-D convolutional U-Net that denoises a mel given the frame-level condition and a time t in [0, 1].

It is the network of the diffusion and flow-matching decoders (the two families differ only in their loss and
sampler). It follows the U-Net of Grad-TTS (Popov et al., 2021: residual blocks with a sinusoidal time
embedding, down- and up-sampling by 2 with skip connections, the noisy mel and the condition stacked at the
input) but is one-dimensional over frames, with the mel bins as channels, as the decoder of Matcha-TTS (Mehta
et al., 2024). One-dimensional convolutions cost far less on a CPU than Grad-TTS's 2-D ones; the 80 mel bins
become channels instead of an image axis. Self-attention runs only at the lowest resolution (T / 2^(levels-1)
frames), where it is cheap, using the relative-position Transformer of the shared text encoder.

Shapes: x, cond (B, n_mels, T), mask (B, 1, T) float, t (B,) -> (B, n_mels, T), zero past the mask. Any T works:
the input is padded internally to a multiple of 2^(levels-1) and the output cropped back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from tts_gen.models.layers.masks import pad_to_multiple
from tts_gen.models.layers.normalization import ChannelLayerNorm
from tts_gen.models.layers.transformer import RelativeTransformer


@dataclass
class UNet1DConfig:
    """Sizes of the denoising U-Net.

    Attributes:
        channels: hidden channels of each level; level i runs at T / 2^i frames.
        blocks_per_level: residual blocks per level on the way down (the way up has the same number).
        kernel_size: odd kernel size of the residual blocks' convolutions.
        time_channels: width of the sinusoidal time embedding (the MLP after it is 4x wider).
        time_scale: t in [0, 1] is multiplied by this before the sinusoids (Grad-TTS uses 1000).
        attention_layers: relative-attention Transformer layers at the lowest level (0 = none).
        attention_heads, attention_filter_channels, attention_window: their heads, feed-forward width and
            relative-position window (frames of the lowest level).
        dropout: dropout inside the residual blocks and the Transformer.
    """

    channels: list[int] = field(default_factory=lambda: [192, 256, 256])
    blocks_per_level: int = 2
    kernel_size: int = 3
    time_channels: int = 64
    time_scale: float = 1000.0
    attention_layers: int = 1
    attention_heads: int = 2
    attention_filter_channels: int = 512
    attention_window: int = 4
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must list at least one positive width per level, got {self.channels}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")
        if self.blocks_per_level < 1:
            raise ValueError(f"blocks_per_level must be >= 1, got {self.blocks_per_level}")


def sinusoidal_embedding(t: torch.Tensor, channels: int, scale: float) -> torch.Tensor:
    """t (B,) -> (B, channels): sines then cosines of ``scale * t`` at geometric frequencies (Vaswani et al.)."""
    half = channels // 2
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=t.dtype) / max(half - 1, 1))
    angles = scale * t.unsqueeze(1) * frequencies.unsqueeze(0)  # (B, 1) x (1, half) -> (B, half)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class TimeEmbedding(nn.Module):
    """t (B,) -> (B, 4 * time_channels): sinusoids and a two-layer MLP, ending with SiLU for the blocks' FiLM."""

    def __init__(self, time_channels: int, scale: float):
        super().__init__()
        self.time_channels = time_channels
        self.scale = scale
        self.mlp = nn.Sequential(
            nn.Linear(time_channels, 4 * time_channels),
            nn.SiLU(),
            nn.Linear(4 * time_channels, 4 * time_channels),
            nn.SiLU(),
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(sinusoidal_embedding(t, self.time_channels, self.scale))


class ResidualBlock1D(nn.Module):
    """conv -> LayerNorm -> FiLM(time) -> SiLU -> conv -> LayerNorm -> SiLU, plus a (1x1) residual path.

    Shapes: x (B, in_channels, T), mask (B, 1, T), time (B, time_features) -> (B, out_channels, T).
    """

    def __init__(self, in_channels: int, out_channels: int, time_features: int, kernel_size: int, dropout: float):
        super().__init__()
        padding = kernel_size // 2
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding)
        self.norm1 = ChannelLayerNorm(out_channels)
        self.film = nn.Linear(time_features, 2 * out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, padding=padding)
        self.norm2 = ChannelLayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.residual = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(time).unsqueeze(-1).chunk(2, dim=1)  # each (B, out_channels, 1)
        h = self.norm1(self.conv1(x * mask))
        h = self.dropout(nn.functional.silu(h * (1 + scale) + shift))
        h = nn.functional.silu(self.norm2(self.conv2(h * mask)))
        return (h + self.residual(x)) * mask


class Downsample1D(nn.Module):
    """Halves the frames with a stride-2 convolution: (B, C, T) -> (B, C, T / 2); T must be even."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.conv(x * mask)


class Upsample1D(nn.Module):
    """Doubles the frames with a stride-2 transposed convolution (kernel 4), changing the channels on the way:
    (B, in_channels, T) -> (B, out_channels, 2T). Working at the coarse rate costs half a convolution at the fine
    one."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.ConvTranspose1d(in_channels, out_channels, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, T) and its mask (B, 1, T) at the coarse rate."""
        return self.conv(x * mask)


def halve_mask(mask: torch.Tensor) -> torch.Tensor:
    """(B, 1, T) -> (B, 1, T / 2): a coarse frame is valid if the first fine frame it covers is."""
    return mask[:, :, ::2]


class UNet1D(nn.Module):
    """The denoising network: (x_t, cond, t) -> a mel-shaped output (noise, score or velocity, per family).

    Args:
        config: sizes (:class:`UNet1DConfig`).
        n_mels: channels of the mel, of the condition and of the output.

    The output layer starts at zero, so an untrained network predicts zero.
    """

    def __init__(self, config: UNet1DConfig, n_mels: int):
        super().__init__()
        self.config = config
        channels, kernel, dropout = config.channels, config.kernel_size, config.dropout
        time_features = 4 * config.time_channels
        self.time = TimeEmbedding(config.time_channels, config.time_scale)
        self.input = nn.Conv1d(2 * n_mels, channels[0], 1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        previous = channels[0]
        for level, width in enumerate(channels):
            blocks = nn.ModuleList()
            for _ in range(config.blocks_per_level):
                blocks.append(ResidualBlock1D(previous, width, time_features, kernel, dropout))
                previous = width
            self.down_blocks.append(blocks)
            if level < len(channels) - 1:
                self.downsamples.append(Downsample1D(width))
        self.middle = None
        if config.attention_layers > 0:
            self.middle = RelativeTransformer(
                channels[-1],
                config.attention_filter_channels,
                config.attention_heads,
                config.attention_layers,
                kernel,
                dropout,
                config.attention_window,
            )
        self.up_blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for level in reversed(range(len(channels))):
            width = channels[level]
            blocks = nn.ModuleList()
            for index in range(config.blocks_per_level):
                # The first block of each level takes the output of the matching down level, concatenated.
                in_channels = previous + width if index == 0 else width
                blocks.append(ResidualBlock1D(in_channels, width, time_features, kernel, dropout))
                previous = width
            self.up_blocks.append(blocks)
            if level > 0:
                self.upsamples.append(Upsample1D(width, channels[level - 1]))
                previous = channels[level - 1]
        self.output = nn.Conv1d(channels[0], n_mels, 1)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    @property
    def frame_multiple(self) -> int:
        """Internal length multiple (inputs are padded to it)."""
        return 2 ** (len(self.config.channels) - 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x, cond (B, n_mels, T), mask (B, 1, T), t (B,) in [0, 1] -> (B, n_mels, T), zero past the mask."""
        length = x.shape[-1]
        multiple = self.frame_multiple
        x, cond, mask_full = (pad_to_multiple(v, multiple) for v in (x, cond, mask))
        time = self.time(t)  # (B, 4 * time_channels)
        h = self.input(torch.cat([x, cond], dim=1) * mask_full)  # (B, 2 n_mels, T) -> (B, C0, T)
        masks, skips = [mask_full], []
        for level, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, masks[level], time)
            skips.append(h)
            if level < len(self.downsamples):
                h = self.downsamples[level](h, masks[level])  # (B, C, T_level) -> (B, C, T_level / 2)
                masks.append(halve_mask(masks[level]))
        if self.middle is not None:
            h = self.middle(h, masks[-1])
        for index, blocks in enumerate(self.up_blocks):
            level = len(masks) - 1 - index
            h = torch.cat([h, skips.pop()], dim=1)  # (B, C_h + C_level, T_level)
            for block in blocks:
                h = block(h, masks[level], time)
            if level > 0:
                h = self.upsamples[index](h, masks[level])  # (B, C_level, T_level) -> (B, C_level-1, 2 T_level)
        out = self.output(h) * mask_full
        return out[..., :length]
