"""Shared fixtures: the real LJSpeech clips in tests/data, prepared once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MINI_CORPUS = DATA / "ljspeech-mini"
ROOT = Path(__file__).parent.parent


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
