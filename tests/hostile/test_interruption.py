"""Interrupted commands: SIGTERM saves a checkpoint as Ctrl-C does, SIGKILL during training or prepare (in a child
process) leaves nothing that a rerun cannot finish, and a damaged newest checkpoint is passed over with a warning."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MINI_CORPUS, ROOT, train_cli
from tests.hostile.conftest import TINY
from tts_gen.audio import AudioConfig
from tts_gen.data.manifest import IncompleteDataError
from tts_gen.data.prepare import prepare_corpus
from tts_gen.data.prepared import open_prepared
from tts_gen.runs import load_checkpoint, step_checkpoints

LONG = [*TINY, "train.max_steps=100000", "train.val_every=100000"]


def start(tmp_path: Path, *arguments) -> subprocess.Popen:
    """`tts-gen ARGUMENTS` in a child process, its output in files (so that no pipe fills up)."""
    command = [sys.executable, "-m", "tts_gen.cli", *map(str, arguments)]
    stdout, stderr = (tmp_path / "stdout.txt").open("w"), (tmp_path / "stderr.txt").open("w")
    return subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=stderr)


def wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the command ended early with status {process.returncode}"
        assert time.monotonic() < deadline, "the command made no progress in time"
        time.sleep(0.1)


def train_args(prepared: Path, run: Path, overrides: list[str]) -> list:
    return ["train", ROOT / "egs" / "demo" / "flow.yaml", "--data", prepared, "--out", run, "--device", "cpu"] + [
        "--set",
        *overrides,
    ]


def test_sigterm_saves_a_checkpoint_like_ctrl_c(prepared_mini, tmp_path, capsys, monkeypatch):
    """A real SIGTERM to this process while training, as a scheduler or `docker stop` sends it."""
    from tts_gen.train.trainer import Trainer

    train_step = Trainer.train_step

    def terminated_at_step_3(self, batch):
        if self.position.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return train_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", terminated_at_step_3)
    run = tmp_path / "run"
    previous = signal.getsignal(signal.SIGTERM)
    assert train_cli("flow", prepared_mini, run, [*LONG, "train.checkpoint_every=100000"]) == 143
    captured = capsys.readouterr()
    assert captured.err.strip().endswith("terminated")
    assert "terminated: saving a checkpoint at step 2" in captured.out
    assert [load_checkpoint(path)["step"] for path in step_checkpoints(run)] == [2]
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is put back
    monkeypatch.undo()
    assert train_cli("flow", prepared_mini, run, [*TINY, "train.max_steps=3"]) == 0
    assert f"resuming {run} from step 2" in capsys.readouterr().out


def test_sigkill_during_training_then_a_rerun_resumes_past_a_damaged_newest_checkpoint(prepared_mini, tmp_path, capsys):
    run = tmp_path / "run"
    process = start(tmp_path, *train_args(prepared_mini, run, [*LONG, "train.checkpoint_every=1", "train.keep_last=2"]))
    wait_for(lambda: len(step_checkpoints(run)) >= 2, process)
    process.kill()
    process.wait(timeout=60)
    older, newest = step_checkpoints(run)[-2:]
    newest.write_bytes(newest.read_bytes()[:1000])  # as a disk that lost the end of the file
    resumed_from, damaged_step = load_checkpoint(older)["step"], int(newest.stem.split("_")[1])
    end = damaged_step + 1  # training passes the damaged step again and overwrites it
    overrides = [*TINY, f"train.max_steps={end}", "train.checkpoint_every=1", "train.keep_last=2"]
    assert train_cli("flow", prepared_mini, run, overrides) == 0
    captured = capsys.readouterr()
    assert f"resuming {run} from step {resumed_from} ({older.name})" in captured.out
    assert f"warning: checkpoint {newest} is corrupt or unreadable" in captured.err
    assert [load_checkpoint(path)["step"] for path in step_checkpoints(run)] == [damaged_step, end]
    assert not list((run / "checkpoints").glob(".*")), "a killed save left its temporary file"


def test_sigkill_during_prepare_then_a_rerun_gives_the_same_folder(prepared_mini, tmp_path):
    out = tmp_path / "data"
    process = start(
        tmp_path, "data", "prepare", "--corpus", "ljspeech-format", "--root", MINI_CORPUS, "--out", out, "--workers", 1
    )
    wait_for(lambda: len(list(out.glob("features/*/*.npy"))) >= 2, process)
    process.kill()
    process.wait(timeout=60)
    with pytest.raises(IncompleteDataError, match="did not finish"):
        open_prepared(out, AudioConfig())
    prepare_corpus(MINI_CORPUS, out, corpus="ljspeech-format", num_workers=1)
    made = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert made == sorted(p.relative_to(prepared_mini) for p in prepared_mini.rglob("*") if p.is_file())
    for relative in made:
        if relative.name == "sources.json":  # the same record, written in another order
            assert json.loads((out / relative).read_text()) == json.loads((prepared_mini / relative).read_text())
        else:
            assert (out / relative).read_bytes() == (prepared_mini / relative).read_bytes(), relative
