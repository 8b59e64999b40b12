"""``tts-gen data prepare`` end to end on real clips, and the feature cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import ROOT
from tts_gen.audio import AudioConfig, load_wav, mel_spectrogram
from tts_gen.cli import main
from tts_gen.data import FeatureStore, read_manifest, read_prepared_info
from tts_gen.data.features import extract_features, feature_key
from tts_gen.data.dataset import manifest_durations, tokens_of
from tts_gen.data.prepare import prepare_corpus
from tts_gen.text import TextConfig, Tokenizer


def test_prepare_cli_writes_standard_split_manifests_and_features(mini_corpus, tmp_path, capsys):
    out = tmp_path / "data"
    assert (
        main(
            ["data", "prepare", "--corpus", "ljspeech", "--root", str(mini_corpus), "--out", str(out), "--workers", "2"]
        )
        == 0
    )
    assert "train 8" in capsys.readouterr().out
    test_rows = read_manifest(out / "test.jsonl")
    assert [u.id for u in test_rows] == ["LJ001-0015"]  # LJ001-0015 belongs to the public test split
    assert (out / "test.txt").read_text() == f"LJ001-0015|{test_rows[0].normalized}\n"
    train_rows = read_manifest(out / "train.jsonl")
    row = next(u for u in train_rows if u.id == "LJ001-0002")
    assert row.normalized == "in being comparatively modern."
    assert row.phonemes[:3] == ["ˈɪ", "n", " "]
    wav = load_wav(row.audio, 22050)
    assert (row.n_samples, row.n_frames) == (wav.numel(), wav.numel() // 256)
    store = FeatureStore(out, AudioConfig())
    assert np.allclose(store.load(row.id).numpy(), mel_spectrogram(wav).numpy(), atol=1e-5)
    info = read_prepared_info(out)
    assert info.feature_key == feature_key(AudioConfig()) and info.counts == {"train": 8, "val": 0, "test": 1}


def test_statistics_are_the_training_mels_moments(prepared_mini):
    store = FeatureStore(prepared_mini, AudioConfig())
    mels = np.concatenate([store.load(u.id).numpy() for u in read_manifest(prepared_mini / "train.jsonl")], axis=1)
    stats = store.stats()
    assert np.allclose(stats.mean, mels.mean(axis=1), atol=1e-4)
    assert np.allclose(stats.std, mels.std(axis=1), atol=1e-4)


def test_rerun_skips_finished_work_and_ignores_stale_temporary_files(mini_corpus, tmp_path):
    out = tmp_path / "data"
    prepare_corpus(mini_corpus, out, corpus="ljspeech-format", num_workers=1)
    store = FeatureStore(out, AudioConfig())
    stamps = {p.name: p.stat().st_mtime_ns for p in store.root.glob("*.npy")}
    victim = store.path("LJ001-0008")
    victim.unlink()
    (store.root / ".LJ001-0008.npy.123.tmp").write_bytes(b"half a file")  # what a killed worker leaves
    prepare_corpus(mini_corpus, out, corpus="ljspeech-format", num_workers=1)
    assert victim.is_file() and np.load(victim).shape[0] == 80
    assert not list(store.root.glob(".*tmp*"))
    assert all(p.stat().st_mtime_ns == stamps[p.name] for p in store.root.glob("*.npy") if p != victim)


def test_features_are_keyed_by_audio_settings(mini_corpus, tmp_path):
    other = AudioConfig(n_mels=40, f_max=7600.0)
    assert feature_key(other) != feature_key(AudioConfig())
    jobs = [("LJ001-0002", str(mini_corpus / "wavs" / "LJ001-0002.wav"))]
    result = extract_features(jobs, FeatureStore(tmp_path, other), num_workers=1)
    assert FeatureStore(tmp_path, other).load("LJ001-0002").shape == (40, result.lengths["LJ001-0002"][1])
    assert not FeatureStore(tmp_path, AudioConfig()).root.exists()


def test_external_durations_are_read_into_the_manifest(mini_corpus, tmp_path):
    out = tmp_path / "data"
    prepare_corpus(mini_corpus, out, corpus="ljspeech-format", num_workers=1)
    row = next(u for u in read_manifest(out / "train.jsonl") if u.id == "LJ001-0002")
    durations = [row.n_frames // len(row.phonemes)] * len(row.phonemes)
    durations[-1] += row.n_frames - sum(durations)
    (tmp_path / "durations.txt").write_text(f"LJ001-0002|{' '.join(map(str, durations))}\n")
    prepare_corpus(mini_corpus, out, corpus="ljspeech-format", num_workers=1, durations=tmp_path / "durations.txt")
    row = next(u for u in read_manifest(out / "train.jsonl") if u.id == "LJ001-0002")
    assert row.durations == durations
    # the model's edge pauses get no frames of an external alignment, so its durations still cover the mel
    framed = manifest_durations([row], Tokenizer(TextConfig()))[row.id]
    tokens = tokens_of(row, Tokenizer(TextConfig()))
    assert framed == [0, *durations, 0] and len(framed) == len(tokens)
    assert Tokenizer(TextConfig()).ids_to_units(tokens) == [" ", *row.phonemes, " "]
    assert manifest_durations([row], Tokenizer(TextConfig(edge_pauses=False)))[row.id] == durations


def test_prepare_errors_are_one_line(tmp_path, capsys):
    assert main(["data", "prepare", "--root", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "metadata.csv not found" in err and len(err.strip().splitlines()) == 1


def test_a_folder_prepared_with_other_audio_settings_is_refused(prepared_mini, tmp_path, capsys):
    from tts_gen.data.prepared import AudioSettingsMismatch, open_prepared

    prepared = open_prepared(prepared_mini, AudioConfig())
    assert [utt.id for utt in prepared.manifest("val")] and prepared.features.stats().mean
    with pytest.raises(AudioSettingsMismatch, match="prepared with other audio settings"):
        open_prepared(prepared_mini, AudioConfig(n_mels=40))
    config = ROOT / "egs" / "demo" / "prior.yaml"
    args = [
        "train",
        str(config),
        "--data",
        str(prepared_mini),
        "--out",
        str(tmp_path / "run"),
        "--set",
        "audio.n_mels=40",
    ]
    assert main(args) == 2
    assert "prepared with other audio settings" in capsys.readouterr().err
