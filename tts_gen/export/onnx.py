"""ONNX graphs of a trained voice: the acoustic model (token ids -> mel) and the HiFi-GAN vocoder (mel -> audio).

The acoustic graph runs the model's own synthesis (:meth:`tts_gen.models.tts.TTSModel.synthesize`: encoder,
predicted durations, the decoder family's ``generate`` with its sampler) and has the interface of the Matcha-TTS
models of sherpa-onnx:

    inputs   x (B, T) int64 token ids, x_length (B,) int64, noise_scale (1,) float32 (the sampling temperature),
             length_scale (1,) float32 (> 1 speaks slower)
    outputs  mel (B, n_mels, T_mel) raw natural-log mel, zero past mel_length (B,) int64

The graph accepts ids as Matcha-TTS runtimes send them: it drops blanks (the padding id between tokens, which
sherpa-onnx inserts) and a word boundary at the very start, and puts back the word boundary after a pause mark
(which sherpa-onnx's frontend drops) and the word boundaries of the text's two ends (the edge pauses of
:class:`tts_gen.text.TextConfig`), so that sherpa-onnx and tts_gen feed the model the same tokens. The
family's other sampling options (steps, sampler...) are fixed when the graph is made. The noise of the stochastic
families is drawn inside the graph (RandomNormalLike).

The graphs are traced by PyTorch's TorchScript-based exporter: it follows the data-dependent number of mel frames
through tensor operations and exports a model in seconds, where the torch.export-based exporter needs minutes for
an unrolled sampler and cannot follow the frame count through the families' length arithmetic. Every exported
acoustic graph is checked against PyTorch at several lengths before it is kept (:func:`check_acoustic`).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tts_gen.errors import TTSGenError
from tts_gen.export.runtime import ACOUSTIC_INPUTS, ACOUSTIC_OUTPUTS, run_acoustic, session
from tts_gen.models.tts import TTSModel
from tts_gen.vocoders.hifigan import HiFiGANGenerator

OPSET = 17
VOCODER_INPUTS = ("mel",)
VOCODER_OUTPUTS = ("audio",)
# Largest difference allowed between the exported graph and PyTorch (natural-log mel units / waveform units).
MEL_TOLERANCE = 1e-3
AUDIO_TOLERANCE = 1e-3


class ExportError(TTSGenError):
    """A model cannot be exported, or its exported graph does not compute what PyTorch computes."""


def compact(x: torch.Tensor, keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Moves the tokens of ``x`` (B, T) where ``keep`` (B, T) is true to the left, in order; the rest is zero.
    Returns the tokens (B, T) and their counts (B,)."""
    positions = torch.arange(x.shape[1], device=x.device)
    rank = keep.long().cumsum(1)  # (B, T): kept tokens up to each position
    lengths = rank[:, -1]
    # output j takes the first position whose rank is j + 1, i.e. the count of positions with rank <= j
    source = (rank.unsqueeze(1) <= positions.view(1, -1, 1)).long().sum(-1)  # (B, T_out, T_in) -> (B, T_out)
    source = source.clamp(max=x.shape[1] - 1)
    return torch.gather(x, 1, source) * (positions.unsqueeze(0) < lengths.unsqueeze(1)), lengths


def insert_boundaries(
    x: torch.Tensor, lengths: torch.Tensor, pause_ids: torch.Tensor, boundary_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Puts a word boundary after every pause mark that a unit other than a boundary or pause mark follows.

    Shapes: x (B, T) zero-padded, lengths (B,), pause_ids (P,) -> (B, 2T) and (B,).
    """
    batch, width = x.shape
    positions = torch.arange(width, device=x.device).unsqueeze(0)  # (1, T)
    valid = positions < lengths.unsqueeze(1)
    pause = (x.unsqueeze(-1) == pause_ids).long().sum(-1) > 0  # (B, T)
    following = torch.cat([x[:, 1:], x[:, :1]], dim=1)
    follows = torch.cat([valid[:, 1:], torch.zeros_like(valid[:, :1])], dim=1)
    inserted = pause & follows & (following != boundary_id) & ~torch.cat([pause[:, 1:], pause[:, :1]], dim=1)
    before = inserted.long().cumsum(1) - inserted.long()  # insertions before each token
    target = positions + before  # (B, T): where each token goes
    out = torch.arange(2 * width, device=x.device).view(1, -1, 1)  # (1, 2T, 1)
    count = ((target.unsqueeze(1) <= out) & valid.unsqueeze(1)).long().sum(-1)  # (B, 2T, T) -> (B, 2T)
    index = (count - 1).clamp(min=0)  # the last token at or before each output position
    token = torch.gather(x, 1, index)
    landed = torch.gather(target, 1, index) == out.view(1, -1)
    new_lengths = lengths + inserted.long().sum(1)
    result = torch.where(landed, token, torch.full_like(token, boundary_id))
    return result * (out.view(1, -1) < new_lengths.unsqueeze(1)), new_lengths


def frame_with_boundaries(
    x: torch.Tensor, lengths: torch.Tensor, boundary_id: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Puts a word boundary before the first token and after the last (the model's edge pauses).

    Shapes: x (B, T) zero-padded, lengths (B,) -> (B, T + 2) zero-padded, and (B,).
    """
    edge = torch.full_like(x[:, :1], boundary_id)
    framed = torch.cat([edge, x, torch.zeros_like(edge)], dim=1)
    positions = torch.arange(framed.shape[1], device=x.device).unsqueeze(0)
    closing = positions == (lengths + 1).unsqueeze(1)
    return torch.where(closing, torch.full_like(framed, boundary_id), framed), lengths + 2


def speakable_tokens(
    x: torch.Tensor,
    x_length: torch.Tensor,
    pad_id: int,
    boundary_id: int,
    pause_ids: torch.Tensor,
    edge_pauses: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids as Matcha-TTS runtimes send them -> the ids tts_gen's frontend gives: blanks (``pad_id``) and a
    word boundary that starts the text are dropped, and a word boundary follows every pause mark inside the
    text; with ``edge_pauses``, a word boundary that ends the text is dropped too and exactly one is put at each
    end. Only tensor operations (no Python control flow on values), so that the exported graph does the same.

    Shapes: x (B, T), x_length (B,) -> (B, 2T) zero-padded (2T + 2 with ``edge_pauses``), and (B,).
    """
    positions = torch.arange(x.shape[1], device=x.device).unsqueeze(0)  # (1, T)
    keep = (x != pad_id) & (positions < x_length.unsqueeze(1))
    rank = keep.long().cumsum(1)  # (B, T): kept tokens up to each position
    ends = rank == 1
    if edge_pauses:
        ends = ends | (rank == rank[:, -1:])
    x, lengths = compact(x, keep & ~(ends & (x == boundary_id)))
    x, lengths = insert_boundaries(x, lengths, pause_ids, boundary_id)
    return frame_with_boundaries(x, lengths, boundary_id) if edge_pauses else (x, lengths)


def check_exportable(model: TTSModel) -> None:
    """Raises :class:`ExportError` when the model's family cannot become a fixed ONNX graph."""
    if model.decoder.onnx_unsupported:
        raise ExportError(
            f"the {model.decoder.config.family} family cannot be exported to ONNX: {model.decoder.onnx_unsupported}"
        )


class AcousticGraph(nn.Module):
    """The acoustic model with the interface above; ``options`` are the family's sampling options, whose
    ``temperature`` (if the family has one) becomes the ``noise_scale`` input. The mel ends at the longest item's
    spoken length: the frames a decoder's multiple adds (the flow's squeeze) are not returned, so a runtime that
    vocodes the whole mel of one sentence (sherpa-onnx) speaks exactly the frames tts_gen does."""

    def __init__(
        self,
        model: TTSModel,
        options: Any,
        pad_id: int,
        boundary_id: int,
        pause_ids: list[int],
        edge_pauses: bool = False,
    ):
        super().__init__()
        check_exportable(model)
        self.model = model
        self.options = options
        self.pad_id, self.boundary_id, self.edge_pauses = pad_id, boundary_id, edge_pauses
        self.register_buffer("pause_ids", torch.tensor(pause_ids, dtype=torch.long))
        self.eval()  # the exporter puts the wrapper, and so the model, back in the mode it finds it in

    def forward(
        self, x: torch.Tensor, x_length: torch.Tensor, noise_scale: torch.Tensor, length_scale: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x, x_length = speakable_tokens(x, x_length, self.pad_id, self.boundary_id, self.pause_ids, self.edge_pauses)
        options = copy.copy(self.options)
        if "temperature" in {f.name for f in dataclasses.fields(options)}:
            options.temperature = noise_scale  # a tensor: it stays an input of the graph
        synthesis = self.model.synthesize(x, x_length, options, length_scale)
        return synthesis.mel[:, :, : synthesis.lengths.max()], synthesis.lengths


class VocoderGraph(nn.Module):
    """The HiFi-GAN generator with weight norm folded: mel (B, n_mels, T) -> audio (B, T * hop) in [-1, 1]."""

    def __init__(self, generator: HiFiGANGenerator):
        super().__init__()
        self.generator = copy.deepcopy(generator).remove_weight_norm()
        self.eval()

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.generator(mel)[:, 0]


def _register_symbolics() -> None:
    """ONNX forms of the two operators the families use that the exporter lacks."""

    def expm1(g, x):
        one = g.op("CastLike", g.op("Constant", value_t=torch.tensor(1.0)), x)
        return g.op("Sub", g.op("Exp", x), one)

    def linalg_inv(g, x):  # the flow's 1x1 convolutions; ONNX has no inverse, onnxruntime's contrib domain has
        return g.op("com.microsoft::Inverse", x)

    torch.onnx.register_custom_op_symbolic("aten::expm1", expm1, OPSET)
    torch.onnx.register_custom_op_symbolic("aten::linalg_inv", linalg_inv, OPSET)


def _trace(module: nn.Module, example: tuple, path: Path, inputs, outputs, dynamic: dict) -> None:
    _register_symbolics()
    with warnings.catch_warnings():
        # the TorchScript exporter warns that it is legacy, and about every Python number it records as a
        # constant (the sampler's step sizes, fixed at export); check_acoustic tests what it recorded
        warnings.simplefilter("ignore")
        with torch.no_grad():
            torch.onnx.export(
                module,
                example,
                str(path),
                input_names=list(inputs),
                output_names=list(outputs),
                dynamic_axes=dynamic,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )


def declare_inputs(path: Path, inputs: dict[str, tuple[int, list]]) -> None:
    """Makes the graph's inputs exactly ``inputs``, in that order: the traced graph leaves out an input that this
    family ignores (the ``noise_scale`` of a deterministic family), and runtimes such as sherpa-onnx pass every
    input of the interface by position."""
    import onnx

    model = onnx.load(str(path))
    present = {value.name: value for value in model.graph.input}
    ordered = [
        present.get(name) or onnx.helper.make_tensor_value_info(name, kind, shape)
        for name, (kind, shape) in inputs.items()
    ]
    del model.graph.input[:]
    model.graph.input.extend(ordered)
    onnx.save(model, str(path))


def set_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """Writes ``metadata`` (values as text) into the model's metadata_props, which runtimes read."""
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model, str(path))


def export_acoustic(
    model: TTSModel,
    options: Any,
    pad_id: int,
    boundary_id: int,
    pause_ids: list[int],
    path: Path,
    edge_pauses: bool = False,
) -> None:
    """Writes the acoustic graph of ``model`` with the sampling ``options`` fixed (temperature excepted)."""
    import onnx

    graph = AcousticGraph(model, options, pad_id, boundary_id, pause_ids, edge_pauses)
    example = (
        torch.tensor([[3, 10, 1, 20, 30, 12, 2], [14, 1, 15, 16, 0, 0, 0]]),
        torch.tensor([7, 4]),
        torch.tensor([0.5]),
        torch.tensor([1.0]),
    )  # two items of different lengths, so that no size is recorded as a constant
    dynamic = {
        "x": {0: "batch", 1: "tokens"},
        "x_length": {0: "batch"},
        "mel": {0: "batch", 2: "frames"},
        "mel_length": {0: "batch"},
    }
    _trace(graph, example, path, ACOUSTIC_INPUTS, ACOUSTIC_OUTPUTS, dynamic)
    int64, float32 = onnx.TensorProto.INT64, onnx.TensorProto.FLOAT
    declare_inputs(
        path,
        {
            "x": (int64, ["batch", "tokens"]),
            "x_length": (int64, ["batch"]),
            "noise_scale": (float32, [1]),
            "length_scale": (float32, [1]),
        },
    )


def export_vocoder(generator: HiFiGANGenerator, n_mels: int, path: Path) -> None:
    """Writes the vocoder graph of a trained HiFi-GAN generator."""
    example = (torch.randn(1, n_mels, 24),)
    dynamic = {"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 1: "samples"}}
    _trace(VocoderGraph(generator), example, path, VOCODER_INPUTS, VOCODER_OUTPUTS, dynamic)


def _deterministic_options(options: Any) -> Any:
    if "temperature" in {f.name for f in dataclasses.fields(options)}:
        return dataclasses.replace(options, temperature=0.0)
    return options


@torch.no_grad()
def check_acoustic(path: Path, model: TTSModel, options: Any, samples: list[list[int]]) -> float:
    """Runs the exported graph and PyTorch on token id sequences at temperature 0, together and one by one;
    returns the largest mel difference, or raises :class:`ExportError` when the two disagree.

    A family whose sampler draws noise even at temperature 0 is compared on the mel lengths only.
    """
    acoustic = session(path)
    still = _deterministic_options(options)
    worst = 0.0
    for number, group in enumerate([samples, *([sample] for sample in samples)]):
        x = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in group], batch_first=True)
        lengths = torch.tensor([len(s) for s in group])
        reference = model.synthesize(x, lengths, still)
        if number == 0:
            deterministic = torch.equal(reference.mel, model.synthesize(x, lengths, still).mel)
        exported = run_acoustic(acoustic, group, 0.0, 1.0)
        for i, mel in enumerate(exported):
            expected = reference.mel[i, :, : int(reference.lengths[i])].numpy()
            if mel.shape != expected.shape:
                raise ExportError(
                    f"the exported {model.decoder.config.family} model gives {mel.shape[-1]} frames for "
                    f"{len(group[i])} tokens where PyTorch gives {expected.shape[-1]}: it does not follow the "
                    "length of its input"
                )
            if deterministic:
                worst = max(worst, float(np.abs(mel - expected).max()))
    if worst > MEL_TOLERANCE:
        raise ExportError(
            f"the exported {model.decoder.config.family} model differs from PyTorch by {worst:.2g} "
            f"(tolerance {MEL_TOLERANCE}); the export is not usable"
        )
    return worst


@torch.no_grad()
def check_vocoder(path: Path, generator: HiFiGANGenerator, n_mels: int) -> float:
    """The largest difference between the exported vocoder and the PyTorch generator on random mels."""
    vocoder = session(path)
    worst = 0.0
    for frames in (7, 40):
        mel = torch.randn(1, n_mels, frames, generator=torch.Generator().manual_seed(frames)) - 5.0
        expected = generator(mel)[:, 0].numpy()
        (audio,) = vocoder.run(None, {"mel": mel.numpy()})
        worst = max(worst, float(abs(audio - expected).max()))
    if worst > AUDIO_TOLERANCE:
        raise ExportError(f"the exported vocoder differs from PyTorch by {worst:.2g} (tolerance {AUDIO_TOLERANCE})")
    return worst
