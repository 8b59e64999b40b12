"""Checkpoints: atomic writes, the last K kept plus the best, and loading with clear errors.

A run folder holds ``checkpoints/step_<N>.pt`` and ``checkpoints/best.pt``. Each file is a dict that carries
everything needed to use it (resolved config, symbol table, mel statistics, versions) and everything needed
to resume exactly (optimizers, schedulers, scaler, EMA, step, sampler position, RNG states).
"""

from __future__ import annotations

import os
import platform
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tts_gen.errors import TTSGenError

FORMAT = "tts_gen-checkpoint"
FORMAT_VERSION = 1
STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")


class CheckpointError(TTSGenError):
    """A checkpoint is missing, corrupt or does not fit what it is used with."""


def versions() -> dict[str, str]:
    from tts_gen import __version__

    return {"tts_gen": __version__, "torch": str(torch.__version__), "python": platform.python_version()}


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Writes ``payload`` through a temporary file, fsync and a rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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


def prune_checkpoints(run_dir: str | Path, keep_last: int) -> None:
    """Deletes all but the newest ``keep_last`` step checkpoints (``best.pt`` is never deleted)."""
    for old in step_checkpoints(run_dir)[:-keep_last]:
        old.unlink(missing_ok=True)


def load_submodules(model: torch.nn.Module, state: dict[str, torch.Tensor], modules: list[str]) -> int:
    """Copies the weights of the top-level ``modules`` of ``model`` (every submodule when empty; buffers of the
    model itself, such as its mel statistics, stay its own) from a checkpoint's state dict.

    Returns the number of tensors copied; a missing module or a shape mismatch is a CheckpointError.
    """
    own = model.state_dict()
    copied = 0
    for module in modules or [name for name, child in model.named_children() if child.state_dict()]:
        keys = [k for k in own if k.startswith(f"{module}.")]
        if not keys:
            raise CheckpointError(f"the model has no submodule {module!r} to initialise")
        extra = sorted(k for k in state if k.startswith(f"{module}.") and k not in own)
        if extra:
            raise CheckpointError(f"the checkpoint's {module} has weights this model lacks, e.g. {extra[0]}")
        for key in keys:
            if key not in state or state[key].shape != own[key].shape:
                raise CheckpointError(f"cannot initialise {key} from the checkpoint: missing or of another shape")
            own[key] = state[key]
            copied += 1
    model.load_state_dict(own)
    return copied


def rng_state() -> dict[str, Any]:
    """Every random generator training draws from, in a form ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [str(np_state[0]), torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]), int(np_state[3]), float(np_state[4])],
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
