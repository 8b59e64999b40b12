"""GAN decoder: a convolutional generator from the condition and noise to the mel, trained against conditional
random-window mel discriminators.

The adversarial setting follows GANSpeech (Yang et al., 2021) and Multi-SpectroGAN (Lee et al., 2021): a
non-autoregressive mel generator, mel discriminators conditioned on the frame-level condition that look at
random windows of several sizes (:mod:`tts_gen.models.layers.discriminator`), the least-squares GAN loss
(Mao et al., 2017), feature matching, and an L1 reconstruction term.

Generator: per-frame Gaussian noise ``z`` (B, noise_channels, T) is concatenated to ``cond``; a 1x1 convolution
lifts ``[cond; z]`` to the hidden size, ``n_stacks`` residual WaveNet stacks (dilations ``dilation_rate ** i``
within each stack) see ``[cond; z]`` again as their local condition at every layer, and a 1x1 convolution gives
a residual added to ``cond``: ``mel = cond + G([cond; z])``. Sampling is one forward pass with
``z ~ N(0, temperature^2 I)``; ``temperature = 0`` gives the deterministic (noise-free) output.

Changes for tts_gen: GANSpeech and Multi-SpectroGAN put the adversarial loss on a FastSpeech 2 decoder fed by
their own variance adaptor; here the generator is a WaveNet-style convolutional stack fed by the shared
encoder's expanded prior mean ``cond`` (normalized mel space), the discriminators are conditioned on that same
``cond``, and the generator predicts a residual over it. The reconstruction term is L1 on normalized mels;
the weights of ``gan/l1``, ``gan/adversarial`` and ``gan/feature_matching`` live in ``train.loss_weights``
(a weight of 0 turns the L1 term off). With a strong L1 term the generator may learn to ignore ``z`` (the
usual conditional-GAN collapse): the spread of :meth:`GANDecoder.generate` over seeds measures how much it
still uses the noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from tts_gen.models.decoders.base import AdversarialDecoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.discriminator import (
    MultiWindowDiscriminator,
    WindowDiscriminatorConfig,
    feature_matching_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from tts_gen.models.layers.masks import masked_mean
from tts_gen.models.layers.wavenet import WaveNetStack
from tts_gen.trainable import AdversarialTerms


@dataclass
class GANDecoderConfig(DecoderConfig):
    """Sizes of the GAN decoder: the generator's WaveNet stacks and the discriminator.

    Attributes:
        noise_channels: channels of the per-frame Gaussian noise (0 = a deterministic generator).
        hidden_channels, kernel_size, dilation_rate, n_layers, dropout: each WaveNet stack of the generator.
        n_stacks: residual WaveNet stacks in a row (dilations restart at 1 in each).
        discriminator: the multi-window discriminator.
    """

    family: str = "gan"
    noise_channels: int = 16
    hidden_channels: int = 192
    kernel_size: int = 5
    dilation_rate: int = 2
    n_layers: int = 4
    n_stacks: int = 3
    dropout: float = 0.0
    discriminator: WindowDiscriminatorConfig = field(default_factory=WindowDiscriminatorConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.noise_channels < 0 or self.n_stacks < 1 or self.n_layers < 1:
            raise ValueError("decoder.noise_channels must be >= 0 and decoder.n_stacks, decoder.n_layers >= 1")


@dataclass
class GANOptions:
    """Sampling options: ``temperature`` scales the standard deviation of the generator's noise (training
    uses 1; 0 gives the noise-free output)."""

    temperature: float = 1.0


class Generator(nn.Module):
    """[cond; z] (B, n_mels + noise_channels, T), mask (B, 1, T) -> residual over cond (B, n_mels, T)."""

    def __init__(self, config: GANDecoderConfig, n_mels: int):
        super().__init__()
        in_channels = n_mels + config.noise_channels
        self.pre = nn.Conv1d(in_channels, config.hidden_channels, 1)
        self.stacks = nn.ModuleList(
            WaveNetStack(
                config.hidden_channels,
                config.kernel_size,
                config.dilation_rate,
                config.n_layers,
                in_channels,
                config.dropout,
            )
            for _ in range(config.n_stacks)
        )
        self.post = nn.Conv1d(config.hidden_channels, n_mels, 1)

    def forward(self, cond_noise: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.pre(cond_noise) * mask
        for stack in self.stacks:
            h = (h + stack(h, mask, cond_noise)) * mask
        return self.post(h) * mask


class GANDecoder(AdversarialDecoder):
    """Generator + multi-window discriminator. Loss terms: ``gan/l1`` (mean absolute error per mel bin, in
    normalized mel space), ``gan/adversarial`` and ``gan/feature_matching`` (generator side) and
    ``gan/discriminator`` (discriminator side)."""

    options_class = GANOptions

    def __init__(self, config: GANDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        self.generator = Generator(config, n_mels)
        self.discriminator = MultiWindowDiscriminator(config.discriminator, n_mels, n_mels)

    def loss_keys(self) -> tuple[str, ...]:
        return ("gan/l1", "gan/adversarial", "gan/feature_matching", "gan/discriminator")

    def _generate(self, cond: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
        return self._crossing(cond, mask, temperature)[-1][1]

    def _crossing(self, cond: torch.Tensor, mask: torch.Tensor, temperature: float) -> list:
        batch, _, length = cond.shape
        noise = temperature * torch.randn(
            batch, self.config.noise_channels, length, device=cond.device, dtype=cond.dtype
        )
        cond_noise = torch.cat([cond, noise], dim=1) * mask  # (B, n_mels + noise_channels, T)
        return [("noise", noise * mask), ("generated mel", (cond + self.generator(cond_noise, mask)) * mask)]

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        mel = self._generate(cond, mask, temperature=1.0)
        return DecoderOutput(terms={"gan/l1": masked_mean((mel - target).abs(), mask)}, mel=mel)

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: GANOptions) -> torch.Tensor:
        return self._generate(cond, mask, options.temperature)

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: GANOptions) -> list:
        """The generator's noise and its one-pass output."""
        return self._crossing(cond, mask, options.temperature)

    def discriminator_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        pairs = self.discriminator(batch.real, batch.fake.detach(), batch.cond.detach(), batch.mask)
        return {"gan/discriminator": lsgan_discriminator_loss(pairs)}

    def adversarial_loss(self, batch: AdversarialTerms) -> dict[str, torch.Tensor]:
        # The condition is held fixed here: the encoder learns from the generator's terms, not from the
        # discriminator's view of the condition.
        pairs = self.discriminator(batch.real, batch.fake, batch.cond.detach(), batch.mask)
        return {"gan/adversarial": lsgan_generator_loss(pairs), "gan/feature_matching": feature_matching_loss(pairs)}
