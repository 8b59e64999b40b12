"""Damaged and hostile checkpoints, arrays and configs: a flipped bit, a truncated file with a fallback to an
intact one, pickled code refused and named, a full disk while saving, and configs that are not plain data."""

from __future__ import annotations

import errno
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import ROOT, cli, train_cli
from tests.hostile.conftest import TINY, copy_run, one_line_error
from tts_gen import Synthesizer
from tts_gen.files import ArrayFileError, load_npy
from tts_gen.runs import (
    CheckpointFallbackWarning,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint,
    load_run_checkpoint,
    resolve_checkpoint,
    step_checkpoints,
)


def flip_a_bit(path: Path) -> None:
    """Flips one bit in the middle of the largest tensor stored in a checkpoint (a zip archive)."""
    with zipfile.ZipFile(path) as archive:
        largest = max(archive.infolist(), key=lambda info: info.file_size)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack("<HH", data[largest.header_offset + 26 : largest.header_offset + 30])
    start = largest.header_offset + 30 + name_length + extra_length
    data[start + largest.file_size // 2] ^= 0x08
    path.write_bytes(bytes(data))


def test_a_flipped_bit_is_detected(tiny_run, sandbox, capsys):
    damaged = sandbox.root / "flipped.pt"
    damaged.write_bytes((tiny_run / "checkpoints" / "best.pt").read_bytes())
    flip_a_bit(damaged)
    sandbox.seal()
    with pytest.raises(CorruptCheckpointError, match="do not match its checksum"):
        load_checkpoint(damaged)
    assert cli("synth", "--checkpoint", damaged, "--text", "Hi there.", "--out", sandbox.out / "x.wav") == 2
    one_line_error(capsys, f"checkpoint {damaged} is corrupt: its contents do not match its checksum")
    assert not sandbox.out.exists()
    sandbox.untouched()


def test_a_run_falls_back_to_its_newest_intact_checkpoint_with_a_warning(tiny_run, tmp_path, capsys):
    run = copy_run(tiny_run, tmp_path / "run")
    best = run / "checkpoints" / "best.pt"
    best.write_bytes(best.read_bytes()[: best.stat().st_size // 2])  # truncated
    newest = step_checkpoints(run)[-1]
    with pytest.warns(CheckpointFallbackWarning, match=f"{best} is corrupt or unreadable.*using {newest} instead"):
        payload = load_run_checkpoint(run, "acoustic")
    assert payload["step"] == 2
    with pytest.warns(CheckpointFallbackWarning, match="best.pt"):
        assert resolve_checkpoint(run) == newest  # what evaluate and compare load
    out = tmp_path / "x.wav"
    assert cli("synth", "--checkpoint", run, "--text", "Hi there.", "--out", out) == 0
    err = capsys.readouterr().err
    assert f"tts-gen synth: warning: checkpoint {best} is corrupt" in err and out.is_file()
    flip_a_bit(newest)
    with pytest.warns(CheckpointFallbackWarning) as caught:
        assert load_run_checkpoint(run, "acoustic")["step"] == 1
    assert {str(best), str(newest)} <= {str(w.message).split()[1] for w in caught}
    flip_a_bit(step_checkpoints(run)[0])
    assert cli("synth", "--checkpoint", run, "--text", "Hi there.", "--out", tmp_path / "y.wav") == 2
    one_line_error(capsys, f"checkpoint {best} is corrupt", "(and 2 older checkpoint(s) are damaged too)")


class RunsCode:
    """What a hostile checkpoint pickles: unpickling it would create ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("how", ["torch.save", "pickle protocol 2", "pickle protocol 4"])
def test_pickled_code_is_refused_and_named(sandbox, capsys, how):
    """Pickled code in a checkpoint (as torch.save writes it, or as a plain pickle) is refused before it runs."""
    marker, hostile = sandbox.root / "code-ran", sandbox.root / "hostile.pt"
    payload = {"format": "tts_gen-checkpoint", "format_version": 2, "model": {}, "extra": RunsCode(marker)}
    if how == "torch.save":
        torch.save(payload, hostile)
    else:
        with hostile.open("wb") as handle:
            pickle.dump(payload, handle, protocol=int(how[-1]))
    sandbox.seal()
    with pytest.raises(UnsafeCheckpointError, match=r"holds a pickled Python object \(posix.system\)"):
        load_checkpoint(hostile)
    assert cli("synth", "--checkpoint", hostile, "--text", "Hi there.", "--out", sandbox.out / "x.wav") == 2
    one_line_error(capsys, "refused", "posix.system")
    assert not marker.exists(), "the pickled code ran"
    assert not sandbox.out.exists()
    sandbox.untouched()


def test_a_pickled_array_is_refused(tmp_path):
    marker, path = tmp_path / "code-ran", tmp_path / "mel.npy"
    np.save(path, np.array([RunsCode(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(ArrayFileError, match="holds pickled Python objects, which could run code when loaded; refused"):
        load_npy(path)
    assert not marker.exists()
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ArrayFileError, match="is not a readable array file"):
        load_npy(path)


def test_yaml_object_tags_malformed_overrides_and_bad_numbers_are_one_line(prepared_mini, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    config = tmp_path / "hostile.yaml"
    config.write_text(f"model: !!python/object/apply:os.system ['touch {marker}']\n")
    run = tmp_path / "run"
    assert cli("train", config, "--data", prepared_mini, "--out", run, "--device", "cpu") == 2
    one_line_error(capsys, f"config file {config} is not valid YAML")
    flow = ROOT / "egs" / "demo" / "flow.yaml"
    cases = [
        ("train.max_steps=[1,", "override train.max_steps: value '[1,' is not plain YAML data"),
        (f"train.seed=!!python/object/apply:os.system ['touch {marker}']", "is not plain YAML data"),
        ("model.encoder.hidden_channels=-1", "model.encoder.hidden_channels: must not be negative, got -1"),
        ("train.batch_size=-4", "train.batch_size: must not be negative"),
        ("train.learning_rate=.nan", "train.learning_rate: expected a finite number"),
        ("train.grad_clip=.inf", "train.grad_clip: expected a finite number"),
    ]
    for override, message in cases:
        assert cli("train", flow, "--data", prepared_mini, "--out", run, "--device", "cpu", "--set", override) == 2
        one_line_error(capsys, message)
    assert not marker.exists() and not run.exists()


def test_a_full_disk_while_saving_a_checkpoint_is_one_line_and_leaves_no_temporary_file(
    prepared_mini, tmp_path, capsys, monkeypatch
):
    import tts_gen.files

    real_open = open

    class FullDisk:
        """A file on a disk that fills up after a few kilobytes."""

        def __init__(self, handle):
            self.handle, self.written = handle, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 4096:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

    def filling_open(path, mode="r", **kwargs):
        handle = real_open(path, mode, **kwargs)
        return FullDisk(handle) if ".step_00000002.pt." in str(path) else handle

    monkeypatch.setattr(tts_gen.files, "open", filling_open, raising=False)
    run = tmp_path / "run"
    overrides = [*TINY, "train.max_steps=2", "train.checkpoint_every=1", "train.val_every=100"]
    assert train_cli("flow", prepared_mini, run, overrides) == 2
    one_line_error(capsys, f"no space left on the device to write {run / 'checkpoints' / 'step_00000002.pt'}")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "step_00000001.pt"]  # no .tmp
    monkeypatch.undo()
    assert train_cli("flow", prepared_mini, run, overrides) == 0
    assert "resuming" in capsys.readouterr().out
    assert load_checkpoint(run / "checkpoints" / "step_00000002.pt")["step"] == 2


def test_the_python_api_loads_through_the_same_fallback(tiny_run, tmp_path):
    run = copy_run(tiny_run, tmp_path / "run")
    (run / "checkpoints" / "best.pt").write_bytes(b"\x00" * 100)
    with pytest.warns(CheckpointFallbackWarning, match="best.pt"):
        synthesizer = Synthesizer.from_checkpoint(run)
    assert synthesizer.tts("Hello.")[0].numel() > 0
