"""Shared pieces of the hostile-input tests: a tiny trained run, tiny corpora, and the checks every case makes
(exit status 2, a one-line message, nothing written outside the output folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import TINY_FLOW, train_cli

TINY = [*TINY_FLOW, "train.warmup_steps=1", "train.val_max_batches=1"]


@pytest.fixture(scope="session")
def tiny_run(prepared_mini, tmp_path_factory) -> Path:
    """A tiny flow model trained for 2 steps: checkpoints step 1, step 2 and best.pt."""
    run = tmp_path_factory.mktemp("hostile") / "flow"
    overrides = [*TINY, "train.max_steps=2", "train.checkpoint_every=1", "train.val_every=2", "train.keep_last=2"]
    assert train_cli("flow", prepared_mini, run, overrides) == 0
    return run


def one_line_error(capsys, *fragments: str) -> str:
    """The command's error: one line ``tts-gen ...: error: ...`` that holds every fragment, last on stderr
    (after progress bars), and no traceback."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and err.endswith(errors[0]), err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def files_under(root: Path, outside: Path | None = None) -> dict[Path, tuple[int, int]]:
    """``{file: (size, mtime_ns)}`` of every file under ``root`` except those under ``outside``."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and (outside is None or outside not in path.parents):
            found[path] = (path.stat().st_size, path.stat().st_mtime_ns)
    return found


class Sandbox:
    """A test's folder: inputs under it, the output folder ``out`` deep inside (so that ``..`` ids stay in it),
    and a check that nothing was written anywhere under it but in ``out``."""

    def __init__(self, root: Path):
        self.root = root
        self.out = root / "a" / "b" / "out"
        self.victim = root / "victim.wav"  # what an escaping id would overwrite
        self.victim.write_bytes(b"a recording that must survive")
        self.seal()

    def seal(self) -> None:
        """Takes the snapshot that :meth:`untouched` compares with (call it after writing a test's inputs)."""
        self.before = files_under(self.root)

    def untouched(self) -> None:
        assert files_under(self.root, outside=self.out) == self.before, "a file was written outside the output folder"


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def tone(seconds: float, rate: int = 22050, channels: int = 1, amplitude: float = 0.3) -> np.ndarray:
    """A 220 Hz tone, (samples,) or (samples, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    wav = (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.stack([wav] * channels, axis=1) if channels > 1 else wav


def make_corpus(root: Path, rows: list[str], wavs: dict[str, np.ndarray | bytes], rate: int = 22050) -> Path:
    """An LJSpeech-layout corpus: ``metadata.csv`` from ``rows`` and ``wavs/<name>.wav`` (arrays are written as
    WAV at ``rate``; bytes as they are)."""
    (root / "wavs").mkdir(parents=True, exist_ok=True)
    for name, content in wavs.items():
        if isinstance(content, bytes):
            (root / "wavs" / f"{name}.wav").write_bytes(content)
        else:
            sf.write(str(root / "wavs" / f"{name}.wav"), content, rate)
    (root / "metadata.csv").write_text("".join(f"{row}\n" for row in rows), encoding="utf-8")
    return root


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run folder that a test may damage."""
    shutil.copytree(run, to)
    return to
