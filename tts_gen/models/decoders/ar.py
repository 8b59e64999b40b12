"""Autoregressive decoder: the Tacotron 2 decoder (Shen et al., 2018) made duration-informed.

Frames are generated in steps of ``reduction_factor`` (r) frames. At each step a prenet with dropout reads the
last frame of the previous step, an LSTM stack reads the prenet output together with the condition of the
current step, and a linear layer maps the LSTM output and the condition to a diagonal Gaussian over the r
frames of the step: its mean (added to ``cond``, the encoder's prior mean) and its log standard deviation.
Training is teacher-forced and minimizes the Gaussian negative log-likelihood of each frame given the frames
before it; sampling draws every step from the predicted Gaussian with its standard deviation scaled by
``temperature`` (0 = the mean) and feeds the drawn frame back. A convolutional postnet (Tacotron 2; optional,
on by default) refines the whole generated mel at the end and is trained with the mean squared error of the
refined teacher-forced mean (``ar/postnet``).

Choices: an LSTM rather than a causal Transformer, because its state has a fixed size, so every step costs the
same and synthesis is linear in the length (a Transformer's cache grows with every frame); a Gaussian with a
learned scale rather than L1/L2, so that the loss is a likelihood and ``temperature`` has a meaning; the prenet
dropout that Tacotron 2 keeps on at synthesis is an option, off by default (see :class:`AROptions`).

Changes for tts_gen:

* no attention and no stop token: the shared aligner gives durations, so the condition of step s is simply the
  frames of ``cond`` (the encoder's prior mean expanded to frames) that step s emits, folded into channels and
  seen through a non-causal convolution stack (as DurIAN, Yu et al., 2019, feeds its expanded encoder states);
* the predicted mean is a residual on ``cond``, and the output is a Gaussian (mean and scale) rather than a
  point estimate, so ``ar/nll`` is a likelihood in the same units as the flow's ``flow/nll``
  (nats per mel bin in the normalized mel space);
* Tacotron 2's zoneout is replaced by dropout between LSTM layers, so that training can use the fused LSTM;
  the postnet uses layer normalization and ReLU (the shared :class:`ConvReluNorm`) instead of batch
  normalization and tanh, which would mix padded frames into the statistics.

Synthesis carries the LSTM state from step to step, so its cost is linear in the length: ceil(T / r) calls of
:meth:`ARDecoder.step`, each on a state of fixed size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.conv import ConvReluNorm
from tts_gen.models.layers.masks import pad_to_multiple


@dataclass
class ARDecoderConfig(DecoderConfig):
    """Sizes of the autoregressive decoder (defaults: the sizes of Tacotron 2's decoder, one frame per step).

    Attributes:
        reduction_factor: frames emitted per step (r >= 1; any length works, the last step is padded).
        prenet_channels, prenet_layers, prenet_dropout: the prenet on the previous frame (Tacotron 2: 2 x 256,
            dropout 0.5).
        cond_channels, cond_layers, cond_kernel_size, cond_dropout: the convolution stack that reads the
            condition of each step.
        lstm_channels, lstm_layers, lstm_dropout: the LSTM stack (Tacotron 2: 2 x 1024) and the dropout
            between its layers.
        min_log_scale: soft floor of the predicted log standard deviation (normalized mel units).
        postnet_channels, postnet_layers, postnet_kernel_size, postnet_dropout: the postnet (0 layers = none;
            Tacotron 2: 5 layers of 512, kernel 5, dropout 0.5).
    """

    family: str = "ar"
    reduction_factor: int = 1
    prenet_channels: int = 256
    prenet_layers: int = 2
    prenet_dropout: float = 0.5
    cond_channels: int = 512
    cond_layers: int = 3
    cond_kernel_size: int = 5
    cond_dropout: float = 0.1
    lstm_channels: int = 1024
    lstm_layers: int = 2
    lstm_dropout: float = 0.1
    min_log_scale: float = -4.0
    postnet_channels: int = 512
    postnet_layers: int = 5
    postnet_kernel_size: int = 5
    postnet_dropout: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reduction_factor < 1:
            raise ValueError(f"decoder.reduction_factor must be >= 1, got {self.reduction_factor}")
        for name in ("prenet_layers", "cond_layers", "lstm_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"decoder.{name} must be >= 1, got {getattr(self, name)}")
        if self.postnet_layers < 0:
            raise ValueError(f"decoder.postnet_layers must be >= 0 (0 = no postnet), got {self.postnet_layers}")


@dataclass
class AROptions:
    """Sampling options.

    Attributes:
        temperature: scale of the standard deviation of each step's Gaussian (0 = its mean, 1 = the model's
            own spread). The noise lands on the mel itself, so 0 is the default.
        prenet_dropout: keep the prenet's dropout on at synthesis, as Tacotron 2 does. Off by default: Tacotron 2
            needs it against attention failures, which a duration-informed decoder cannot have, and with it off
            the generated mel came closer to the recording in our small trials.
    """

    temperature: float = 0.0
    prenet_dropout: bool = False

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


@dataclass
class ARState:
    """Recurrent state between steps: hidden and cell state of each LSTM layer, each (B, lstm_channels)."""

    hidden: list[torch.Tensor]
    cell: list[torch.Tensor]


@dataclass
class StepInputs:
    """What synthesis computes once, before the first step.

    Attributes:
        gates: the condition's part of the first LSTM layer's gates plus its biases, (B, S, 4 * lstm_channels).
        output: the condition's part of the output layer plus its bias, with ``cond`` already added to the mean
            half, (B, S, 2 * r * n_mels).
        weights: per LSTM layer, its input and recurrent weights stacked and transposed, (in + H, 4H), so that
            a step is one ``(B, in + H) @ (in + H, 4H)`` product per layer (the fast layout at batch 1).
        biases: per LSTM layer after the first, its two biases summed, (4H,).
        out_weight: the output layer's LSTM weights, transposed, (H, 2 * r * n_mels).
    """

    gates: torch.Tensor
    output: torch.Tensor
    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    out_weight: torch.Tensor


def fold(x: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, C, S * r) frames -> (B, S, r * C) steps: the r frames of each step side by side."""
    batch, channels, length = x.shape
    x = x.view(batch, channels, length // factor, factor).permute(0, 2, 3, 1)  # (B, S, r, C)
    return x.reshape(batch, length // factor, factor * channels)


def unfold(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Inverse of :func:`fold`: (B, S, r * C) steps -> (B, C, S * r) frames."""
    batch, steps, width = x.shape
    x = x.view(batch, steps, factor, width // factor).permute(0, 3, 1, 2)  # (B, C, S, r)
    return x.reshape(batch, width // factor, steps * factor)


class Prenet(nn.Module):
    """Linear -> ReLU -> dropout layers on the previous frame (Tacotron 2): (..., n_mels) -> (..., channels).

    Dropout is applied in training and, when ``always_dropout`` is set, at synthesis too.
    """

    def __init__(self, in_channels: int, channels: int, n_layers: int, dropout: float):
        super().__init__()
        sizes = [in_channels] + [channels] * n_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, always_dropout: bool = False) -> torch.Tensor:
        for layer in self.layers:
            x = F.dropout(torch.relu(layer(x)), self.dropout, training=self.training or always_dropout)
        return x


class Postnet(nn.Module):
    """Residual convolutional refinement of a whole mel (Tacotron 2): (B, n_mels, T) -> (B, n_mels, T)."""

    def __init__(self, n_mels: int, config: ARDecoderConfig):
        super().__init__()
        self.inp = nn.Conv1d(n_mels, config.postnet_channels, 1)
        self.convs = ConvReluNorm(
            config.postnet_channels, config.postnet_layers, config.postnet_kernel_size, config.postnet_dropout
        )
        self.out = nn.Conv1d(config.postnet_channels, n_mels, 1)

    def forward(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (mel + self.out(self.convs(self.inp(mel) * mask, mask))) * mask


def gaussian_nll(target: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor, mask: torch.Tensor):
    """Mean negative log-likelihood of ``target`` under N(mean, exp(log_scale)^2), in nats per valid bin."""
    nll = 0.5 * ((target - mean) * torch.exp(-log_scale)) ** 2 + log_scale + 0.5 * math.log(2 * math.pi)
    return (nll * mask).sum() / (mask.sum() * target.shape[1])


class ARDecoder(Decoder):
    """Duration-informed Tacotron 2 decoder. Loss terms: ``ar/nll`` (nats per mel bin) and, with a postnet,
    ``ar/postnet`` (mean squared error of the refined teacher-forced mean)."""

    options_class = AROptions
    onnx_unsupported = (
        "it generates frame by frame in a loop whose number of steps depends on the text, which a fixed ONNX "
        "graph cannot follow; serve it with `tts-gen serve` or release it with `tts-gen export --format safetensors`"
    )

    def __init__(self, config: ARDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        r = config.reduction_factor
        self.prenet = Prenet(n_mels, config.prenet_channels, config.prenet_layers, config.prenet_dropout)
        self.cond_in = nn.Conv1d(r * n_mels, config.cond_channels, 1)
        self.cond_convs = ConvReluNorm(
            config.cond_channels, config.cond_layers, config.cond_kernel_size, config.cond_dropout
        )
        self.lstm = nn.LSTM(
            config.prenet_channels + config.cond_channels,
            config.lstm_channels,
            config.lstm_layers,
            batch_first=True,
            dropout=config.lstm_dropout if config.lstm_layers > 1 else 0.0,
        )
        self.out_lstm = nn.Linear(config.lstm_channels, 2 * r * n_mels)
        self.out_cond = nn.Linear(config.cond_channels, 2 * r * n_mels, bias=False)
        self.postnet = Postnet(n_mels, config) if config.postnet_layers > 0 else None

    def network_evaluations(self, options: AROptions) -> None:
        return None  # one step per reduction_factor frames

    def loss_keys(self) -> tuple[str, ...]:
        return ("ar/nll", "ar/postnet") if self.postnet is not None else ("ar/nll",)

    # ----------------------------------------------------------------------------------------- shared

    def _padded(self, *tensors: torch.Tensor) -> list[torch.Tensor]:
        return [pad_to_multiple(t, self.config.reduction_factor) for t in tensors]

    def _condition(self, cond: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """cond (B, n_mels, S * r), mask (B, 1, S * r) -> condition features (B, S, cond_channels)."""
        r = self.config.reduction_factor
        step_mask = mask[:, :, ::r]  # (B, 1, S): a step is valid if its first frame is
        h = self.cond_in(fold(cond, r).transpose(1, 2)) * step_mask  # (B, r * n_mels, S) -> (B, C, S)
        return self.cond_convs(h, step_mask).transpose(1, 2)

    def _log_scale(self, raw: torch.Tensor) -> torch.Tensor:
        """Soft floor at ``min_log_scale``: keeps the likelihood bounded and its gradient alive."""
        floor = self.config.min_log_scale
        return floor + F.softplus(raw - floor)

    def _gaussian(self, stats: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Output layer (B, S, 2 r n_mels) -> mean and log-scale, each (B, n_mels, S * r)."""
        mean, raw_scale = stats.chunk(2, dim=-1)
        r = self.config.reduction_factor
        return unfold(mean, r) + cond, unfold(self._log_scale(raw_scale), r)

    def _refine(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.postnet(mel, mask) if self.postnet is not None else mel * mask

    # ----------------------------------------------------------------------------------------- training

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        """Teacher forcing: every step sees the true last frame of the step before it."""
        r, length = self.config.reduction_factor, cond.shape[-1]
        cond, mask, target = self._padded(cond, mask, target)
        features = self._condition(cond, mask)  # (B, S, C)
        last_frames = target[:, :, r - 1 :: r].transpose(1, 2)  # (B, S, n_mels): last frame of each step
        previous = F.pad(last_frames, (0, 0, 1, 0))[:, :-1]  # (B, S, n_mels): zeros before the first step
        lstm_in = torch.cat([self.prenet(previous), features], dim=-1)  # (B, S, P + C)
        hidden, _ = self.lstm(lstm_in)  # (B, S, H)
        mean, log_scale = self._gaussian(self.out_lstm(hidden) + self.out_cond(features), cond)
        terms = {"ar/nll": gaussian_nll(target, mean, log_scale, mask)}
        mel = mean * mask
        if self.postnet is not None:
            mel = self.postnet(mel, mask)
            terms["ar/postnet"] = ((mel - target) ** 2 * mask).sum() / (mask.sum() * self.n_mels)
        return DecoderOutput(terms=terms, mel=mel[..., :length])

    # ----------------------------------------------------------------------------------------- synthesis

    def initial_state(self, batch: int, like: torch.Tensor) -> ARState:
        """Zero hidden and cell states of every LSTM layer, each (B, lstm_channels)."""
        zeros = like.new_zeros(batch, self.config.lstm_channels)
        return ARState(hidden=[zeros] * self.config.lstm_layers, cell=[zeros] * self.config.lstm_layers)

    def step_inputs(self, features: torch.Tensor, cond: torch.Tensor) -> StepInputs:
        """Precomputes every step's condition terms from features (B, S, C) and folded cond (B, S, r n_mels)."""
        prenet_channels = self.config.prenet_channels
        lstm = self.lstm
        w_ih0 = lstm.weight_ih_l0  # (4H, P + C): prenet columns first, condition columns after
        gates = F.linear(features, w_ih0[:, prenet_channels:], lstm.bias_ih_l0 + lstm.bias_hh_l0)  # (B, S, 4H)
        weights = [torch.cat([w_ih0[:, :prenet_channels], lstm.weight_hh_l0], dim=1).t().contiguous()]
        biases = []
        for layer in range(1, self.config.lstm_layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
            weights.append(torch.cat([w_ih, w_hh], dim=1).t().contiguous())  # (H + H, 4H)
            biases.append(getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))
        output = self.out_cond(features) + self.out_lstm.bias + F.pad(cond, (0, cond.shape[-1]))  # (B, S, 2 r M)
        out_weight = self.out_lstm.weight.t().contiguous()
        return StepInputs(gates=gates, output=output, weights=weights, biases=biases, out_weight=out_weight)

    def step(
        self, previous: torch.Tensor, index: int, inputs: StepInputs, state: ARState, options: AROptions
    ) -> tuple[torch.Tensor, ARState]:
        """One decoder step: the previous frame (B, n_mels) -> output-layer values (B, 2 r n_mels) of step
        ``index``. The LSTM cell is computed from ``self.lstm``'s own weights (PyTorch's gate order i, f, g,
        o), one matrix product per layer, because the fused LSTM call is slow for one step at batch 1.

        Returns:
            (output-layer values (B, 2 r n_mels): the mean (cond included) and the raw log-scale, the new state).
        """
        x = self.prenet(previous, always_dropout=options.prenet_dropout)  # (B, P)
        hidden, cell = [], []
        channels = self.config.lstm_channels
        for layer, weight in enumerate(inputs.weights):
            addend = inputs.gates[:, index] if layer == 0 else inputs.biases[layer - 1]
            gates = torch.addmm(addend, torch.cat([x, state.hidden[layer]], dim=-1), weight)  # (B, 4H)
            sigmoids = torch.sigmoid(gates)
            i, f, o = sigmoids[:, :channels], sigmoids[:, channels : 2 * channels], sigmoids[:, 3 * channels :]
            c = torch.addcmul(f * state.cell[layer], i, torch.tanh(gates[:, 2 * channels : 3 * channels]))
            x = o * torch.tanh(c)
            hidden.append(x)
            cell.append(c)
        stats = torch.addmm(inputs.output[:, index], x, inputs.out_weight)
        return stats, ARState(hidden=hidden, cell=cell)

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: AROptions) -> torch.Tensor:
        """cond (B, n_mels, T), mask (B, 1, T) -> mel (B, n_mels, T) in ceil(T / r) steps, zero past the mask."""
        return self.trajectory(cond, mask, options)[-1][1]

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: AROptions) -> list:
        """The frames produced after a third, two thirds and all of the steps (left to right), then the postnet's
        refinement of the whole: (label, mel (B, n_mels, T)) pairs."""
        r, length = self.config.reduction_factor, cond.shape[-1]
        cond_p, mask_p = self._padded(cond, mask)
        features = self._condition(cond_p, mask_p)  # (B, S, C)
        inputs = self.step_inputs(features, fold(cond_p, r))
        state = self.initial_state(cond.shape[0], cond)
        previous = cond.new_zeros(cond.shape[0], self.n_mels)
        frames = []
        for index in range(features.shape[1]):
            stats, state = self.step(previous, index, inputs, state, options)
            mean, raw_scale = stats.chunk(2, dim=-1)  # (B, r * n_mels) each
            if options.temperature > 0:
                scale = torch.exp(self._log_scale(raw_scale))
                mean = mean + options.temperature * scale * torch.randn_like(mean)
            frames.append(mean)
            previous = mean[:, -self.n_mels :]  # the last frame of this step
        mel = unfold(torch.stack(frames, dim=1), r) * mask_p  # (B, S, r * n_mels) -> (B, n_mels, S * r)
        states = []
        for part in (1, 2, 3):
            produced = mel.clone()
            produced[..., part * len(frames) // 3 * r :] = 0
            states.append((f"{part}/3 of the steps", produced[..., :length] * mask))
        refined = self._refine(mel, mask_p)[..., :length] * mask
        return [*states, ("after the postnet" if self.postnet is not None else "sample", refined)]
