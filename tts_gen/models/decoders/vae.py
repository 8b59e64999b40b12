"""Conditional VAE decoder (Kingma & Welling, 2014; Sohn et al., 2015), conditioned on the shared encoder.

Three channels-first WaveNet networks, each conditioned on the frame-level ``cond`` (B, n_mels, T):

* the posterior (recognition) encoder q(z | mel, cond) = N(m_q, s_q^2) sees the target mel;
* the conditional prior p(z | cond) = N(m_p, s_p^2) sees only the condition;
* the decoder p(mel | z, cond) = N(cond + f(z, cond), sigma^2) with a learned standard deviation ``sigma``
  per mel channel (a calibrated Gaussian decoder, as the sigma-VAE of Rybkin et al., 2021).

The latent z is frame-level, (B, z_channels, T), so the family has no length constraint (``frame_multiple`` 1).
Training minimizes the negative ELBO: ``vae/recon`` is the Gaussian negative log-likelihood of the mel and
``vae/kl`` the analytic KL(q || p); both are in nats per mel bin, so (with ``free_bits`` 0) their sum is an
upper bound of the negative log-likelihood in the same unit as ``flow/nll``. A KL annealing ramp comes from
the trainer (``train.loss_warmup: {"vae/kl": N}``) and ``free_bits`` optionally floors the KL of each latent
channel (Kingma et al., 2016). Sampling draws ``z = m_p + temperature * s_p * eps`` from the prior and returns the
decoder's mean.

What is taken from VITS (Kim et al., 2021): a WaveNet posterior encoder over the spectrogram (16 layers of 192
channels, kernel 5, at the full size), a text-conditioned prior whose KL to the posterior trains both networks
at once, and the 0.667 sampling temperature. What is changed for the shared encoder: VITS's prior is the
text encoder's token-level Gaussian, mapped to frames by MAS and refined by a flow, and its decoder is a
waveform generator; here the alignment lives outside the decoder, the prior is a WaveNet over the shared
encoder's expanded mean ``cond`` (no flow), the posterior also sees ``cond`` (Sohn's recognition network
q(z | x, y)), and the decoder outputs a mel, predicted as a residual on ``cond``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.gaussian import DiagonalGaussian
from tts_gen.models.layers.wavenet import WaveNetStack


@dataclass
class WaveNetSize:
    """Sizes of one WaveNet network of the VAE (see :class:`tts_gen.models.layers.wavenet.WaveNetStack`)."""

    hidden_channels: int = 192
    kernel_size: int = 5
    dilation_rate: int = 1
    n_layers: int = 4


@dataclass
class VAEDecoderConfig(DecoderConfig):
    """Sizes of the VAE decoder (defaults: the full size of ``egs/ljspeech/vae.yaml``).

    Attributes:
        z_channels: channels of the frame-level latent z (B, z_channels, T).
        posterior, prior, decoder: the three WaveNet networks.
        dropout: dropout inside the WaveNet stacks.
        free_bits: floor, in nats per frame, on the KL of each latent channel averaged over the batch's
            frames (0 = off); a channel under its floor gets no KL gradient, which keeps it from collapsing
            onto the prior.
    """

    family: str = "vae"
    z_channels: int = 80
    posterior: WaveNetSize = field(default_factory=lambda: WaveNetSize(n_layers=16))
    prior: WaveNetSize = field(default_factory=lambda: WaveNetSize(n_layers=4))
    decoder: WaveNetSize = field(default_factory=lambda: WaveNetSize(n_layers=8))
    dropout: float = 0.0
    free_bits: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.z_channels < 1:
            raise ValueError(f"decoder.z_channels must be >= 1, got {self.z_channels}")
        if self.free_bits < 0:
            raise ValueError(f"decoder.free_bits must be >= 0 (0 = off), got {self.free_bits}")


@dataclass
class VAEOptions:
    """Sampling options: ``temperature`` scales the prior's standard deviation (0 = the prior mean)."""

    temperature: float = 0.667

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


def gaussian_kl(q: DiagonalGaussian, p: DiagonalGaussian) -> torch.Tensor:
    """KL(q || p) of two diagonal Gaussians, element-wise (B, z_channels, T), in nats."""
    variance_ratio = torch.exp(2 * (q.log_std - p.log_std))
    mean_term = (q.mean - p.mean) ** 2 * torch.exp(-2 * p.log_std)
    return p.log_std - q.log_std + 0.5 * (variance_ratio + mean_term - 1)


def kl_per_frame(kl: torch.Tensor, mask: torch.Tensor, free_bits: float) -> torch.Tensor:
    """Masked element-wise KL (B, z, T) -> KL in nats per valid frame, summed over latent channels.

    With ``free_bits`` > 0 each channel's mean KL per frame is floored at ``free_bits`` (Kingma et al., 2016).
    """
    frames = mask.sum().clamp(min=1)
    per_channel = (kl * mask).sum(dim=(0, 2)) / frames  # (z,)
    if free_bits > 0:
        per_channel = per_channel.clamp(min=free_bits)
    return per_channel.sum()


class GaussianNetwork(nn.Module):
    """1x1 input projection, a conditioned WaveNet stack and a 1x1 projection to the mean and log standard
    deviation of a diagonal Gaussian. The projection keeps its random initialisation: were both the posterior
    and the prior to start as N(0, I), their KL would have no gradient at all on the first step.

    Shapes: x (B, in_channels, T), mask (B, 1, T), cond (B, cond_channels, T) or None when ``cond_channels``
    is 0 -> Gaussian of (B, out, T).
    """

    def __init__(self, in_channels: int, out_channels: int, cond_channels: int, size: WaveNetSize, dropout: float):
        super().__init__()
        self.start = nn.Conv1d(in_channels, size.hidden_channels, 1)
        self.network = WaveNetStack(
            size.hidden_channels, size.kernel_size, size.dilation_rate, size.n_layers, cond_channels, dropout
        )
        self.end = nn.Conv1d(size.hidden_channels, 2 * out_channels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor | None) -> DiagonalGaussian:
        h = self.network(self.start(x) * mask, mask, cond)
        mean, log_std = (self.end(h) * mask).chunk(2, dim=1)
        return DiagonalGaussian(mean, log_std)


class MelDecoderNetwork(nn.Module):
    """p(mel | z, cond): the mean ``cond + f(z, cond)``, f a WaveNet whose output layer starts at zero.

    Shapes: z (B, z_channels, T), mask (B, 1, T), cond (B, n_mels, T) -> mean mel (B, n_mels, T).
    """

    def __init__(self, z_channels: int, n_mels: int, size: WaveNetSize, dropout: float):
        super().__init__()
        self.start = nn.Conv1d(z_channels, size.hidden_channels, 1)
        self.network = WaveNetStack(
            size.hidden_channels, size.kernel_size, size.dilation_rate, size.n_layers, n_mels, dropout
        )
        self.end = nn.Conv1d(size.hidden_channels, n_mels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def forward(self, z: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.network(self.start(z) * mask, mask, cond)
        return (cond + self.end(h)) * mask


class VAEDecoder(Decoder):
    """Conditional VAE over the mel. Loss terms: ``vae/recon`` and ``vae/kl`` (nats per mel bin)."""

    options_class = VAEOptions

    def __init__(self, config: VAEDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        z = config.z_channels
        self.posterior = GaussianNetwork(n_mels, z, n_mels, config.posterior, config.dropout)
        self.prior = GaussianNetwork(n_mels, z, 0, config.prior, config.dropout)  # its input is cond itself
        self.decoder = MelDecoderNetwork(z, n_mels, config.decoder, config.dropout)
        self.log_sigma = nn.Parameter(torch.zeros(1, n_mels, 1))  # decoder std per mel channel

    def loss_keys(self) -> tuple[str, ...]:
        return ("vae/recon", "vae/kl")

    def reconstruction_nll(self, mean: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Gaussian negative log-likelihood of ``target`` under N(mean, sigma^2), nats per valid mel bin."""
        elements = mask.sum().clamp(min=1) * self.n_mels
        squared = ((target - mean) * torch.exp(-self.log_sigma)) ** 2
        per_bin = 0.5 * squared + self.log_sigma + 0.5 * math.log(2 * math.pi)
        return (per_bin * mask).sum() / elements

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        q = self.posterior(target, mask, cond)
        p = self.prior(cond, mask, None)
        z = q.sample(mask)
        mean = self.decoder(z, mask, cond)
        kl = kl_per_frame(gaussian_kl(q, p), mask, self.config.free_bits) / self.n_mels
        terms = {"vae/recon": self.reconstruction_nll(mean, target, mask), "vae/kl": kl}
        return DecoderOutput(terms=terms, mel=mean)

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: VAEOptions) -> torch.Tensor:
        return self.trajectory(cond, mask, options)[-1][1]

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: VAEOptions) -> list:
        """The latent z drawn from the conditional prior and the mel the decoder makes of it."""
        z = self.prior(cond, mask, None).sample(mask, options.temperature)
        return [("latent z from the prior", z), ("decoded mel", self.decoder(z, mask, cond))]
