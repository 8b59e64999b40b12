"""The files of an evaluation folder, written so that an interruption loses nothing and a rerun resumes.

::

    EVAL_DIR/
      eval.json          what was evaluated, how, and on what machine (written first, checked on a rerun)
      synth.jsonl        one row per synthesized (condition, set, utterance): paths, timings, durations...
      utterances.jsonl   the same rows with every metric added
      summary.json       means with 95% bootstrap intervals per condition, robustness counts, notes
      wavs/<condition>/<id>.wav, mels/<condition>/<id>.npy

Rows are appended one line at a time and fsynced; a rerun reads them back and skips what is done. A line
cut short by a crash is ignored (and redone).
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

from tts_gen.errors import TTSGenError
from tts_gen.files import append_json_line, read_json_lines, write_json


class EvaluationMismatch(TTSGenError):
    """An evaluation folder already holds an evaluation made with other settings."""


def clean(value: Any) -> Any:
    """Plain JSON data: NaN and infinities become None (strict JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item) for item in value]
    return value


def row_key(row: dict) -> tuple[str, str, str]:
    return row["condition"], row["set"], row["id"]


class RowLog:
    """An append-only JSON-lines file of rows keyed by (condition, set, id); the last row of a key wins."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: dict[tuple[str, str, str], dict] = {row_key(r): r for r in read_json_lines(path)}

    def __contains__(self, key: tuple[str, str, str]) -> bool:
        return key in self.rows

    def get(self, key: tuple[str, str, str]) -> dict | None:
        return self.rows.get(key)

    def append(self, row: dict) -> None:
        append_json_line(self.path, clean(row))
        self.rows[row_key(row)] = row


def git_state(path: Path) -> dict[str, Any]:
    """Commit and dirtiness of the git checkout holding ``path`` ('unknown' outside one)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


IDENTITY_KEYS = (
    "checkpoint",
    "checkpoint_step",
    "config_hash",
    "data_dir",
    "split",
    "vocoder",
    "seed",
    "length_scale",
    "choose",
)


def write_or_check_identity(path: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Writes ``eval.json`` or, when it exists, checks that it describes the same evaluation."""
    if path.is_file():
        saved = json.loads(path.read_text())
        changed = [k for k in IDENTITY_KEYS if saved.get(k) != info.get(k)]
        if changed:
            details = "; ".join(f"{k}: {saved.get(k)!r} -> {info.get(k)!r}" for k in changed)
            raise EvaluationMismatch(
                f"{path.parent} holds an evaluation with other settings ({details}); "
                "rerun with the same ones to resume it, or choose a new --out folder"
            )
        info = {**saved, **{k: v for k, v in info.items() if k not in IDENTITY_KEYS}}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, clean(info))
    return info


def update_info(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """Adds ``values`` to ``eval.json`` (what an evaluation found out on its way); returns the whole."""
    info = {**json.loads(path.read_text()), **values}
    write_json(path, clean(info))
    return info
