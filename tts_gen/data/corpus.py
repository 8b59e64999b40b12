"""Corpora in the LJSpeech layout and their train/val/test splits.

An LJSpeech-layout folder holds ``metadata.csv`` (``id|text`` or ``id|text|normalized text``, no header) and
``wavs/<id>.wav``. LJSpeech itself (and the built-in ``ljflite`` corpus, which reads the same transcripts) uses
the standard public split of Tacotron 2, Glow-TTS, VITS and HiFi-GAN: 12,500 train / 100 val / 500 test ids,
shipped with tts_gen. Any other corpus in the same layout gets a seeded random split.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SPLITS = ("train", "val", "test")
STANDARD_SPLIT_CORPORA = ("ljspeech", "ljflite")
CORPORA = STANDARD_SPLIT_CORPORA + ("ljspeech-format",)


@dataclass(frozen=True)
class CorpusEntry:
    """One line of ``metadata.csv``: the utterance id, its transcript and the path of its audio."""

    id: str
    text: str
    audio: Path


def read_metadata(root: str | Path) -> list[CorpusEntry]:
    """Reads an LJSpeech-layout folder; the normalized column is used when present.

    Raises:
        FileNotFoundError: if ``metadata.csv`` or a listed wav is missing.
        ValueError: for a malformed line (naming its number) or duplicate ids.
    """
    root = Path(root)
    metadata = root / "metadata.csv"
    if not metadata.is_file():
        raise FileNotFoundError(f"{metadata} not found: an LJSpeech-layout corpus needs metadata.csv and wavs/")
    entries, seen = [], set()
    for number, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2 or not fields[0].strip():
            raise ValueError(f"{metadata}:{number}: expected 'id|text[|normalized]', got {line!r}")
        utt_id = fields[0].strip()
        if utt_id in seen:
            raise ValueError(f"{metadata}:{number}: duplicate id {utt_id}")
        seen.add(utt_id)
        text = (fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]).strip()
        audio = root / "wavs" / f"{utt_id}.wav"
        if not audio.is_file():
            raise FileNotFoundError(f"{audio} listed in {metadata}:{number} does not exist")
        entries.append(CorpusEntry(utt_id, text, audio))
    if not entries:
        raise ValueError(f"{metadata} lists no utterances")
    return entries


def standard_split_texts(split: str) -> dict[str, str]:
    """The standard LJSpeech split: ``{id: normalized transcript}`` for ``split`` in train/val/test."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    text = resources.files("tts_gen.data").joinpath("splits", "ljspeech", f"{split}.txt").read_text("utf-8")
    pairs = (line.split("|", 1) for line in text.splitlines() if line.strip())
    return {utt_id: transcript for utt_id, transcript in pairs}


def split_ids(ids: list[str], corpus: str, seed: int = 1234) -> dict[str, list[str]]:
    """Assigns utterance ids to train/val/test.

    ``ljspeech`` and ``ljflite`` use the standard split (ids outside it are an error); ``ljspeech-format``
    shuffles with ``seed`` and takes the LJSpeech proportions (100 and 500 of 13,100), at least one utterance
    each for val and test when there are three or more.
    """
    if corpus in STANDARD_SPLIT_CORPORA:
        split_of = {utt_id: split for split in SPLITS for utt_id in standard_split_texts(split)}
        unknown = [utt_id for utt_id in ids if utt_id not in split_of]
        if unknown:
            raise ValueError(
                f"{len(unknown)} id(s) such as {unknown[0]} are not LJSpeech ids; "
                "use --corpus ljspeech-format for a seeded split of another corpus"
            )
        return {split: [i for i in ids if split_of[i] == split] for split in SPLITS}
    if corpus != "ljspeech-format":
        raise ValueError(f"unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}")
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    n = len(shuffled)
    n_val = max(1, round(n * 100 / 13100)) if n >= 3 else 0
    n_test = max(1, round(n * 500 / 13100)) if n >= 3 else 0
    return {
        "val": sorted(shuffled[:n_val]),
        "test": sorted(shuffled[n_val : n_val + n_test]),
        "train": sorted(shuffled[n_val + n_test :]),
    }
