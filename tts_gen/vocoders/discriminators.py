"""The HiFi-GAN discriminators and losses (Kong et al., 2020).

* Multi-period discriminator (MPD): for each period p the waveform (B, 1, T) is folded into (B, 1, T / p, p)
  and judged by 2-D convolutions with kernels (k, 1), so each sees samples p apart.
* Multi-scale discriminator (MSD, from MelGAN): 1-D grouped convolutions on the raw waveform and on its 2x
  and 4x average-pooled versions; the first (raw) one uses spectral norm, the others weight norm.
* Least-squares GAN losses and the feature-matching L1 over every intermediate feature map.

Unchanged from the paper except that every size is a config field (tests use tiny ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm


@dataclass
class DiscriminatorConfig:
    """Sizes of the MPD and MSD (defaults: the paper's).

    Attributes:
        periods: one period discriminator per period.
        period_channels: output channels of the (k, 1) convolutions of a period discriminator; all but the
            last have stride ``period_stride``, the last stride 1.
        period_kernel_size: k of the (k, 1) kernels.
        period_stride: time stride of the strided period convolutions.
        n_scales: scale discriminators (raw waveform, then each pooled 2x more).
        scale_channels / scale_kernel_sizes / scale_strides / scale_groups: the 1-D convolutions of a scale
            discriminator (kernels odd).
        post_kernel_size: odd kernel of the last convolution (to one channel) of every discriminator.
        lrelu_slope: leaky ReLU slope.
    """

    periods: list[int] = field(default_factory=lambda: [2, 3, 5, 7, 11])
    period_channels: list[int] = field(default_factory=lambda: [32, 128, 512, 1024, 1024])
    period_kernel_size: int = 5
    period_stride: int = 3
    n_scales: int = 3
    scale_channels: list[int] = field(default_factory=lambda: [128, 128, 256, 512, 1024, 1024, 1024])
    scale_kernel_sizes: list[int] = field(default_factory=lambda: [15, 41, 41, 41, 41, 41, 5])
    scale_strides: list[int] = field(default_factory=lambda: [1, 2, 2, 4, 4, 1, 1])
    scale_groups: list[int] = field(default_factory=lambda: [1, 4, 16, 16, 16, 16, 1])
    post_kernel_size: int = 3
    lrelu_slope: float = 0.1

    def __post_init__(self) -> None:
        scale = (self.scale_channels, self.scale_kernel_sizes, self.scale_strides, self.scale_groups)
        if len({len(values) for values in scale}) != 1:
            raise ValueError(
                "vocoder.discriminator: scale_channels, _kernel_sizes, _strides and _groups need equal lengths"
            )
        in_channels = [1, *self.scale_channels[:-1]]
        for c_in, c_out, groups in zip(in_channels, self.scale_channels, self.scale_groups):
            if c_in % groups or c_out % groups:
                raise ValueError(f"vocoder.discriminator: scale groups {groups} must divide channels {c_in} -> {c_out}")
        kernels = [*self.scale_kernel_sizes, self.period_kernel_size, self.post_kernel_size]
        if any(k % 2 == 0 for k in kernels):
            raise ValueError(f"vocoder.discriminator: kernels must be odd, got {kernels}")
        if not self.periods and self.n_scales < 1:
            raise ValueError("vocoder.discriminator: needs at least one period or one scale")


@dataclass
class Judgement:
    """What the discriminators say about a batch: one score map per discriminator and, per discriminator,
    every intermediate feature map (for feature matching)."""

    scores: list[torch.Tensor]
    features: list[list[torch.Tensor]]


class PeriodDiscriminator(nn.Module):
    """Judges the waveform folded by ``period``: (B, 1, T) -> (B, 1, ceil(T / p), p) -> 2-D convolutions."""

    def __init__(self, period: int, config: DiscriminatorConfig):
        super().__init__()
        self.period = period
        self.slope = config.lrelu_slope
        k = config.period_kernel_size
        channels = [1, *config.period_channels]
        self.convs = nn.ModuleList()
        for index, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            stride = 1 if index == len(channels) - 2 else config.period_stride
            self.convs.append(weight_norm(nn.Conv2d(c_in, c_out, (k, 1), (stride, 1), padding=((k - 1) // 2, 0))))
        post = config.post_kernel_size
        self.post = weight_norm(nn.Conv2d(channels[-1], 1, (post, 1), padding=((post - 1) // 2, 0)))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, channels, length = wav.shape
        extra = -length % self.period
        if extra:
            mode = "reflect" if extra < length else "constant"
            wav = F.pad(wav, (0, extra), mode=mode)
        x = wav.view(batch, channels, -1, self.period)  # (B, 1, T / p, p)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), self.slope)
            features.append(x)
        x = self.post(x)
        features.append(x)
        return x.flatten(1), features


class ScaleDiscriminator(nn.Module):
    """Strided grouped 1-D convolutions on the waveform (MelGAN); ``spectral`` picks spectral norm."""

    def __init__(self, config: DiscriminatorConfig, spectral: bool):
        super().__init__()
        norm = spectral_norm if spectral else weight_norm
        self.slope = config.lrelu_slope
        channels = [1, *config.scale_channels]
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(c_in, c_out, k, stride, groups=groups, padding=(k - 1) // 2))
            for c_in, c_out, k, stride, groups in zip(
                channels[:-1], channels[1:], config.scale_kernel_sizes, config.scale_strides, config.scale_groups
            )
        )
        post = config.post_kernel_size
        self.post = norm(nn.Conv1d(channels[-1], 1, post, padding=(post - 1) // 2))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x, features = wav, []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), self.slope)
            features.append(x)
        x = self.post(x)
        features.append(x)
        return x.flatten(1), features


class HiFiGANDiscriminator(nn.Module):
    """The MPD and the MSD together: waveform (B, 1, T) -> :class:`Judgement` of every sub-discriminator."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.periods = nn.ModuleList(PeriodDiscriminator(p, config) for p in config.periods)
        self.scales = nn.ModuleList(ScaleDiscriminator(config, spectral=i == 0) for i in range(config.n_scales))
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, wav: torch.Tensor) -> Judgement:
        scores, features = [], []
        for discriminator in self.periods:
            score, feature = discriminator(wav)
            scores.append(score)
            features.append(feature)
        x = wav
        for index, discriminator in enumerate(self.scales):
            if index > 0:
                x = self.pool(x)
            score, feature = discriminator(x)
            scores.append(score)
            features.append(feature)
        return Judgement(scores, features)


def discriminator_lsgan_loss(real: Judgement, fake: Judgement) -> torch.Tensor:
    """Least-squares GAN loss of the discriminators: sum over them of E[(1 - D(x))^2] + E[D(G(s))^2]."""
    return sum(torch.mean((1 - r.float()) ** 2) + torch.mean(f.float() ** 2) for r, f in zip(real.scores, fake.scores))


def generator_lsgan_loss(fake: Judgement) -> torch.Tensor:
    """Least-squares GAN loss of the generator: sum over the discriminators of E[(1 - D(G(s)))^2]."""
    return sum(torch.mean((1 - f.float()) ** 2) for f in fake.scores)


def feature_matching_loss(real: Judgement, fake: Judgement) -> torch.Tensor:
    """Sum over discriminators and layers of the mean L1 distance between real and generated feature maps
    (the real ones are constants)."""
    return sum(
        torch.mean(torch.abs(r.detach().float() - f.float()))
        for real_maps, fake_maps in zip(real.features, fake.features)
        for r, f in zip(real_maps, fake_maps)
    )
