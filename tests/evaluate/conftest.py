"""Two tiny flow runs (a few steps each) on the prepared mini corpus, evaluated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

TINY = [
    "train.max_steps=2",
    "train.batch_size=2",
    "train.log_every=1",
    "train.val_every=2",
    "train.checkpoint_every=2",
    "train.warmup_steps=1",
    "train.num_workers=0",
    "train.val_max_batches=1",
    "model.encoder.hidden_channels=32",
    "model.encoder.filter_channels=64",
    "model.encoder.n_layers=1",
    "model.encoder.duration_filter_channels=32",
    "model.decoder.hidden_channels=16",
    "model.decoder.n_blocks=1",
    "model.decoder.n_layers=1",
]


@pytest.fixture(scope="session")
def tiny_runs(prepared_mini, tmp_path_factory) -> list[Path]:
    """Two flow runs of two steps each, with different seeds."""
    from tts_gen.acoustic_run import train_acoustic

    runs = []
    for seed in (1, 2):
        run = tmp_path_factory.mktemp("runs") / f"flow_seed{seed}"
        train_acoustic(
            ROOT / "egs" / "demo" / "flow.yaml", prepared_mini, run, TINY + [f"train.seed={seed}"], device="cpu"
        )
        runs.append(run)
    return runs


# The second evaluation only synthesizes (and computes the model-side metrics): enough for resuming and reports.
SECOND = ["--skip", "dnsmos", "asr", "robustness", "world", "copy-synthesis", "--diversity-samples", "0"]


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
def tiny_evaluations(tiny_runs, prepared_mini, tmp_path_factory) -> list[Path]:
    """Both runs evaluated through the command line (DNSMOS skipped: it has its own test)."""
    from tts_gen.cli import main

    outs = []
    for index, run in enumerate(tiny_runs):
        out = tmp_path_factory.mktemp("evals") / f"eval{index}"
        extra = ["--sweep", "temperature=0.5", "--sweep", "steps=2,4"] if index == 0 else SECOND
        assert main(evaluate_args(run, prepared_mini, out, *extra)) == 0
        outs.append(out)
    return outs
