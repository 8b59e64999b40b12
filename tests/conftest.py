"""Shared fixtures: the real LJSpeech clips in tests/data, prepared once per test session, and a tiny acoustic run
and vocoder run trained on them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One test process per core (make test): each keeps torch, and the processes it starts, on one thread.
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)

DATA = Path(__file__).parent / "data"
MINI_CORPUS = DATA / "ljspeech-mini"
ROOT = Path(__file__).parent.parent

# The demo encoder shrunk so that a step takes a fraction of a second on a 2-core CPU (``--set`` overrides).
TINY_ENCODER = [
    "model.encoder.hidden_channels=32",
    "model.encoder.filter_channels=64",
    "model.encoder.n_layers=1",
    "model.encoder.duration_filter_channels=32",
]
# The demo flow config shrunk the same way, with batches of 2 in the main process, logging every step.
TINY_FLOW = [
    *TINY_ENCODER,
    "model.decoder.hidden_channels=32",
    "model.decoder.n_blocks=2",
    "model.decoder.n_layers=2",
    "train.batch_size=2",
    "train.num_workers=0",
    "train.log_every=1",
]


@pytest.fixture(scope="session")
def mini_corpus() -> Path:
    """Nine real LJSpeech 1.1 clips in the LJSpeech layout."""
    return MINI_CORPUS


@pytest.fixture(scope="session")
def prepared_mini(tmp_path_factory) -> Path:
    """The mini corpus prepared with a seeded split (7 train / 1 val / 1 test) and default audio settings."""
    from tts_gen.data.prepare import prepare_corpus

    out = tmp_path_factory.mktemp("prepared") / "mini"
    prepare_corpus(MINI_CORPUS, out, corpus="ljspeech-format", num_workers=1)
    return out


def cli(*args) -> int:
    """`tts-gen ARGS...` in this process (paths may be Path objects); returns the exit status."""
    from tts_gen.cli import main

    return main([str(arg) for arg in args])


def train_cli(family: str, data_dir: Path, run_dir: Path, overrides: list[str]) -> int:
    """`tts-gen train egs/demo/<family>.yaml` on the CPU with ``--set overrides``; returns the exit status."""
    config = ROOT / "egs" / "demo" / f"{family}.yaml"
    return cli("train", config, "--data", data_dir, "--out", run_dir, "--device", "cpu", "--set", *overrides)


@pytest.fixture(scope="session")
def vocoder_run(prepared_mini, tmp_path_factory):
    """A tiny HiFi-GAN trained for 2 steps through ``train_vocoder``."""
    from tests.vocoders.conftest import DEMO, TINY
    from tts_gen.vocoders.run import train_vocoder

    run = tmp_path_factory.mktemp("vocoder") / "hifigan"
    train_vocoder(
        DEMO,
        prepared_mini,
        run,
        [*TINY, "train.max_steps=2", "train.val_every=1000", "train.checkpoint_every=1000"],
        device="cpu",
    )
    return run


@pytest.fixture(scope="session")
def acoustic_run(prepared_mini, tmp_path_factory):
    """A small flow acoustic model (its decoder needs even lengths) trained for 1 step."""
    from tts_gen.acoustic_run import train_acoustic

    run = tmp_path_factory.mktemp("acoustic") / "flow"
    overrides = [
        *TINY_ENCODER,
        "model.decoder.hidden_channels=16",
        "model.decoder.n_blocks=2",
        "train.max_steps=1",
        "train.batch_size=2",
        "train.num_workers=0",
        "train.val_every=1000",
        "train.warmup_steps=1",
    ]
    train_acoustic(ROOT / "egs" / "demo" / "flow.yaml", prepared_mini, run, overrides, device="cpu")
    return run


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test: tiny models gain nothing from a second one, and spin-waiting threads are
    slow on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
