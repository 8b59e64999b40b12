"""Run folders: checkpoints (save, load, list, resolve, prune), the kind check, and training metrics.

A run folder (``tts-gen train`` or ``train-vocoder``) holds ``config.yaml``, ``metrics.jsonl`` and
``checkpoints/step_<N>.pt`` plus ``checkpoints/best.pt``. Each checkpoint is a dict that carries everything
needed to use it (its ``kind``, resolved config, symbol table, mel statistics, versions) and everything needed
to resume exactly (optimizers, schedulers, scaler, EMA, step, sampler position, RNG states), plus a SHA-256
checksum of all of it, so that a damaged file (even one flipped bit) is detected when it is loaded. Loading a run
folder falls back to its newest intact checkpoint, with a warning naming the damaged one. Training, synthesis,
evaluation and the vocoders all read runs through this module.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import pickletools
import platform
import re
import warnings
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import torch

from tts_gen.errors import TTSGenError
from tts_gen.files import atomic_write, remove_leftovers

FORMAT = "tts_gen-checkpoint"
FORMAT_VERSION = 2  # 2: with a checksum of the contents; 1 (still read): without
STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")


class CheckpointError(TTSGenError):
    """A checkpoint is missing, corrupt or does not fit what it is used with."""


class CorruptCheckpointError(CheckpointError):
    """A checkpoint file is truncated, unreadable, or its contents do not match its checksum."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint holds pickled objects (code) besides tensors and plain data; it is not loaded."""


class CheckpointFallbackWarning(UserWarning):
    """A run's checkpoint was damaged and an older intact one was used instead."""


def versions() -> dict[str, str]:
    from tts_gen import __version__

    return {"tts_gen": __version__, "torch": str(torch.__version__), "python": platform.python_version()}


def content_checksum(payload: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint's contents: every key, plain value and tensor (dtype, shape and bytes), in order."""
    digest = hashlib.sha256()
    _hash_value(digest, payload)
    return digest.hexdigest()


def _hash_value(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"T{value.dtype}{tuple(value.shape)}|".encode())
        digest.update(flat.view(torch.uint8).numpy() if flat.numel() else b"")
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}|".encode())
        for key, item in value.items():
            _hash_value(digest, key)
            _hash_value(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}|".encode())
        for item in value:
            _hash_value(digest, item)
    elif isinstance(value, float):
        digest.update(f"F{value.hex()}|".encode())
    elif value is None or isinstance(value, (bool, int, str)):
        text = repr(value)
        digest.update(f"{type(value).__name__[0]}{len(text)}|{text}".encode())
    elif isinstance(value, (bytes, torch.dtype)):
        digest.update(f"O{type(value).__name__}|{value!r}".encode())
    else:
        raise TypeError(f"a checkpoint cannot hold a {type(value).__name__} ({value!r:.80})")


class _WriteGuard:
    """A file handle that remembers the OSError of a failed write: torch.save replaces it by an error of its own
    (a full disk would otherwise not be recognised)."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self.handle.write(data)
        except OSError as error:
            self.error = error
            raise

    def flush(self) -> None:
        self.handle.flush()


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Writes ``payload`` with a checksum of its contents, atomically and durably: a crash never leaves half a
    file, and a failed write (a full disk: :class:`DiskFullError`) removes its temporary file. Temporary files
    that killed saves left in the folder are removed first."""
    path = Path(path)
    body = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    body["checksum"] = content_checksum(body)
    if path.parent.is_dir():
        remove_leftovers(path.parent)
    with atomic_write(path, "wb") as handle:
        guard = _WriteGuard(handle)
        try:
            torch.save(body, guard)
        except RuntimeError:
            if guard.error is not None:
                raise guard.error from None
            raise


def _read(path: Path, map_location: str | torch.device) -> Any:
    """``torch.load`` with ``weights_only``; a refused object and a damaged file are told apart."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # a foreign file: refused below
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file  # noqa: BLE001
        culprit = _refused_global(error, path)
        if culprit:
            raise UnsafeCheckpointError(
                f"checkpoint {path} holds a pickled Python object ({culprit}) that could run code when loaded; "
                "refused. tts_gen loads only tensors and plain data: use a checkpoint from a source you trust"
            ) from None
        raise CorruptCheckpointError(f"checkpoint {path} is corrupt or unreadable: {_reason(error)}") from None


SAFE_GLOBALS = ("torch.", "collections.OrderedDict", "_codecs.encode")


def _refused_global(error: Exception, path: Path) -> str | None:
    """The name of the Python object a refused file would have imported, if that is why it was refused: from
    torch's message, or (a plain pickle that torch cannot parse) from the file's opcodes, read without running them."""
    found = re.search(r"GLOBAL ([\w.]+)", str(error))
    if found:
        return found.group(1)
    if not isinstance(error, pickle.UnpicklingError) or zipfile.is_zipfile(path):
        return None
    names, strings = [], []
    try:
        for opcode, argument, _ in pickletools.genops(path.read_bytes()):
            if opcode.name == "GLOBAL":
                names.append(str(argument).replace(" ", "."))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(".".join(strings[-2:]))
            elif isinstance(argument, str):
                strings.append(argument)
    except (ValueError, EOFError, pickle.UnpicklingError):  # not a pickle after all: a damaged file
        pass
    return next((name for name in names if not name.startswith(SAFE_GLOBALS)), None)


BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation", "Re-running")


def _reason(error: Exception) -> str:
    """The line of a load error that says what is wrong (torch wraps it in advice that does not apply here)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(BOILERPLATE)] or lines
    return lines[-1][:200] if lines else type(error).__name__


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a checkpoint file and checks its checksum.

    Raises:
        CheckpointError: a missing or foreign file, or one of a newer tts_gen;
        CorruptCheckpointError: a truncated or damaged file (checksum mismatch);
        UnsafeCheckpointError: a file that holds pickled objects besides tensors and plain data.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    payload = _read(path, map_location)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tts_gen checkpoint")
    version = payload.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer tts_gen; upgrade to read it")
    if version == FORMAT_VERSION:
        checksum = payload.pop("checksum", None)
        if checksum != content_checksum(payload):
            raise CorruptCheckpointError(
                f"checkpoint {path} is corrupt: its contents do not match its checksum (a damaged file); "
                "use another checkpoint of the run"
            )
    elif version != 1:
        raise CorruptCheckpointError(f"checkpoint {path} is corrupt: unknown format version {version!r}")
    return payload


def load_first_intact(paths: list[Path], map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """The first of ``paths`` that loads intact; each damaged one before it is named in a
    :class:`CheckpointFallbackWarning`. When none is intact, a :class:`CorruptCheckpointError` names the first and
    counts the others."""
    damaged: list[CorruptCheckpointError] = []
    for path in paths:
        try:
            payload = load_checkpoint(path, map_location)
        except CorruptCheckpointError as error:
            damaged.append(error)
            continue
        for error in damaged:
            warnings.warn(f"{error}; using {path} instead", CheckpointFallbackWarning, stacklevel=2)
        return path, payload
    if damaged:
        more = f" (and {len(damaged) - 1} older checkpoint(s) are damaged too)" if len(damaged) > 1 else ""
        raise CorruptCheckpointError(f"{damaged[0]}{more}")
    raise CheckpointError("no checkpoint to load")


def run_checkpoints(run_dir: str | Path) -> list[Path]:
    """A run folder's checkpoints in the order a run is loaded: ``best.pt``, then step checkpoints, newest first."""
    folder = Path(run_dir) / "checkpoints"
    best = [folder / "best.pt"] if (folder / "best.pt").is_file() else []
    return best + step_checkpoints(run_dir)[::-1]


def load_latest_checkpoint(run_dir: str | Path, map_location: str | torch.device = "cpu"):
    """``(path, payload)`` of the newest intact step checkpoint of a run folder (to resume it), or None when it
    has none; a damaged newer one is named in a warning."""
    found = step_checkpoints(run_dir)[::-1]
    return load_first_intact(found, map_location) if found else None


def load_run_checkpoint(path: str | Path, kind: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint of a run folder (its best, or the newest intact one with a warning when that is damaged)
    or a checkpoint file, which must be of ``kind`` (``acoustic`` or ``vocoder``)."""
    path = Path(path)
    if path.is_dir():
        candidates = run_checkpoints(path)
        if not candidates:
            raise CheckpointError(f"{path} holds no checkpoint (expected checkpoints/best.pt or step_*.pt)")
        _, payload = load_first_intact(candidates, map_location)
    else:
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
    """A checkpoint file as given, or the checkpoint a run folder is loaded from: its ``best.pt`` (its newest step
    checkpoint if none), or its newest intact one, with a warning, when that is damaged (each candidate is read to
    check it; :func:`load_run_checkpoint` reads it only once)."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        candidates = run_checkpoints(path)
        if not candidates:
            raise CheckpointError(f"{path} holds no checkpoint (expected checkpoints/best.pt or step_*.pt)")
        return load_first_intact(candidates)[0]
    raise CheckpointError(f"checkpoint {path} does not exist")


def checkpoint_step(path: Path) -> int:
    """The step of a ``step_<N>.pt`` file."""
    return int(STEP_PATTERN.search(path.name).group(1))


def prune_checkpoints(
    run_dir: str | Path, keep_last: int, keep_every: int = 0, keep_steps: Collection[int] = ()
) -> None:
    """Deletes all but the newest ``keep_last`` step checkpoints, those at multiples of ``keep_every`` and those of
    the steps ``keep_steps`` (``best.pt`` is never deleted)."""
    for old in step_checkpoints(run_dir)[:-keep_last]:
        step = checkpoint_step(old)
        if not (keep_every and step % keep_every == 0) and step not in keep_steps:
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
