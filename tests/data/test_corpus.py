"""Corpus reading, the standard and seeded splits, and the built-in corpus."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf

from tts_gen.data.corpus import BadRowsError, read_metadata, split_ids, standard_split_texts
from tts_gen.data.ljflite import choose_utterances, make_ljflite


def test_standard_split_has_the_public_sizes():
    sizes = {split: len(standard_split_texts(split)) for split in ("train", "val", "test")}
    assert sizes == {"train": 12500, "val": 100, "test": 500}
    assert standard_split_texts("val")["LJ022-0023"].startswith("The overwhelming majority")


def test_read_metadata_prefers_the_normalized_column(mini_corpus, tmp_path):
    entries = read_metadata(mini_corpus)
    assert len(entries) == 9 and entries[0].audio.is_file()
    (tmp_path / "wavs").mkdir()
    shutil.copy(entries[0].audio, tmp_path / "wavs" / "a.wav")
    (tmp_path / "metadata.csv").write_text("a|Mr. Smith|Mister Smith\n")
    assert read_metadata(tmp_path)[0].text == "Mister Smith"
    (tmp_path / "metadata.csv").write_text("a|x\nb|y\n")
    with pytest.raises(BadRowsError, match=r"metadata.csv: line 2 \(b\): wavs/b.wav does not exist"):
        read_metadata(tmp_path)
    (tmp_path / "metadata.csv").write_text("a|x\na|y\n")
    with pytest.raises(BadRowsError, match=r"line 2 \(a\): duplicate id \(first on line 1\)"):
        read_metadata(tmp_path)


def test_standard_split_places_ljspeech_ids_and_rejects_others():
    splits = split_ids(["LJ001-0002", "LJ001-0015", "LJ022-0023"], "ljspeech")
    assert splits == {"train": ["LJ001-0002"], "val": ["LJ022-0023"], "test": ["LJ001-0015"]}
    with pytest.raises(ValueError, match="not LJSpeech ids.*ljspeech-format"):
        split_ids(["my_clip_1"], "ljspeech")


def test_seeded_split_is_deterministic_and_complete():
    ids = [f"utt{i:03d}" for i in range(300)]
    first, second = split_ids(ids, "ljspeech-format", seed=7), split_ids(list(reversed(ids)), "ljspeech-format", seed=7)
    assert first == second
    assert sorted(first["train"] + first["val"] + first["test"]) == ids
    assert (len(first["val"]), len(first["test"])) == (2, 11)
    assert split_ids(ids, "ljspeech-format", seed=8) != first


def test_subset_keeps_every_split():
    chosen = choose_utterances(400)
    assert {split: len(ids) for split, ids in chosen.items()} == {"train": 382, "val": 3, "test": 15}
    assert set(chosen["test"]) <= set(standard_split_texts("test"))


@pytest.mark.skipif(shutil.which("flite") is None, reason="the flite program is not installed")
def test_make_ljflite_writes_a_resumable_ljspeech_layout_corpus(tmp_path):
    out = make_ljflite(tmp_path / "ljflite", max_utts=8, num_workers=2)
    entries = read_metadata(out)
    assert len(entries) == 8
    info = sf.info(str(entries[0].audio))
    assert info.samplerate == 22050 and info.channels == 1 and info.duration > 0.3
    stamps = {e.id: e.audio.stat().st_mtime_ns for e in entries}
    entries[1].audio.unlink()
    make_ljflite(out, max_utts=8, num_workers=2)
    assert entries[1].audio.is_file()
    assert all(e.audio.stat().st_mtime_ns == stamps[e.id] for e in entries if e.id != entries[1].id)
