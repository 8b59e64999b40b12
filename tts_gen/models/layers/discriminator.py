"""Conditional random-window mel discriminators and the least-squares adversarial losses.

A :class:`MultiWindowDiscriminator` holds one :class:`WindowDiscriminator` per window size. Each one looks at a
random window of the mel (the same window of the real and of the generated mel, and of the frame-level
condition), as the random window discriminators of GAN-TTS (Binkowski et al., 2019) do on waveforms and the
multi-window conditional mel discriminators of Multi-SpectroGAN (Lee et al., 2021) and GANSpeech (Yang et al.,
2021) do on mels. Small windows judge local texture, large ones longer structure. Windows are drawn from the
global torch random number generator, so a resumed run draws the same windows.

Every discriminator is a stack of 1-D convolutions over time (mel bins are channels) that outputs a score per
position (a "patch" discriminator over time); the condition enters through a 1x1 projection added to the first
layer. Losses are the least-squares GAN objectives (Mao et al., 2017) and feature matching (Larsen et al.,
2016; MelGAN, Kumar et al., 2019), all averaged over valid positions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from tts_gen.models.layers.masks import masked_mean, random_segments

LEAKY_SLOPE = 0.2


@dataclass
class WindowDiscriminatorConfig:
    """Sizes of the multi-window discriminator.

    Attributes:
        windows: window length in frames of each discriminator (one discriminator per entry).
        channels: hidden channels of every discriminator.
        n_layers: strided convolutions after the first layer (each halves the time resolution by ``stride``).
        kernel_size: odd kernel size of every convolution.
        stride: time stride of the strided convolutions.
    """

    windows: list[int] = field(default_factory=lambda: [32, 64, 128])
    channels: int = 128
    n_layers: int = 3
    kernel_size: int = 5
    stride: int = 2

    def __post_init__(self) -> None:
        if not self.windows or min(self.windows) < 1:
            raise ValueError(f"discriminator.windows must be a non-empty list of positive lengths, got {self.windows}")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"discriminator.kernel_size must be odd, got {self.kernel_size}")


@dataclass
class DiscriminatorOutput:
    """What one discriminator says about a batch of windows.

    scores: (B, 1, W_out) per-position scores, zero past ``score_mask`` (B, 1, W_out);
    features: hidden activations (B, channels, W_i) of each layer, zero past ``feature_masks[i]`` (B, 1, W_i).
    """

    scores: torch.Tensor
    score_mask: torch.Tensor
    features: list[torch.Tensor]
    feature_masks: list[torch.Tensor]


@dataclass
class WindowPair:
    """The same random window of the real and the generated mel, judged by one discriminator."""

    real: DiscriminatorOutput
    fake: DiscriminatorOutput


class WindowDiscriminator(nn.Module):
    """Conditional convolutional discriminator of mel windows.

    Shapes: mel (B, n_mels, W), cond (B, cond_channels, W), mask (B, 1, W) -> :class:`DiscriminatorOutput`.
    """

    def __init__(self, config: WindowDiscriminatorConfig, n_mels: int, cond_channels: int):
        super().__init__()
        self.stride = config.stride
        padding = config.kernel_size // 2
        channels = config.channels
        self.mel_in = weight_norm(nn.Conv1d(n_mels, channels, config.kernel_size, padding=padding))
        self.cond_in = weight_norm(nn.Conv1d(cond_channels, channels, 1))
        self.layers = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, config.kernel_size, stride=config.stride, padding=padding))
            for _ in range(config.n_layers)
        )
        self.out = weight_norm(nn.Conv1d(channels, 1, 3, padding=1))
        self.activation = nn.LeakyReLU(LEAKY_SLOPE)

    def forward(self, mel: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor) -> DiscriminatorOutput:
        h = self.activation(self.mel_in(mel * mask) + self.cond_in(cond * mask)) * mask
        features, feature_masks = [h], [mask]
        for layer in self.layers:
            # An odd kernel with "same" padding and stride s gives ceil(W / s) outputs, centred on frames 0, s, 2s...
            mask = mask[..., :: self.stride]
            h = self.activation(layer(h)) * mask
            features.append(h)
            feature_masks.append(mask)
        scores = self.out(h) * mask
        return DiscriminatorOutput(scores=scores, score_mask=mask, features=features, feature_masks=feature_masks)


class MultiWindowDiscriminator(nn.Module):
    """One :class:`WindowDiscriminator` per window size in ``config.windows``.

    Shapes: real, fake (B, n_mels, T), cond (B, cond_channels, T), mask (B, 1, T) -> one :class:`WindowPair`
    per window size. Windows longer than the batch are cut to its length; items shorter than a window are
    zero-padded and masked.
    """

    def __init__(self, config: WindowDiscriminatorConfig, n_mels: int, cond_channels: int):
        super().__init__()
        self.windows = list(config.windows)
        self.discriminators = nn.ModuleList(WindowDiscriminator(config, n_mels, cond_channels) for _ in self.windows)

    def forward(
        self, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor
    ) -> list[WindowPair]:
        n_mels, cond_channels = real.shape[1], cond.shape[1]
        stacked = torch.cat([real, fake, cond, mask], dim=1)  # (B, 2 * n_mels + cond_channels + 1, T)
        lengths = mask.sum(dim=(1, 2)).long()
        pairs = []
        for window, discriminator in zip(self.windows, self.discriminators):
            cut, _ = random_segments(stacked, lengths, min(window, stacked.shape[-1]))
            real_w, fake_w, cond_w, mask_w = cut.split([n_mels, n_mels, cond_channels, 1], dim=1)
            # Real and generated windows go through the discriminator as one batch of 2B items.
            both = discriminator(torch.cat([real_w, fake_w]), torch.cat([cond_w, cond_w]), torch.cat([mask_w, mask_w]))
            pairs.append(WindowPair(real=_half(both, 0), fake=_half(both, 1)))
        return pairs


def _half(output: DiscriminatorOutput, index: int) -> DiscriminatorOutput:
    """The first (index 0) or second (index 1) half of a discriminator output along the batch."""

    def take(x: torch.Tensor) -> torch.Tensor:
        return x.chunk(2, dim=0)[index]

    return DiscriminatorOutput(
        scores=take(output.scores),
        score_mask=take(output.score_mask),
        features=[take(f) for f in output.features],
        feature_masks=[take(m) for m in output.feature_masks],
    )


def lsgan_discriminator_loss(pairs: list[WindowPair]) -> torch.Tensor:
    """Least-squares discriminator loss, mean over discriminators of E[(D(real) - 1)^2] + E[D(fake)^2]."""
    losses = [
        masked_mean((pair.real.scores - 1) ** 2, pair.real.score_mask)
        + masked_mean(pair.fake.scores**2, pair.fake.score_mask)
        for pair in pairs
    ]
    return torch.stack(losses).mean()


def lsgan_generator_loss(pairs: list[WindowPair]) -> torch.Tensor:
    """Least-squares generator loss, mean over discriminators of E[(D(fake) - 1)^2]."""
    return torch.stack([masked_mean((pair.fake.scores - 1) ** 2, pair.fake.score_mask) for pair in pairs]).mean()


def feature_matching_loss(pairs: list[WindowPair]) -> torch.Tensor:
    """Mean over discriminators and layers of the L1 distance between the hidden activations of the real
    (held fixed) and the generated windows."""
    losses = [
        masked_mean((real.detach() - fake).abs(), mask)
        for pair in pairs
        for real, fake, mask in zip(pair.real.features, pair.fake.features, pair.fake.feature_masks)
    ]
    return torch.stack(losses).mean()
