"""Atomic file writes: the one way tts_gen writes a file that other steps read back.

A file is written under a temporary name beside its target (``.<name>.<pid>.tmp``), flushed, optionally
fsynced, and renamed over the target, so an interrupted or killed process never leaves half a file under the
real name. A failed write removes its temporary file; a full disk is reported as :class:`DiskFullError`.

Logs that grow one record at a time (evaluation rows, cached transcripts) are JSON-lines files instead: each
record is one fsynced line (:func:`append_json_line`), and a line cut short by a crash is skipped when the file
is read back (:func:`read_json_lines`) and healed by the next append.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from tts_gen.errors import TTSGenError

TEMPORARY_SUFFIX = ".tmp"


class DiskFullError(TTSGenError):
    """There was no space left to write a file."""


def temporary_path(path: Path) -> Path:
    """The temporary name under which ``path`` is written by this process."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMPORARY_SUFFIX}")


def remove_leftovers(folder: Path) -> None:
    """Deletes the temporary files that writers killed in ``folder`` left behind."""
    for leftover in folder.glob(f".*{TEMPORARY_SUFFIX}"):
        leftover.unlink(missing_ok=True)


def fsync_directory(folder: Path) -> None:
    """Makes a rename inside ``folder`` durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", sync: bool = True, encoding: str | None = None) -> Iterator[IO]:
    """Opens a temporary file for writing that replaces ``path`` when the block ends without an error.

    Args:
        path: the file to write (its folder is created).
        mode: ``"wb"`` or ``"w"``.
        sync: fsync the file and its folder, so that the write also survives a power loss (a killed process
            never leaves half a file either way).
        encoding: text encoding (``"w"`` mode; default UTF-8).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    if "b" not in mode:
        encoding = encoding or "utf-8"
    try:
        with open(tmp, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise DiskFullError(f"no space left on the device to write {path}; free some space and run again") from None
        raise
    if sync:
        fsync_directory(path.parent)


def write_json(path: str | Path, payload: object) -> None:
    """Writes ``payload`` as indented UTF-8 JSON, atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(payload, handle, indent=1, ensure_ascii=False)


def write_text(path: str | Path, text: str) -> None:
    """Writes UTF-8 text, atomically."""
    with atomic_write(path, "w") as handle:
        handle.write(text)


def save_npy(path: str | Path, array: np.ndarray, sync: bool = False) -> None:
    """Writes one array as ``.npy``, atomically (not fsynced by default: caches are rebuilt after a power loss)."""
    with atomic_write(path, "wb", sync=sync) as handle:
        np.save(handle, array)


class ArrayFileError(TTSGenError, ValueError):
    """An ``.npy`` file is missing, damaged, or holds pickled Python objects (which are never loaded)."""


def load_npy(path: str | Path) -> np.ndarray:
    """Reads one plain array written by :func:`save_npy`; pickled objects are refused, never unpickled."""
    path = Path(path)
    if not path.is_file():
        raise ArrayFileError(f"array file {path} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error) or "Object arrays" in str(error):
            raise ArrayFileError(
                f"{path} holds pickled Python objects, which could run code when loaded; refused "
                "(tts_gen reads plain arrays only)"
            ) from None
        raise ArrayFileError(f"{path} is not a readable array file: {error}") from None
    except (OSError, EOFError) as error:
        raise ArrayFileError(f"{path} is not a readable array file: {error}") from None


def read_json_lines(path: str | Path) -> list[dict]:
    """The complete JSON lines of ``path`` (none if it does not exist; a torn line is skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def append_json_line(path: str | Path, record: dict) -> None:
    """Appends ``record`` (strict JSON: no NaN) as one fsynced line; a torn last line is first ended, so that
    it stays one skipped line and does not swallow this record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torn = False
    if path.is_file() and path.stat().st_size:
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            torn = handle.read(1) != b"\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(("\n" if torn else "") + json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
