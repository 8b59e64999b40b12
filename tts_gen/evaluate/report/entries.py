"""What ``tts-gen compare`` reads: evaluation folders and plain run folders, as :class:`Entry` objects.

An evaluation folder holds ``summary.json`` (from ``tts-gen evaluate``); a run folder holds ``config.yaml``
and its training ``metrics.jsonl`` (from ``tts-gen train``). An evaluation whose checkpoint came from a run
folder also brings that run's training losses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tts_gen.config import config_hash
from tts_gen.experiment import load_experiment
from tts_gen.files import read_json_lines
from tts_gen.runs import CheckpointError, read_metrics, resolve_checkpoint
from tts_gen.spine import spine_of_run
from tts_gen.synthesize import load_acoustic_model


@dataclass
class Entry:
    """One system of the report.

    Attributes:
        label: unique display name (the family, plus the folder name when two share a family).
        family: decoder family; path: the folder given.
        summary: ``summary.json`` of an evaluation (None for a run folder without one).
        rows: scored per-utterance rows (``utterances.jsonl``).
        info: ``eval.json`` of an evaluation, or what the run folder tells (config hash, corpus, seed...).
        training: rows of the run's ``metrics.jsonl`` (empty if unknown).
        curve: the learning curve of the run (rows of ``curve.jsonl``: step, minutes, utterances, wer, mel_l1).
    """

    label: str
    family: str
    path: Path
    summary: dict[str, Any] | None
    rows: list[dict]
    info: dict[str, Any]
    training: list[dict] = field(default_factory=list)
    curve: list[dict] = field(default_factory=list)

    @property
    def evaluated(self) -> bool:
        return self.summary is not None

    def condition(self, name: str) -> dict[str, Any] | None:
        return (self.summary or {}).get("conditions", {}).get(name)

    def scores(self, condition: str, key: str) -> dict[str, float]:
        """Per-utterance values of ``key`` in ``condition`` (test set), by utterance id."""
        return {
            row["id"]: float(row[key])
            for row in self.rows
            if row["condition"] == condition and row["set"] == "test" and isinstance(row.get(key), (int, float))
        }

    def row(self, condition: str, utt_id: str) -> dict | None:
        for row in self.rows:
            if row["condition"] == condition and row["id"] == utt_id:
                return row
        return None

    def file(self, relative_or_absolute: str) -> Path:
        path = Path(relative_or_absolute)
        return path if path.is_absolute() else self.path / path

    def crossing(self) -> list[tuple[str, np.ndarray]]:
        """The states of the family's crossing from its starting point to the mel (empty if none was kept)."""
        path, labels = self.path / "crossing.npz", self.info.get("crossing", {}).get("labels")
        if not labels or not path.is_file():
            return []
        with np.load(path) as arrays:
            return [(label, arrays[f"arr_{index}"]) for index, label in enumerate(labels)]


def run_info(run_dir: Path) -> dict[str, Any]:
    """Config hash, family, seed and training corpus of a run folder (corpus from its checkpoint)."""
    config = load_experiment(run_dir / "config.yaml")
    info: dict[str, Any] = {
        "run_dir": str(run_dir.resolve()),
        "family": config.model.decoder.family,
        "config_hash": config_hash(config),
        "train_seed": config.train.seed,
        "training_corpus": "unknown (no checkpoint)",
    }
    try:
        path = resolve_checkpoint(run_dir)
        model, _, tokenizer, payload = load_acoustic_model(path)
    except CheckpointError:
        return info
    info.update(
        {
            "checkpoint": str(path.resolve()),
            "checkpoint_step": payload.get("step"),
            "training_corpus": payload.get("data", {}).get("corpus", "unknown"),
            "versions": payload.get("versions", {}),
            "spine": spine_of_run(model, tokenizer, payload, path.resolve()),
        }
    )
    return info


def load_entry(path: str | Path) -> Entry:
    """An evaluation folder or a run folder; anything else is a FileNotFoundError saying what is expected."""
    path = Path(path)
    if (path / "summary.json").is_file():
        summary = json.loads((path / "summary.json").read_text())
        info = summary["eval"]
        run_dir = info.get("run_dir")
        training = read_metrics(run_dir) if run_dir and Path(run_dir).is_dir() else []
        rows = read_json_lines(path / "utterances.jsonl")
        curve = sorted(read_json_lines(path / "curve.jsonl"), key=lambda row: row["step"])
        return Entry(info["family"], info["family"], path, summary, rows, info, training, curve)
    if (path / "config.yaml").is_file():
        info = run_info(path)
        return Entry(info["family"], info["family"], path, None, [], info, read_metrics(path))
    raise FileNotFoundError(
        f"{path} is neither an evaluation folder (summary.json, from `tts-gen evaluate`) nor a run folder "
        "(config.yaml, from `tts-gen train`)"
    )


def load_entries(paths: list[str | Path]) -> list[Entry]:
    """Loads every folder; labels are made unique by adding the folder name to repeated families."""
    entries = [load_entry(path) for path in paths]
    families = [entry.family for entry in entries]
    for entry in entries:
        if families.count(entry.family) > 1:
            entry.label = f"{entry.family} ({entry.path.resolve().name})"
    labels = [entry.label for entry in entries]
    for index, entry in enumerate(entries):
        if labels.count(entry.label) > 1:
            entry.label = f"{entry.label} #{index + 1}"
    return entries


def ceiling_entry(entries: list[Entry], condition: str) -> Entry | None:
    """The first of ``entries`` whose evaluation holds ``condition`` (``reference`` or ``copy-synthesis``: the same in
    every evaluation of one split through one vocoder, so a recipe may compute copy-synthesis in one of them only)."""
    return next((entry for entry in entries if entry.condition(condition)), None)
