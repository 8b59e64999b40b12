"""safetensors releases: written by `tts-gen export --format safetensors`, loaded without unpickling anything."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import cli
from tts_gen.releases import is_release
from tts_gen.runs import CheckpointError
from tts_gen.synthesize import Synthesizer


@pytest.fixture(scope="module")
def release(acoustic_run, vocoder_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "voice"
    assert (
        cli("export", "--format", "safetensors", "--checkpoint", acoustic_run, "--vocoder", vocoder_run, "--out", out)
        == 0
    )
    return out


def test_a_release_speaks_as_its_run(release, acoustic_run, vocoder_run, monkeypatch):
    text = "The same words from the run and from its release."
    from_run = Synthesizer.from_checkpoint(acoustic_run, vocoder=vocoder_run).speak(text, temperature=0.0)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("a release must load without torch.load")

    monkeypatch.setattr(torch, "load", no_unpickling)
    synthesizer = Synthesizer.from_checkpoint(release)  # its own vocoder by default
    assert synthesizer.vocoder.name == "hifigan"
    from_release = synthesizer.speak(text, temperature=0.0)
    assert torch.equal(from_run.waveform, from_release.waveform)


def test_a_release_holds_weights_and_json(release, acoustic_run):
    assert is_release(release) and is_release(release / "vocoder")
    metadata = json.loads((release / "release.json").read_text(encoding="utf-8"))
    assert metadata["kind"] == "acoustic" and metadata["config"]["model"]["decoder"]["family"] == "flow"
    assert len(metadata["mel_stats"]["mean"]) == 80 and metadata["symbols"]["mode"] == "phonemes"
    header = (release / "model.safetensors").read_bytes()
    assert header[8:9] == b"{"  # safetensors: an 8-byte length, then a JSON header (no pickle)
    vocoder = json.loads((release / "vocoder" / "release.json").read_text(encoding="utf-8"))
    assert vocoder["kind"] == "vocoder"


def test_an_altered_release_is_refused(release, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    weights = bytearray((copy / "model.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(weights))
    with pytest.raises(CheckpointError, match="does not match the checksum"):
        Synthesizer.from_checkpoint(copy)
    with pytest.raises(CheckpointError, match="of kind 'acoustic', not 'vocoder'"):
        Synthesizer.from_checkpoint(release, vocoder=release)
