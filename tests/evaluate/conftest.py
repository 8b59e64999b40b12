"""A tiny spine and two tiny flow runs trained on it (a few steps each) on a copy of the prepared mini corpus,
evaluated once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY_ENCODER

TINY = [
    "train.max_steps=2",
    "train.batch_size=2",
    "train.log_every=1",
    "train.val_every=2",
    "train.checkpoint_every=1",
    "train.keep_every=1",
    "train.warmup_steps=1",
    "train.num_workers=0",
    "train.val_max_batches=1",
    *TINY_ENCODER,
    "model.decoder.hidden_channels=16",
    "model.decoder.n_blocks=1",
    "model.decoder.n_layers=1",
]


@pytest.fixture(scope="session")
def evaluation_data(prepared_mini, tmp_path_factory) -> Path:
    """A copy of the prepared mini corpus (the spine's durations are stored inside it)."""
    copy = tmp_path_factory.mktemp("evaluation-data") / "prepared"
    shutil.copytree(prepared_mini, copy)
    return copy


@pytest.fixture(scope="session")
def spine_run(evaluation_data, tmp_path_factory) -> Path:
    """A tiny prior run, the spine of the flow runs, with its durations stored by `tts-gen align`."""
    from tts_gen.acoustic_run import train_acoustic
    from tts_gen.cli import main

    run = tmp_path_factory.mktemp("runs") / "prior"
    overrides = [*TINY_ENCODER, "train.max_steps=2", "train.batch_size=2", "train.num_workers=0", "train.val_every=2"]
    train_acoustic(ROOT / "egs" / "demo" / "prior.yaml", evaluation_data, run, overrides, device="cpu")
    assert main(["align", "--checkpoint", str(run), "--data", str(evaluation_data)]) == 0
    return run


@pytest.fixture(scope="session")
def tiny_runs(evaluation_data, spine_run, tmp_path_factory) -> list[Path]:
    """Two flow runs of two steps each on the spine, with different seeds (every step checkpoint kept)."""
    from tts_gen.acoustic_run import train_acoustic

    runs = []
    for seed in (1, 2):
        run = tmp_path_factory.mktemp("runs") / f"flow_seed{seed}"
        overrides = [*TINY, f"train.seed={seed}", f"spine={spine_run}"]
        train_acoustic(ROOT / "egs" / "demo" / "flow.yaml", evaluation_data, run, overrides, device="cpu")
        runs.append(run)
    return runs


# The second evaluation only synthesizes (and computes the model-side metrics): enough for resuming and reports.
SECOND = ["--skip", "dnsmos", "asr", "robustness", "world", "copy-synthesis", "--diversity-samples", "0"]
# The first also chooses its temperature on the validation split and scores its learning curve.
FIRST = [
    "--sweep", "temperature=0.5", "--sweep", "steps=2,4", "--choose", "temperature=0,0.3",
    "--choose-utts", "1", "--learning-curve", "--curve-utts", "1",
]  # fmt: skip


def evaluate_args(run: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "evaluate",
        "--checkpoint",
        str(run),
        "--data",
        str(data),
        "--out",
        str(out),
        "--max-utts",
        "1",
        "--diversity-samples",
        "2",
        "--robustness-max",
        "1",
        "--skip",
        "dnsmos",
        *extra,
    ]


@pytest.fixture(scope="session")
def tiny_evaluations(tiny_runs, evaluation_data, tmp_path_factory) -> list[Path]:
    """Both runs evaluated through the command line (DNSMOS skipped: it has its own test)."""
    from tts_gen.cli import main

    outs = []
    for index, run in enumerate(tiny_runs):
        out = tmp_path_factory.mktemp("evals") / f"eval{index}"
        assert main(evaluate_args(run, evaluation_data, out, *(FIRST if index == 0 else SECOND))) == 0
        outs.append(out)
    return outs
