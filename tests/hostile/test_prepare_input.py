"""Hostile corpora for `tts-gen data prepare`: every bad row reported at once (or skipped), ids that must stay
inside their folders, odd but usable recordings, encodings, changed recordings and half-made folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import ROOT, cli
from tests.hostile.conftest import make_corpus, one_line_error, tone
from tts_gen.audio import AudioConfig
from tts_gen.data import FeatureStore, read_manifest
from tts_gen.data.manifest import IncompleteDataError
from tts_gen.data.prepare import prepare_corpus
from tts_gen.data.prepared import open_prepared

GOOD = {
    "good1": "Hello there, my friend.",
    "good2": "Another fine sentence.",
    "stereo": "A recording in two channels.",
    "rate8k": "A recording at eight kilohertz.",
    "rate48k": "A recording at forty eight kilohertz.",
    "silent": "A silent recording.",
    "truncated": "A recording cut short.",
    "dup": "The first of two rows with one id.",
}


def hostile_corpus(root, victim) -> tuple:
    """Good rows (odd but usable recordings among them) and one bad row of every kind; returns the corpus
    folder and the bad rows' line numbers."""
    rows = [f"{name}|{text}" for name, text in GOOD.items()]
    bad = [
        f"../../{victim.stem}|An id that leaves the corpus.",
        f"{victim.with_suffix('')}|An absolute id.",
        "dup|The second row with this id.",
        "missing|A row without a recording.",
        "empty|",
        "punct|?!...",
        "corrupt|A file that is not audio.",
        "zero|A recording without samples.",
        "short|A rather long transcript for a recording of a twentieth of a second.",
        "long|A recording longer than the limit.",
        "a line without any separator",
    ]
    full = tone(1.0)
    truncated = _wav_bytes(full)
    wavs = {
        "good1": full,
        "good2": full,
        "dup": full,
        "empty": full,
        "punct": full,
        "silent": np.zeros_like(full),
        "truncated": truncated[: len(truncated) // 2],
        "corrupt": b"RIFF, but not audio",
        "zero": np.zeros(0, dtype=np.float32),
        "short": tone(0.05),
        "long": tone(2.5),
    }
    corpus = make_corpus(root, rows + bad, wavs)
    import soundfile as sf

    sf.write(str(corpus / "wavs" / "stereo.wav"), tone(1.0, channels=2), 22050)
    sf.write(str(corpus / "wavs" / "rate8k.wav"), tone(1.0, rate=8000), 8000)
    sf.write(str(corpus / "wavs" / "rate48k.wav"), tone(1.0, rate=48000), 48000)
    return corpus, list(range(len(rows) + 1, len(rows) + len(bad) + 1))


def _wav_bytes(wav) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wav, 22050, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def prepare(corpus, out, *extra) -> int:
    return cli(
        "data", "prepare", "--corpus", "ljspeech-format", "--root", corpus, "--out", out, "--workers", "1", *extra
    )


def test_every_bad_row_is_reported_at_once_and_skip_bad_leaves_them_out(sandbox, capsys):
    corpus, bad_lines = hostile_corpus(sandbox.root / "corpus", sandbox.victim)
    sandbox.seal()
    assert prepare(corpus, sandbox.out, "--max-seconds", "2") == 2
    metadata = corpus / "metadata.csv"
    err = one_line_error(capsys, f"{len(bad_lines)} bad row(s) in {metadata}: line {bad_lines[0]} (", "--skip-bad")
    assert "and 1 more" in err  # the message names the first ten; bad_rows.txt has them all
    listed = (sandbox.out / "bad_rows.txt").read_text().splitlines()
    assert [int(line.split("|")[0].rsplit(":", 1)[1]) for line in listed] == bad_lines
    reasons = "\n".join(listed)
    for reason in (
        "contains a path separator",
        "duplicate id (first on line 8)",
        "wavs/missing.wav does not exist",
        "empty transcript",
        "has nothing to speak",
        "Format not recognised",
        "is empty",
        "mel frames are fewer than its",
        "more than the maximum of 2 s",
        "expected 'id|text[|normalized]'",
    ):
        assert reason in reasons, reason
    with pytest.raises(IncompleteDataError, match="did not finish"):
        open_prepared(sandbox.out, AudioConfig())  # a failed prepare is never a usable folder
    sandbox.untouched()

    assert prepare(corpus, sandbox.out, "--max-seconds", "2", "--skip-bad") == 0
    assert f"skipped {len(bad_lines)} bad row(s)" in capsys.readouterr().out
    prepared = open_prepared(sandbox.out, AudioConfig())
    ids = sorted(u.id for split in ("train", "val", "test") for u in prepared.manifest(split))
    assert ids == sorted(GOOD) and prepared.info.skipped == len(bad_lines)
    rows = {u.id: u for split in ("train", "val", "test") for u in prepared.manifest(split)}
    assert rows["rate8k"].n_frames == rows["stereo"].n_frames == 86  # resampled and mixed down
    assert rows["truncated"].n_samples == 11014  # what the file holds, not what its header claims
    assert not (sandbox.root / "a" / sandbox.victim.name).exists()
    sandbox.untouched()


def test_bom_and_crlf_metadata_prepare_and_latin1_is_one_line(sandbox, capsys):
    corpus = make_corpus(sandbox.root / "corpus", [], {name: tone(1.0) for name in ("a", "b", "c")})
    (corpus / "metadata.csv").write_bytes("\ufeffa|First line.\r\nb|Second line.\r\nc|Third line.\r\n".encode())
    assert prepare(corpus, sandbox.out) == 0
    assert sorted(u.id for s in ("train", "val", "test") for u in read_manifest(sandbox.out / f"{s}.jsonl")) == [
        "a",
        "b",
        "c",
    ]
    (corpus / "metadata.csv").write_bytes("a|First line.\nb|Caf\u00e9 au lait.\n".encode("latin-1"))
    assert prepare(corpus, sandbox.root / "other") == 2
    one_line_error(capsys, f"{corpus / 'metadata.csv'}:2: metadata.csv is not UTF-8 (byte 0xe9)", "iconv")


def test_a_changed_recording_is_extracted_again(sandbox):
    corpus = make_corpus(
        sandbox.root / "corpus",
        [f"{n}|Sentence number {i}." for i, n in enumerate("abcd")],
        {n: tone(1.0) for n in "abcd"},
    )
    prepare_corpus(corpus, sandbox.out, corpus="ljspeech-format", num_workers=1)
    store = FeatureStore(sandbox.out, AudioConfig())
    kept = store.path("b").stat().st_mtime_ns
    make_corpus(corpus, [f"{n}|Sentence number {i}." for i, n in enumerate("abcd")], {"a": tone(2.0)})
    prepare_corpus(corpus, sandbox.out, corpus="ljspeech-format", num_workers=1)
    row = next(u for s in ("train", "val", "test") for u in read_manifest(sandbox.out / f"{s}.jsonl") if u.id == "a")
    assert store.load("a").shape[-1] == row.n_frames == 44100 // 256  # the new two seconds, not the old one
    assert store.path("b").stat().st_mtime_ns == kept  # an unchanged recording is not extracted again


def test_a_folder_whose_prepare_was_stopped_between_manifests_is_refused(sandbox, capsys, monkeypatch):
    import tts_gen.data.prepare as prepare_module

    corpus = make_corpus(
        sandbox.root / "corpus",
        [f"{n}|Sentence number {i}." for i, n in enumerate("abcdef")],
        {n: tone(1.0) for n in "abcdef"},
    )
    prepare_corpus(corpus, sandbox.out, corpus="ljspeech-format", num_workers=1)
    open_prepared(sandbox.out, AudioConfig())
    write_manifest = prepare_module.write_manifest

    def killed_after_train(path, rows):
        if path.name != "train.jsonl":
            raise KeyboardInterrupt  # as a kill between train.jsonl and val.jsonl
        write_manifest(path, rows)

    monkeypatch.setattr(prepare_module, "write_manifest", killed_after_train)
    with pytest.raises(KeyboardInterrupt):
        prepare_corpus(corpus, sandbox.out, corpus="ljspeech-format", num_workers=1, seed=7)  # another split
    with pytest.raises(IncompleteDataError, match="did not finish; run it again"):
        open_prepared(sandbox.out, AudioConfig())
    config = ROOT / "egs" / "demo" / "flow.yaml"
    assert cli("train", config, "--data", sandbox.out, "--out", sandbox.out / "run", "--device", "cpu") == 2
    one_line_error(capsys, "is incomplete")
    monkeypatch.undo()
    prepare_corpus(corpus, sandbox.out, corpus="ljspeech-format", num_workers=1)
    with (sandbox.out / "train.jsonl").open("a") as manifest:
        manifest.write((sandbox.out / "test.jsonl").read_text())  # test utterances slipped into train
    with pytest.raises(IncompleteDataError, match="train.jsonl is not the manifest"):
        open_prepared(sandbox.out, AudioConfig())


def test_ids_in_a_manifest_stay_inside_the_feature_folder(prepared_mini, tmp_path):
    from tts_gen.validation import UnsafeNameError

    store = FeatureStore(prepared_mini, AudioConfig())
    with pytest.raises(UnsafeNameError, match="path separator"):
        store.load("../../../etc/passwd")
    rows = (prepared_mini / "train.jsonl").read_text().splitlines()
    tampered = tmp_path / "train.jsonl"
    tampered.write_text(rows[0].replace('"id": "', '"id": "../') + "\n")
    with pytest.raises(UnsafeNameError, match=f"{tampered}:1: id"):
        read_manifest(tampered)
    tampered.write_text(f"{rows[0]}\n{rows[0]}\n")
    with pytest.raises(ValueError, match="duplicate id"):
        read_manifest(tampered)
    assert json.loads(rows[0])["id"]


def test_a_manifest_row_with_fewer_frames_than_tokens_is_named_before_training(prepared_mini):
    from tts_gen.data import TTSDataset
    from tts_gen.text import TextConfig, Tokenizer

    rows = read_manifest(prepared_mini / "train.jsonl")
    rows[0].n_frames = len(rows[0].phonemes) - 1  # as a manifest of an older tts_gen could hold
    with pytest.raises(ValueError, match=f"utterance {rows[0].id} has .* mel frames for .* tokens"):
        TTSDataset(rows, FeatureStore(prepared_mini, AudioConfig()), Tokenizer(TextConfig()))
