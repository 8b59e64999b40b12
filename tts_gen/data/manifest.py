"""Manifests: one JSON line per utterance of a split, written by ``tts-gen data prepare``.

A prepared data folder holds::

    DATA_DIR/
      prepare.json              corpus, root, audio settings, feature key; written last (the completion record)
      train.jsonl val.jsonl test.jsonl
      bad_rows.txt              rows of the corpus that were left out or refused, if any
      features/mel-<key>/       one <id>.npy log-mel (n_mels, frames) float32 per utterance, stats.json,
                                sources.json (the recording each feature was made from)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.config import from_dict
from tts_gen.errors import TTSGenError
from tts_gen.files import atomic_write
from tts_gen.validation import check_unique, safe_name


@dataclass
class Utterance:
    """One manifest row.

    Attributes:
        id: utterance id (the wav's file name without extension).
        audio: absolute path of the source audio.
        text: transcript as found in the corpus.
        normalized: ``normalize_text(text)``.
        phonemes: phoneme units of the normalized text (see ``tts_gen.text``).
        n_samples: audio length at the prepared sample rate.
        n_frames: mel frames (``n_samples // hop``).
        durations: optional external durations in frames, one per phoneme-mode token.
    """

    id: str
    audio: str
    text: str
    normalized: str
    phonemes: list[str]
    n_samples: int
    n_frames: int
    durations: list[int] | None = None


@dataclass
class PreparedInfo:
    """``prepare.json``: how a data folder was made, and the record that it was made completely.

    ``prepare`` deletes it before it changes anything in the folder and writes it last, with the SHA-256 of
    every manifest (``manifests``), so a folder whose preparation was interrupted, or whose manifests changed
    since, is refused instead of being used half-made.

    Attributes:
        skipped: bad rows of the corpus left out (``--skip-bad``; listed in ``bad_rows.txt``).
        max_seconds: the longest recording allowed (0 = no limit).
    """

    corpus: str
    root: str
    feature_key: str
    audio: AudioConfig = field(default_factory=AudioConfig)
    counts: dict[str, int] = field(default_factory=dict)
    manifests: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    max_seconds: float = 0.0


class IncompleteDataError(TTSGenError):
    """A prepared data folder is missing its completion record, or its manifests do not match it."""


def write_manifest(path: str | Path, utterances: list[Utterance]) -> None:
    """Writes one JSON line per utterance, atomically."""
    with atomic_write(path, "w") as handle:
        for utt in utterances:
            handle.write(json.dumps(asdict(utt), ensure_ascii=False) + "\n")


def read_manifest(path: str | Path) -> list[Utterance]:
    """Reads a manifest; a missing file or malformed line is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {path} not found; run `tts-gen data prepare` first")
    rows, places = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(from_dict(Utterance, json.loads(line)))
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path}:{number}: malformed manifest line: {error}") from None
            places.append((safe_name(rows[-1].id, f"{path}:{number}: id"), f"{path}:{number}"))
    check_unique(places)
    return rows


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_prepared_info(data_dir: str | Path) -> PreparedInfo:
    """Reads ``prepare.json`` of a data folder."""
    root = Path(data_dir)
    path = root / "prepare.json"
    if not path.is_file():
        if any((root / f"{split}.jsonl").is_file() for split in ("train", "val", "test")) or (root / "features").is_dir():
            raise IncompleteDataError(
                f"{root} is incomplete: a `tts-gen data prepare` into it did not finish; run it again"
            )
        raise FileNotFoundError(
            f"{data_dir} is not a prepared data folder (no prepare.json); run `tts-gen data prepare` first"
        )
    return from_dict(PreparedInfo, json.loads(path.read_text()))


def check_complete(data_dir: str | Path, info: PreparedInfo) -> None:
    """Every manifest of a prepared folder must be the one its ``prepare.json`` records."""
    root = Path(data_dir)
    if not info.manifests:
        raise IncompleteDataError(
            f"{root} was prepared by an older tts_gen, without a completion record; run `tts-gen data prepare` again"
        )
    for split, checksum in info.manifests.items():
        manifest = root / f"{split}.jsonl"
        if not manifest.is_file() or file_checksum(manifest) != checksum:
            raise IncompleteDataError(
                f"{manifest} is not the manifest that `tts-gen data prepare` wrote (missing or changed since); "
                "run `tts-gen data prepare` again"
            )
