"""Corpora in the LJSpeech layout and their train/val/test splits.

An LJSpeech-layout folder holds ``metadata.csv`` (``id|text`` or ``id|text|normalized text``, no header) and
``wavs/<id>.wav``. LJSpeech itself (and the built-in ``ljflite`` corpus, which reads the same transcripts) uses
the standard public split of Tacotron 2, Glow-TTS, VITS and HiFi-GAN: 12,500 train / 100 val / 500 test ids,
shipped with tts_gen. Any other corpus in the same layout gets a seeded random split.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tts_gen.errors import TTSGenError
from tts_gen.validation import name_problem, read_text_file

SPLITS = ("train", "val", "test")
STANDARD_SPLIT_CORPORA = ("ljspeech", "ljflite")
CORPORA = STANDARD_SPLIT_CORPORA + ("ljspeech-format",)


@dataclass(frozen=True)
class CorpusEntry:
    """One line of ``metadata.csv``: the utterance id, its transcript, the path of its audio and the line number."""

    id: str
    text: str
    audio: Path
    line: int = 0


@dataclass(frozen=True)
class BadRow:
    """A row of ``metadata.csv`` that cannot be used: its line number, its id and why."""

    line: int
    id: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} ({printable(self.id[:60])}): {self.reason}"


def printable(text: str) -> str:
    """``text`` with control characters escaped, so that it stays on one line of a message or a file."""
    return text if text.isprintable() else repr(text)[1:-1]


class BadRowsError(TTSGenError, ValueError):
    """Rows of a corpus cannot be used; every one is listed (``rows``), the message names the first ones."""

    def __init__(self, metadata: Path, rows: list[BadRow], advice: str):
        shown = "; ".join(str(row) for row in rows[:SHOWN_ROWS])
        more = f"; and {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
        super().__init__(f"{len(rows)} bad row(s) in {metadata}: {shown}{more}; {advice}")
        self.rows = rows


SHOWN_ROWS = 10


@dataclass
class Metadata:
    """The usable rows of a corpus's ``metadata.csv`` and the rows that are not (malformed, unsafe or duplicate
    id, missing recording, empty transcript)."""

    entries: list[CorpusEntry] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def scan_metadata(root: str | Path) -> Metadata:
    """Reads an LJSpeech-layout folder (UTF-8, a byte order mark is allowed); the normalized column is used when
    present. Every row is checked: its id must be a plain file name (see :func:`tts_gen.validation.safe_name`),
    unique, with a recording ``wavs/<id>.wav``, and its transcript must not be empty.

    Raises:
        FileNotFoundError: if ``metadata.csv`` is missing; TextFileError: if it is not UTF-8.
    """
    root = Path(root)
    metadata = root / "metadata.csv"
    if not metadata.is_file():
        raise FileNotFoundError(f"{metadata} not found: an LJSpeech-layout corpus needs metadata.csv and wavs/")
    found = Metadata()
    first_line: dict[str, int] = {}
    for number, line in enumerate(read_text_file(metadata, "metadata.csv").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        utt_id = fields[0].strip()
        text = (fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]).strip() if len(fields) > 1 else ""
        problem = _row_problem(root, utt_id, fields, text, first_line)
        if problem:
            found.bad.append(BadRow(number, utt_id or "-", problem))
            continue
        first_line[utt_id] = number
        found.entries.append(CorpusEntry(utt_id, text, root / "wavs" / f"{utt_id}.wav", number))
    return found


def _row_problem(root: Path, utt_id: str, fields: list[str], text: str, first_line: dict[str, int]) -> str | None:
    if len(fields) < 2 or not utt_id:
        return "expected 'id|text[|normalized]'"
    unusable = name_problem(utt_id)
    if unusable:
        return f"the id {unusable} (it must be a plain file name)"
    if utt_id in first_line:
        return f"duplicate id (first on line {first_line[utt_id]})"
    if not (root / "wavs" / f"{utt_id}.wav").is_file():
        return f"wavs/{utt_id}.wav does not exist"
    if not text:
        return "empty transcript"
    return None


def read_metadata(root: str | Path) -> list[CorpusEntry]:
    """The rows of an LJSpeech-layout folder (see :func:`scan_metadata`); any bad row is a :class:`BadRowsError`
    that lists them all."""
    found = scan_metadata(root)
    if found.bad:
        raise BadRowsError(Path(root) / "metadata.csv", found.bad, "fix them or leave them out (data prepare --skip-bad)")
    if not found.entries:
        raise ValueError(f"{Path(root) / 'metadata.csv'} lists no utterances")
    return found.entries


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
