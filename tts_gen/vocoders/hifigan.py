"""The HiFi-GAN generator (Kong et al., 2020): raw log-mel -> waveform, the trained vocoder of tts_gen.

A 7-tap convolution lifts the mel to ``upsample_initial_channel`` channels; each upsampling stage is a leaky
ReLU and a transposed convolution (stride = the stage's rate, channels halved), followed by a multi-receptive
field fusion (MRF): the mean of residual stacks with different kernel sizes and dilations. A last convolution
and tanh give the waveform. V1, V2 and V3 of the paper are configs (``egs/ljspeech/hifigan_v*.yaml``).

Changes for tts_gen: the generator reads the one log-mel of ``tts_gen.audio`` (the HiFi-GAN settings), its
hop must equal the product of the upsampling rates (checked), and it adds what the paper leaves to the
reader: exact chunked (streaming) synthesis from the computed receptive field, and an inference form with
weight norm folded into the weights and the transposed convolutions rewritten as polyphase convolutions
(same output, faster on CPUs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from tts_gen.audio import AudioConfig
from tts_gen.vocoders.base import Vocoder


@dataclass
class HiFiGANGeneratorConfig:
    """Sizes of the generator (defaults: V1 of the paper).

    Attributes:
        upsample_rates: stride of each transposed convolution; their product must equal the hop length.
        upsample_kernel_sizes: kernel of each transposed convolution (``kernel - rate`` must be even).
        upsample_initial_channel: channels after the input convolution; each stage halves them.
        resblock: 1 = two convolutions per dilation (V1, V2), 2 = one convolution per dilation (V3).
        resblock_kernel_sizes: odd kernel of each residual stack of the MRF.
        resblock_dilation_sizes: dilations of each residual stack, in series.
        lrelu_slope: negative slope of the leaky ReLUs.
        final_lrelu_slope: slope of the leaky ReLU before the output convolution (the published model uses
            PyTorch's default, 0.01, there).
        pre_kernel_size / post_kernel_size: odd kernels of the input and output convolutions.
        init_std: standard deviation of the initial weights of the upsampling and residual convolutions.
    """

    upsample_rates: list[int] = field(default_factory=lambda: [8, 8, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 4, 4])
    upsample_initial_channel: int = 512
    resblock: Literal[1, 2] = 1
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])
    resblock_dilation_sizes: list[list[int]] = field(default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]])
    lrelu_slope: float = 0.1
    final_lrelu_slope: float = 0.01
    pre_kernel_size: int = 7
    post_kernel_size: int = 7
    init_std: float = 0.01

    def __post_init__(self) -> None:
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes):
            raise ValueError("vocoder.generator: upsample_rates and upsample_kernel_sizes need one entry per stage")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise ValueError(
                "vocoder.generator: resblock_kernel_sizes and resblock_dilation_sizes need one entry per stack"
            )
        for rate, kernel in zip(self.upsample_rates, self.upsample_kernel_sizes):
            if rate < 1 or kernel < rate or (kernel - rate) % 2:
                raise ValueError(
                    f"vocoder.generator: upsample kernel {kernel} must be >= rate {rate} with an even difference"
                )
        odd = [*self.resblock_kernel_sizes, self.pre_kernel_size, self.post_kernel_size]
        if any(k % 2 == 0 for k in odd):
            raise ValueError(f"vocoder.generator: residual, input and output kernels must be odd, got {odd}")
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            raise ValueError("vocoder.generator: upsample_initial_channel must be divisible by 2 ** number of stages")

    @property
    def hop_length(self) -> int:
        return math.prod(self.upsample_rates)

    def stage_dilations(self, index: int) -> list[list[int]]:
        """Dilations of the layers of residual stack ``index``: each layer is a list of convolutions."""
        dilations = self.resblock_dilation_sizes[index]
        return [[d, 1] for d in dilations] if self.resblock == 1 else [[d] for d in dilations]


def _conv(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1) -> nn.Conv1d:
    """A 'same' convolution (odd kernel) with weight norm."""
    return weight_norm(
        nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=dilation * (kernel_size - 1) // 2)
    )


class ResidualStack(nn.Module):
    """Residual layers in series: ``x = x + conv_n(lrelu(... conv_1(lrelu(x))))`` (HiFi-GAN ResBlock1/2).

    Args:
        channels: channels of x.
        kernel_size: odd kernel of every convolution.
        layer_dilations: one list of dilations per residual layer (one convolution per dilation).
        slope: leaky ReLU slope.

    Shapes: x and activated (B, channels, T) -> (B, channels, T).
    """

    def __init__(self, channels: int, kernel_size: int, layer_dilations: list[list[int]], slope: float):
        super().__init__()
        self.kernel_size = kernel_size
        self.layer_dilations = layer_dilations
        self.slope = slope
        self.layers = nn.ModuleList(
            nn.ModuleList(_conv(channels, channels, kernel_size, d) for d in dilations) for dilations in layer_dilations
        )

    def forward(self, x: torch.Tensor, activated: torch.Tensor) -> torch.Tensor:
        """``activated`` = ``leaky_relu(x, slope)``, computed once by the MRF for all its stacks."""
        for index, convs in enumerate(self.layers):
            h = activated if index == 0 else F.leaky_relu(x, self.slope)
            for conv in convs[:-1]:
                h = conv_leaky_relu(conv, h, self.slope)
            x = conv_plus(convs[-1], h, x)
        return x

    def reach(self) -> int:
        """Samples on either side of an output sample that it depends on."""
        return sum(d * (self.kernel_size - 1) // 2 for dilations in self.layer_dilations for d in dilations)


class MultiReceptiveFieldFusion(nn.Module):
    """MRF: the mean of residual stacks of different kernel sizes and dilations on the same input."""

    def __init__(self, channels: int, config: HiFiGANGeneratorConfig):
        super().__init__()
        self.slope = config.lrelu_slope
        self.stacks = nn.ModuleList(
            ResidualStack(channels, kernel, config.stage_dilations(i), config.lrelu_slope)
            for i, kernel in enumerate(config.resblock_kernel_sizes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = F.leaky_relu(x, self.slope)  # every stack starts with it: computed once
        out = self.stacks[0](x, activated)
        for stack in self.stacks[1:]:
            out = out + stack(x, activated)
        return out / len(self.stacks)

    def reach(self) -> int:
        return max(stack.reach() for stack in self.stacks)


def _has_fused_cpu_convolutions() -> bool:
    """Whether this PyTorch has oneDNN's convolution with a fused element-wise step (used by torch.compile)."""
    try:
        return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
    except (AttributeError, RuntimeError):
        return False


FUSED_CPU_CONVOLUTIONS = _has_fused_cpu_convolutions()


class RowConv(nn.Module):
    """A trained ``Conv1d`` run as a 2-D convolution on (B, C, 1, T) channels-last tensors: the same output,
    in the layout oneDNN's CPU kernels are fastest in (1.4-2.4x faster than (B, C, T) below 256 channels).
    A (B, C, T) input is converted; the output stays (B, C_out, 1, T') channels-last. On the CPU,
    :meth:`then_leaky_relu` and :meth:`plus` fuse the following element-wise step into the convolution."""

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        weight = conv.weight.detach().unsqueeze(2)  # (C_out, C_in / groups, 1, k)
        self.weight = nn.Parameter(weight.contiguous(memory_format=torch.channels_last), requires_grad=False)
        self.bias = nn.Parameter(conv.bias.detach().clone(), requires_grad=False) if conv.bias is not None else None
        self.stride, self.padding, self.dilation = (1, conv.stride[0]), (0, conv.padding[0]), (1, conv.dilation[0])
        self.groups = conv.groups

    @staticmethod
    def rows(x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) or (B, C, 1, T) -> (B, C, 1, T) channels-last."""
        x = x.unsqueeze(2) if x.dim() == 3 else x
        return x.contiguous(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.rows(x), self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def _fused(self, x: torch.Tensor) -> bool:
        return (
            FUSED_CPU_CONVOLUTIONS
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and not torch.is_grad_enabled()
        )

    def _geometry(self) -> tuple[list[int], list[int], list[int], int]:
        return list(self.padding), list(self.stride), list(self.dilation), self.groups

    def then_leaky_relu(self, x: torch.Tensor, slope: float) -> torch.Tensor:
        """``leaky_relu(self(x), slope)``, as one oneDNN call on the CPU."""
        if not self._fused(x):
            return F.leaky_relu(self(x), slope)
        return torch.ops.mkldnn._convolution_pointwise(
            self.rows(x), self.weight, self.bias, *self._geometry(), "leaky_relu", [slope], ""
        )

    def plus(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """``residual + self(x)``, as one oneDNN call on the CPU."""
        if not self._fused(x):
            return residual + self(x)
        return torch.ops.mkldnn._convolution_pointwise.binary(
            self.rows(x), self.rows(residual), self.weight, self.bias, *self._geometry(), "add", None, None, [], None
        )


def conv_leaky_relu(conv: nn.Module, x: torch.Tensor, slope: float) -> torch.Tensor:
    """``leaky_relu(conv(x), slope)``; fused when ``conv`` is a :class:`RowConv` (inference form)."""
    return conv.then_leaky_relu(x, slope) if isinstance(conv, RowConv) else F.leaky_relu(conv(x), slope)


def conv_plus(conv: nn.Module, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """``residual + conv(x)``; fused when ``conv`` is a :class:`RowConv` (inference form)."""
    return conv.plus(x, residual) if isinstance(conv, RowConv) else residual + conv(x)


class PolyphaseUpsample(nn.Module):
    """A trained ``ConvTranspose1d`` rewritten as one ordinary convolution and an interleave (same output),
    on (B, C, 1, T) channels-last tensors like :class:`RowConv`.

    ``ConvTranspose1d(C_in, C_out, k, stride=u, padding=p)`` gives ``y[o, q*u + r - p] = sum_s sum_i
    x[i, q - s] w[i, o, s*u + r]``: for each phase r an ordinary causal convolution with ``ceil(k / u)`` taps.
    The u phases are the ``u * C_out`` channels (phase-major) of one convolution; in channels-last memory,
    (time q, phase r, channel o) is already the order of (time q*u + r, channel o), so interleaving is a view.
    """

    def __init__(self, transposed: nn.ConvTranspose1d):
        super().__init__()
        (rate,), (padding,) = transposed.stride, transposed.padding
        weight = transposed.weight.detach()  # (C_in, C_out, k)
        in_channels, out_channels, kernel = weight.shape
        taps = -(-kernel // rate)
        weight = F.pad(weight, (0, taps * rate - kernel)).view(in_channels, out_channels, taps, rate)  # (C_in, o, s, r)
        weight = (
            weight.flip(2).permute(3, 1, 0, 2).reshape(rate * out_channels, in_channels, 1, taps)
        )  # ((r, o), C_in, 1, s)
        self.weight = nn.Parameter(weight.contiguous(memory_format=torch.channels_last), requires_grad=False)
        bias = transposed.bias.detach() if transposed.bias is not None else torch.zeros(out_channels)
        self.bias = nn.Parameter(bias.repeat(rate), requires_grad=False)
        self.taps, self.rate, self.crop, self.out_channels = taps, rate, padding, out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = RowConv.rows(x)  # (B, C_in, 1, L)
        batch, length = x.shape[0], x.shape[-1]
        z = F.conv2d(x, self.weight, self.bias, padding=(0, self.taps - 1))  # (B, u * C_out, 1, L + taps - 1)
        z = z.permute(0, 2, 3, 1).reshape(batch, 1, -1, self.out_channels)  # (B, 1, (L + taps - 1) * u, C_out)
        z = z.permute(0, 3, 1, 2)  # (B, C_out, 1, (L + taps - 1) * u), channels-last, time q * u + r
        return z[..., self.crop : self.crop + length * self.rate].contiguous(memory_format=torch.channels_last)


class HiFiGANGenerator(nn.Module):
    """Raw natural-log mel (B, n_mels, T) -> waveform (B, 1, T * hop) in [-1, 1].

    Args:
        config: generator sizes.
        n_mels: mel bands of the input.
    """

    def __init__(self, config: HiFiGANGeneratorConfig, n_mels: int):
        super().__init__()
        self.config = config
        self.conv_pre = _conv(n_mels, config.upsample_initial_channel, config.pre_kernel_size)
        self.ups = nn.ModuleList()
        self.mrfs = nn.ModuleList()
        channels = config.upsample_initial_channel
        for rate, kernel in zip(config.upsample_rates, config.upsample_kernel_sizes):
            self.ups.append(
                weight_norm(nn.ConvTranspose1d(channels, channels // 2, kernel, rate, padding=(kernel - rate) // 2))
            )
            channels //= 2
            self.mrfs.append(MultiReceptiveFieldFusion(channels, config))
        self.conv_post = _conv(channels, 1, config.post_kernel_size)
        self._initialize(config.init_std)

    @torch.no_grad()
    def _initialize(self, std: float) -> None:
        for module in [*self.ups, *self.mrfs.modules()]:
            if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
                if parametrize.is_parametrized(module, "weight"):
                    module.parametrizations.weight.original1.normal_(0.0, std)  # direction v; g keeps its norm
                    module.parametrizations.weight.original0.copy_(
                        module.parametrizations.weight.original1.norm(dim=(1, 2), keepdim=True)
                    )
                else:
                    module.weight.normal_(0.0, std)

    @property
    def hop_length(self) -> int:
        return self.config.hop_length

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for up, mrf in zip(self.ups, self.mrfs):
            x = mrf(up(F.leaky_relu(x, self.config.lrelu_slope)))
        x = self.conv_post(F.leaky_relu(x, self.config.final_lrelu_slope))  # (B, 1, T * hop) or (B, 1, 1, T * hop)
        return torch.tanh(x.float()).reshape(x.shape[0], 1, -1)

    # ------------------------------------------------------------------------------------------ inference

    def receptive_field(self) -> int:
        """Mel frames on either side of a frame that its output samples depend on (rounded up)."""
        scale = 1  # samples of the current stage per input frame
        reach = (self.config.pre_kernel_size - 1) / 2
        for rate, kernel, mrf in zip(self.config.upsample_rates, self.config.upsample_kernel_sizes, self.mrfs):
            reach += math.ceil(kernel / rate) / scale  # a transposed convolution reaches ceil(k / u) inputs
            scale *= rate
            reach += mrf.reach() / scale
        reach += (self.config.post_kernel_size - 1) / 2 / scale
        return math.ceil(reach)

    def chunks(self, mel: torch.Tensor, chunk_frames: int, context: int | None = None) -> Iterator[torch.Tensor]:
        """Vocodes ``mel`` (B, n_mels, T) piece by piece; the pieces (B, 1, <= chunk_frames * hop) joined
        equal one pass. Each piece sees ``context`` frames (default: the receptive field) on either side."""
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        context = self.receptive_field() if context is None else context
        total, hop = mel.shape[-1], self.hop_length
        for start in range(0, total, chunk_frames):
            end = min(start + chunk_frames, total)
            left, right = max(0, start - context), min(total, end + context)
            wav = self(mel[..., left:right])  # (B, 1, (right - left) * hop)
            yield wav[..., (start - left) * hop : (end - left) * hop]

    def vocode_chunked(self, mel: torch.Tensor, chunk_frames: int) -> torch.Tensor:
        """(B, n_mels, T) -> (B, 1, T * hop), in pieces of ``chunk_frames`` frames; equals one pass."""
        return torch.cat(list(self.chunks(mel, chunk_frames)), dim=-1)

    def remove_weight_norm(self) -> HiFiGANGenerator:
        """Folds every weight norm into a plain weight (same output; for inference only)."""
        _replace_modules(self, _fold_weight_norm)
        return self

    def for_inference(self) -> HiFiGANGenerator:
        """The same output, faster: weight norm folded, every convolution on channels-last (B, C, 1, T)
        tensors (:class:`RowConv`) and the transposed convolutions made polyphase. Inference only."""
        self.remove_weight_norm()
        _replace_modules(self, _inference_module)
        return self.eval().requires_grad_(False)


def _fold_weight_norm(module: nn.Module) -> nn.Module:
    """A plain copy of a weight-normed convolution (a new module: parametrized classes are shared by copies)."""
    if not (isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)) and parametrize.is_parametrized(module, "weight")):
        return module
    kind = nn.ConvTranspose1d if isinstance(module, nn.ConvTranspose1d) else nn.Conv1d
    plain = kind(
        module.in_channels,
        module.out_channels,
        module.kernel_size,
        stride=module.stride,
        padding=module.padding,
        dilation=module.dilation,
        groups=module.groups,
        bias=module.bias is not None,
    ).to(module.bias.device if module.bias is not None else "cpu")
    with torch.no_grad():
        plain.weight.copy_(module.weight)
        if module.bias is not None:
            plain.bias.copy_(module.bias)
    return plain


def _inference_module(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.ConvTranspose1d):
        return PolyphaseUpsample(module)
    if isinstance(module, nn.Conv1d):
        return RowConv(module)
    return module


def _replace_modules(root: nn.Module, replace) -> None:
    """Replaces every submodule m of ``root`` by ``replace(m)`` (recursing into those it keeps)."""
    for name, child in list(root.named_children()):
        new = replace(child)
        if new is child:
            _replace_modules(child, replace)
        else:
            setattr(root, name, new)


class HiFiGAN(Vocoder):
    """A trained HiFi-GAN generator as a :class:`Vocoder`: raw log-mel (B, n_mels, T) -> (B, T * hop).

    Args:
        generator: the trained generator (it is turned into its inference form: same output, faster).
        audio: the audio settings it was trained with.
        chunk_frames: vocode in pieces of this many frames (exactly equal to one pass, less memory for long
            inputs); 0 = one pass.
    """

    name = "hifigan"

    def __init__(self, generator: HiFiGANGenerator, audio: AudioConfig, chunk_frames: int = 0):
        super().__init__(audio)
        if generator.hop_length != audio.hop_length:
            raise ValueError(f"the generator upsamples by {generator.hop_length}, the audio hop is {audio.hop_length}")
        self.generator = generator.for_inference()
        self.chunk_frames = chunk_frames

    def _check(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.dim() != 3 or mel.shape[1] != self.audio.n_mels:
            raise ValueError(f"expected a log-mel (B, {self.audio.n_mels}, T), got shape {tuple(mel.shape)}")
        return mel.float()

    @torch.no_grad()
    def pieces(self, mel: torch.Tensor, chunk_frames: int) -> Iterator[torch.Tensor]:
        """Exact pieces of ``chunk_frames`` frames (see :meth:`HiFiGANGenerator.chunks`)."""
        for wav in self.generator.chunks(self._check(mel), chunk_frames):
            yield wav[0, 0]

    @torch.no_grad()
    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        mel = self._check(mel)
        if self.chunk_frames:
            return self.generator.vocode_chunked(mel, self.chunk_frames)[:, 0]
        return self.generator(mel)[:, 0]
