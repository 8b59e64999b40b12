"""A tiny flow model trained from the command line, then synthesis through the CLI and the Python API."""

from __future__ import annotations

import io
import sys

import pytest
import soundfile as sf
import torch

from tests.conftest import cli, train_cli
from tts_gen import Synthesizer
from tts_gen.audio import AudioConfig
from tts_gen.cli import main
from tts_gen.data import TTSDataset, collate_tts
from tts_gen.data.features import FeatureStore
from tts_gen.runs import CheckpointError, load_checkpoint, resolve_checkpoint, save_checkpoint
from tts_gen.synthesize import load_acoustic_model
from tts_gen.vocoders import GriffinLimVocoder
from tts_gen.vocoders.base import VocoderMismatchError

STEPS = 60


@pytest.fixture(scope="module")
def flow_run(prepared_mini, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "flow"
    overrides = [
        f"train.max_steps={STEPS}",
        "train.batch_size=4",
        "train.val_every=30",
        "train.checkpoint_every=30",
        "train.warmup_steps=10",
        "train.log_every=10",
        "train.schedule=constant",
    ]
    assert train_cli("flow", prepared_mini, run, overrides) == 0
    return run


def test_training_learns_non_uniform_alignments(flow_run, prepared_mini):
    model, config, tokenizer, payload = load_acoustic_model(flow_run)
    assert payload["step"] in (30, STEPS)
    dataset = TTSDataset.from_split(prepared_mini, "train", FeatureStore(prepared_mini, config.audio), tokenizer)
    batch = collate_tts([dataset[i] for i in range(len(dataset))])
    _, durations, _, _, _ = model.condition(batch)
    for i, n in enumerate(batch.x_lengths):
        d = durations[i, : int(n)].float()
        assert int(d.sum()) == int(batch.y_lengths[i]) // 2 * 2
        assert d.std() / d.mean() > 0.3, "MAS durations stayed close to uniform"


def test_waveform_length_follows_the_predicted_durations(flow_run):
    synthesizer = Synthesizer.from_checkpoint(flow_run)
    result = synthesizer.speak("The printer was comparatively modern.")
    assert result.waveform.numel() == int(result.durations[0].sum()) * 256
    slower = synthesizer.speak("The printer was comparatively modern.", length_scale=2.0)
    assert slower.waveform.numel() > 1.7 * result.waveform.numel()
    wav, rate = synthesizer.tts("First sentence. And a second one!")
    assert rate == 22050 and wav.dim() == 1 and float(wav.abs().max()) <= 1.0


def test_synth_cli_writes_wavs_from_text_file_and_stdin(flow_run, tmp_path, monkeypatch):
    out = tmp_path / "one.wav"
    synth = ("synth", "--checkpoint", flow_run)
    assert cli(*synth, "--text", "Hello there.", "--out", out, "--temperature", "0.3") == 0
    assert sf.info(str(out)).samplerate == 22050 and sf.info(str(out)).frames > 256
    (tmp_path / "lines.txt").write_text("One line.\n\nAnother line here.\n")
    assert cli(*synth, "--text-file", tmp_path / "lines.txt", "--out", tmp_path / "many") == 0
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["0001.wav", "0002.wav"]
    (tmp_path / "named.txt").write_text("LJ001-0002|in being comparatively modern.\n")
    assert cli(*synth, "--text-file", tmp_path / "named.txt", "--out", tmp_path / "named") == 0
    assert (tmp_path / "named" / "LJ001-0002.wav").is_file()
    monkeypatch.setattr(sys, "stdin", io.StringIO("Read from standard input.\n"))
    assert cli(*synth, "--out", tmp_path / "stdin.wav") == 0
    assert (tmp_path / "stdin.wav").is_file()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--text", "hi", "--steps", "4"], "the flow decoder has no option steps; its options are: temperature"),
        (["--text", "   "], "nothing to speak"),
        (["--text", "🙂"], "nothing to speak"),
        (["--text", "hi", "--length-scale", "0"], "--length-scale must be > 0"),
    ],
)
def test_synth_cli_bad_input_is_one_line(flow_run, tmp_path, capsys, arguments, message):
    assert main(["synth", "--checkpoint", str(flow_run), "--out", str(tmp_path / "x.wav"), *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_mismatched_symbols_and_audio_settings_are_errors(flow_run, tmp_path):
    payload = load_checkpoint(resolve_checkpoint(flow_run))
    payload["symbols"]["symbols"] = payload["symbols"]["symbols"][:-1] + ["ʘ"]
    save_checkpoint(tmp_path / "other_symbols.pt", payload)
    with pytest.raises(CheckpointError, match="other_symbols.pt"):
        Synthesizer.from_checkpoint(tmp_path / "other_symbols.pt")
    model, config, tokenizer, _ = load_acoustic_model(flow_run)
    with pytest.raises(VocoderMismatchError, match="n_mels: model 80 vs vocoder 40"):
        Synthesizer(model, config, tokenizer, GriffinLimVocoder(AudioConfig(n_mels=40)), torch.device("cpu"))
