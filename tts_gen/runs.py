"""Run folders: checkpoints (save, load, list, resolve, prune), the kind check, and training metrics.

A run folder (``tts-gen train`` or ``train-vocoder``) holds ``config.yaml``, ``metrics.jsonl`` and
``checkpoints/step_<N>.pt`` plus ``checkpoints/best.pt``. Each checkpoint is a dict that carries everything
needed to use it (its ``kind``, resolved config, symbol table, mel statistics, versions) and everything needed
to resume exactly (optimizers, schedulers, scaler, EMA, step, sampler position, RNG states). Training,
synthesis, evaluation and the vocoders all read runs through this module.
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path
from typing import Any

import torch

from tts_gen.errors import TTSGenError
from tts_gen.files import atomic_write

FORMAT = "tts_gen-checkpoint"
FORMAT_VERSION = 1
STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")


class CheckpointError(TTSGenError):
    """A checkpoint is missing, corrupt or does not fit what it is used with."""


def versions() -> dict[str, str]:
    from tts_gen import __version__

    return {"tts_gen": __version__, "torch": str(torch.__version__), "python": platform.python_version()}


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Writes ``payload`` atomically and durably: a crash never leaves half a file."""
    with atomic_write(path, "wb") as handle:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, handle)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a checkpoint file; a missing, unreadable or foreign file is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt file  # noqa: BLE001
        reason = str(error).strip().splitlines()[-1][:200] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable: {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tts_gen checkpoint")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer tts_gen; upgrade to read it")
    return payload


def load_run_checkpoint(path: str | Path, kind: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint of a run folder (its best) or a checkpoint file, which must be of ``kind``
    (``acoustic`` or ``vocoder``)."""
    payload = load_checkpoint(resolve_checkpoint(path), map_location)
    if payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a checkpoint of kind {payload.get('kind')!r}, not {kind!r}")
    return payload


def step_checkpoints(run_dir: str | Path) -> list[Path]:
    """The step checkpoints of a run folder, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in folder.glob("step_*.pt") if (m := STEP_PATTERN.search(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = step_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file as given, or a run folder's ``best.pt`` (its latest step checkpoint if none)."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        best = path / "checkpoints" / "best.pt"
        if best.is_file():
            return best
        latest = latest_checkpoint(path)
        if latest is not None:
            return latest
        raise CheckpointError(f"{path} holds no checkpoint (expected checkpoints/best.pt or step_*.pt)")
    raise CheckpointError(f"checkpoint {path} does not exist")


def checkpoint_step(path: Path) -> int:
    """The step of a ``step_<N>.pt`` file."""
    return int(STEP_PATTERN.search(path.name).group(1))


def prune_checkpoints(run_dir: str | Path, keep_last: int, keep_every: int = 0) -> None:
    """Deletes all but the newest ``keep_last`` step checkpoints and those at multiples of ``keep_every``
    (``best.pt`` is never deleted)."""
    for old in step_checkpoints(run_dir)[:-keep_last]:
        if not (keep_every and checkpoint_step(old) % keep_every == 0):
            old.unlink(missing_ok=True)


def checkpoint_run_dir(checkpoint: Path) -> str | None:
    """The run folder a checkpoint file belongs to (for its training metrics), if it has one."""
    if checkpoint.parent.name == "checkpoints" and (checkpoint.parent.parent / "config.yaml").is_file():
        return str(checkpoint.parent.parent.resolve())
    return None


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` (empty if it has none)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
