"""Helpers shared by the tests of the decoder families: random batches, the CPU-size decoders of egs/demo, and
a two-step training run followed by `tts-gen synth` through the command line."""

from __future__ import annotations

from pathlib import Path

import torch

from tests.conftest import ROOT
from tts_gen.cli import main
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.base import Decoder
from tts_gen.models.decoders.registry import build_decoder
from tts_gen.models.layers.masks import sequence_mask

N_MELS = 80


def random_batch(lengths=(19, 12), noise: float = 0.3, seed: int = 3):
    """A random condition (B, N_MELS, T), its mask (B, 1, T) and a target = condition + ``noise`` x N(0, 1), zero
    past ``lengths``."""
    mask = sequence_mask(torch.tensor(lengths))
    generator = torch.Generator().manual_seed(seed)
    cond = torch.randn(len(lengths), N_MELS, mask.shape[-1], generator=generator) * mask
    target = (cond + noise * torch.randn(cond.shape, generator=generator)) * mask
    return cond, mask, target


def demo_decoder(family: str) -> Decoder:
    """The decoder of ``egs/demo/<family>.yaml``, initialised with seed 0."""
    config = load_experiment(ROOT / "egs" / "demo" / f"{family}.yaml")
    assert config.model.decoder.family == family
    torch.manual_seed(0)
    return build_decoder(config.model.decoder, N_MELS)


def train_two_steps(family: str, data_dir: Path, run_dir: Path, overrides: list[str] = ()) -> Path:
    """Trains ``egs/demo/<family>.yaml`` for two steps through `tts-gen train`; returns the run folder."""
    status = main([
        "train", str(ROOT / "egs" / "demo" / f"{family}.yaml"), "--data", str(data_dir), "--out", str(run_dir),
        "--device", "cpu", "--set", "train.max_steps=2", "train.batch_size=2", "train.val_every=2",
        "train.checkpoint_every=2", "train.sample_every=1000", *overrides,
    ])  # fmt: skip
    assert status == 0
    return run_dir


def synth(run: Path, out: Path, options: list[str], text: str = "Printing, in the only sense.") -> int:
    """`tts-gen synth` of ``text`` with ``options``; returns the exit status."""
    return main(["synth", "--checkpoint", str(run), "--text", text, "--out", str(out), *options])


def train_and_synthesize(family: str, data_dir, tmp_path, capsys, options: list[str], overrides: list[str] = ()):
    """Trains two steps, runs `tts-gen synth` with ``options`` (which must succeed); returns the run folder."""
    run = train_two_steps(family, data_dir, tmp_path / "run", overrides)
    wav = tmp_path / "out.wav"
    assert synth(run, wav, options) == 0
    assert wav.is_file() and wav.stat().st_size > 1000
    capsys.readouterr()
    return run


def synth_error(run, tmp_path, capsys, options: list[str]) -> tuple[int, str]:
    """Exit status and standard error of `tts-gen synth` with the given options."""
    status = synth(run, tmp_path / "x.wav", options, text="Hello.")
    return status, capsys.readouterr().err.strip()


def assert_synth_errors(run, tmp_path, capsys, cases) -> None:
    """Each (options, message) of ``cases`` makes `tts-gen synth` fail with one line that contains the message."""
    for options, message in cases:
        status, error = synth_error(run, tmp_path, capsys, options)
        assert status != 0 and len(error.splitlines()) == 1 and message in error, error
