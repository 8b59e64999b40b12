"""Manifests: one JSON line per utterance of a split, written by ``tts-gen data prepare``.

A prepared data folder holds::

    DATA_DIR/
      prepare.json              corpus, root, audio settings and the feature key
      train.jsonl val.jsonl test.jsonl
      features/mel-<key>/       one <id>.npy log-mel (n_mels, frames) float32 per utterance, stats.json
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.config import from_dict
from tts_gen.files import atomic_write


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
    """``prepare.json``: how a data folder was made."""

    corpus: str
    root: str
    feature_key: str
    audio: AudioConfig = field(default_factory=AudioConfig)
    counts: dict[str, int] = field(default_factory=dict)


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
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(from_dict(Utterance, json.loads(line)))
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path}:{number}: malformed manifest line: {error}") from None
    return rows


def read_prepared_info(data_dir: str | Path) -> PreparedInfo:
    """Reads ``prepare.json`` of a data folder."""
    path = Path(data_dir) / "prepare.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{data_dir} is not a prepared data folder (no prepare.json); run `tts-gen data prepare` first"
        )
    return from_dict(PreparedInfo, json.loads(path.read_text()))
