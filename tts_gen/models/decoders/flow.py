"""Normalizing-flow decoder: the Glow-TTS decoder (Kim et al., 2020), conditioned on the shared encoder.

An exactly invertible map f between the mel and a latent z of the same shape, made of ``n_blocks`` blocks of
ActNorm (data-dependent initialisation), an invertible 1x1 convolution over groups of ``n_split`` channels
and an affine coupling layer whose WaveNet network sees the frame-level condition. The mel is first squeezed
by ``n_squeeze`` (frames folded into channels), so lengths are handled in multiples of ``n_squeeze``.

The flow maps the residual ``y - cond`` of the mel y from the shared encoder's expanded prior mean: training
maximizes the exact log-likelihood ``log N(f(y - cond); 0, I) + log|det df/dy|`` (the shift by ``cond`` has a
unit Jacobian, so this is the likelihood of y itself); sampling draws ``z ~ N(0, temperature^2 I)`` and returns
``cond + f^-1(z)``.

Change for tts_gen: in Glow-TTS the encoder's prior N(mu, sigma) is the flow's base distribution and the
coupling networks see no condition. Here the flow models the residual from ``cond`` (as the diffusion and
flow-matching decoders do), so that at initialisation, when ActNorm has centred and scaled the residual and the
couplings are identities, a sample is already ``cond`` plus noise of the residual's size: the family starts
from the encoder's prediction instead of having to learn to reproduce it through its 1x1 convolutions. Every
coupling network also sees ``cond``, so the family sits behind the common interface.

``conditional_base`` restores the other half of Glow-TTS's prior: there the base distribution N(mu, sigma) comes from
the text encoder and is trained by the flow's likelihood; on a frozen shared spine nothing would train it, so a small
network of the decoder predicts z's mean and log standard deviation from ``cond`` (starting at N(0, I)), and
sampling draws ``z ~ N(mean, (temperature * std)^2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.distributed import sum_over_processes
from tts_gen.models.layers.gaussian import DiagonalGaussian
from tts_gen.models.layers.masks import pad_to_multiple
from tts_gen.models.layers.wavenet import WaveNetStack


@dataclass
class FlowDecoderConfig(DecoderConfig):
    """Sizes of the flow decoder (defaults: Glow-TTS on LJSpeech)."""

    family: str = "flow"
    hidden_channels: int = 192
    kernel_size: int = 5
    dilation_rate: int = 1
    n_blocks: int = 12
    n_layers: int = 4
    dropout: float = 0.05
    n_split: int = 4
    n_squeeze: int = 2
    conditional_base: bool = False


@dataclass
class FlowOptions:
    """Sampling options: ``temperature`` scales the standard deviation of z around its mean (Glow-TTS uses 0.667)."""

    temperature: float = 0.667


def squeeze(x: torch.Tensor, mask: torch.Tensor, factor: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, T) -> (B, C * factor, T // factor); a squeezed frame is valid only if all its frames are."""
    batch, channels, length = x.shape
    x = x.view(batch, channels, length // factor, factor).permute(0, 3, 1, 2)
    x = x.reshape(batch, channels * factor, length // factor)
    return x, mask[:, :, factor - 1 :: factor]


def unsqueeze(x: torch.Tensor, mask: torch.Tensor, factor: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`squeeze`: (B, C * factor, T') -> (B, C, T' * factor)."""
    batch, channels, length = x.shape
    x = x.view(batch, factor, channels // factor, length).permute(0, 2, 3, 1)
    x = x.reshape(batch, channels // factor, length * factor)
    return x, mask.repeat_interleave(factor, dim=-1)


class ActNorm(nn.Module):
    """Per-channel affine map, initialised on the first training batch to zero mean and unit variance (Kingma &
    Dhariwal, 2018). Under distributed training the statistics are those of every rank's batch together, so that
    every rank starts from the same weights, the weights one process would get from the whole batch."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1))
        self.register_buffer("initialized", torch.tensor(False))
        self._seen_initialized = False  # the buffer read once on the host, not at every step

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._seen_initialized = False

    def _needs_initialization(self) -> bool:
        if not self._seen_initialized:
            self._seen_initialized = bool(self.initialized)
        return not self._seen_initialized

    @torch.no_grad()
    def _initialize(self, x: torch.Tensor, mask: torch.Tensor) -> None:
        """x (B, C, T), mask (B, 1, T): mean and variance per channel over the valid frames of every rank."""
        count, total = sum_over_processes(mask.sum(), (x * mask).sum(dim=(0, 2), keepdim=True))
        count = count.clamp(min=1)
        mean = total / count
        (squares,) = sum_over_processes((((x - mean) * mask) ** 2).sum(dim=(0, 2), keepdim=True))
        log_scale = -0.5 * torch.log((squares / count).clamp(min=1e-6))
        self.log_scale.copy_(log_scale)
        self.bias.copy_(-mean * torch.exp(log_scale))
        self.initialized.fill_(True)
        self._seen_initialized = True

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and self._needs_initialization():
            self._initialize(x, mask)
        z = (self.bias + torch.exp(self.log_scale) * x) * mask
        logdet = self.log_scale.sum() * mask.sum(dim=(1, 2))  # (B,)
        return z, logdet

    def inverse(self, z: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return (z - self.bias) * torch.exp(-self.log_scale) * mask


class InvertibleConv1x1(nn.Module):
    """Invertible 1x1 convolution mixing channels within groups of ``n_split`` (Glow-TTS's InvConvNear)."""

    def __init__(self, channels: int, n_split: int):
        super().__init__()
        if channels % n_split or n_split % 2:
            raise ValueError(f"n_split ({n_split}) must be even and divide the channels ({channels})")
        self.n_split = n_split
        weight = torch.linalg.qr(torch.randn(n_split, n_split))[0]
        if torch.det(weight) < 0:
            weight[:, 0] = -weight[:, 0]
        self.weight = nn.Parameter(weight)

    def _mix(self, x: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        batch, channels, length = x.shape
        groups = channels // self.n_split
        # Channels are split in two halves, each cut in n_split / 2 parts: element k of group g is
        # channel (k // (n/2)) * C/2 + g * (n/2) + k % (n/2), so each group mixes both coupling halves.
        x = x.view(batch, 2, groups, self.n_split // 2, length).permute(0, 1, 3, 2, 4)
        x = x.reshape(batch, self.n_split, groups, length)
        x = torch.einsum("ij,bjgt->bigt", weight, x)  # (n, n) @ (B, n, groups, T)
        x = x.view(batch, 2, self.n_split // 2, groups, length).permute(0, 1, 3, 2, 4)
        return x.reshape(batch, channels, length) * mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        groups = x.shape[1] // self.n_split
        logdet = torch.slogdet(self.weight.float())[1] * groups * mask.sum(dim=(1, 2))
        return self._mix(x, mask, self.weight), logdet

    def inverse(self, z: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self._mix(z, mask, torch.linalg.inv(self.weight.float()).to(z.dtype))


class AffineCoupling(nn.Module):
    """Affine coupling: the second half of the channels is scaled and shifted by functions of the first half
    and the condition; the output projection starts at zero so every block starts as the identity."""

    def __init__(self, channels: int, cond_channels: int, config: FlowDecoderConfig):
        super().__init__()
        half = channels // 2
        self.start = nn.utils.parametrizations.weight_norm(nn.Conv1d(half, config.hidden_channels, 1))
        self.network = WaveNetStack(
            config.hidden_channels,
            config.kernel_size,
            config.dilation_rate,
            config.n_layers,
            cond_channels,
            config.dropout,
        )
        self.end = nn.Conv1d(config.hidden_channels, channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def _shift_log_scale(self, x0: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor):
        h = self.network(self.start(x0) * mask, mask, cond)
        return self.end(h).chunk(2, dim=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0, x1 = x.chunk(2, dim=1)
        shift, log_scale = self._shift_log_scale(x0, mask, cond)
        z1 = (shift + torch.exp(log_scale) * x1) * mask
        return torch.cat([x0, z1], dim=1), (log_scale * mask).sum(dim=(1, 2))

    def inverse(self, z: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        z0, z1 = z.chunk(2, dim=1)
        shift, log_scale = self._shift_log_scale(z0, mask, cond)
        x1 = (z1 - shift) * torch.exp(-log_scale) * mask
        return torch.cat([z0, x1], dim=1)


class ConditionalBase(nn.Module):
    """The base distribution N(mean, std^2) of z given the condition, per frame and channel, as Glow-TTS's prior
    from its text encoder: a convolution, ReLU and a 1x1 projection whose zero initialisation starts at N(0, I).

    Shapes: cond (B, C, T), mask (B, 1, T) -> Gaussian of (B, C, T)."""

    def __init__(self, channels: int, hidden_channels: int, kernel_size: int):
        super().__init__()
        self.hidden = nn.Conv1d(channels, hidden_channels, kernel_size, padding=kernel_size // 2)
        self.project = nn.Conv1d(hidden_channels, 2 * channels, 1)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, cond: torch.Tensor, mask: torch.Tensor) -> DiagonalGaussian:
        hidden = torch.relu(self.hidden(cond * mask)) * mask
        mean, log_std = self.project(hidden).chunk(2, dim=1)
        return DiagonalGaussian(mean * mask, log_std * mask)


class FlowDecoder(Decoder):
    """Glow-TTS decoder: mel <-> z, exact log-likelihood. Loss term: ``flow/nll`` (nats per mel bin)."""

    options_class = FlowOptions

    def __init__(self, config: FlowDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        self.frame_multiple = config.n_squeeze
        channels = n_mels * config.n_squeeze
        self.flows = nn.ModuleList()
        for _ in range(config.n_blocks):
            self.flows.append(ActNorm(channels))
            self.flows.append(InvertibleConv1x1(channels, config.n_split))
            self.flows.append(AffineCoupling(channels, channels, config))
        self.base = None
        if config.conditional_base:
            self.base = ConditionalBase(channels, config.hidden_channels, config.kernel_size)

    def _base(self, cond_sq: torch.Tensor, mask_sq: torch.Tensor) -> DiagonalGaussian:
        """The distribution of z given the (squeezed) condition: N(0, I) without a conditional base."""
        if self.base is None:
            zeros = torch.zeros_like(cond_sq)
            return DiagonalGaussian(zeros, zeros)
        return self.base(cond_sq, mask_sq)

    def loss_keys(self) -> tuple[str, ...]:
        return ("flow/nll",)

    def _squeezed(self, *tensors: torch.Tensor, mask: torch.Tensor):
        factor = self.config.n_squeeze
        mask = pad_to_multiple(mask, factor)
        out = [squeeze(pad_to_multiple(t, factor), mask, factor)[0] for t in tensors]
        return out, squeeze(mask, mask, factor)[1]

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        (x, cond_sq), mask_sq = self._squeezed(target - cond, cond, mask=mask)
        logdet = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
        for flow in self.flows:
            x, flow_logdet = flow(x, mask_sq, cond_sq)
            logdet = logdet + flow_logdet
        elements = mask_sq.sum() * x.shape[1]
        base = self._base(cond_sq, mask_sq)
        standardized = (x - base.mean) * torch.exp(-base.log_std)
        gaussian = ((0.5 * standardized**2 + base.log_std) * mask_sq).sum() + 0.5 * math.log(2 * math.pi) * elements
        nll = (gaussian - logdet.sum()) / elements
        return DecoderOutput(terms={"flow/nll": nll})

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: FlowOptions) -> torch.Tensor:
        return self.trajectory(cond, mask, options)[-1][1]

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: FlowOptions) -> list:
        """The latent z ~ N(mean, (temperature * std)^2) of the base (unsqueezed to the mel's shape) and its image
        cond + f^-1(z)."""
        length = cond.shape[-1]
        (cond_sq,), mask_sq = self._squeezed(cond, mask=mask)
        z = self._base(cond_sq, mask_sq).sample(mask_sq, options.temperature)
        latent, x = unsqueeze(z, mask_sq, self.config.n_squeeze)[0], z
        for flow in reversed(self.flows):
            x = flow.inverse(x, mask_sq, cond_sq)
        residual, _ = unsqueeze(x, mask_sq, self.config.n_squeeze)
        sample = (cond + residual[..., :length]) * mask
        return [("latent z", latent[..., :length] * mask), ("cond + f^-1(z)", sample)]
