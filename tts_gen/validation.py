"""Checks of input at the boundary: names used as file names, numbers, types, and outputs that must be finite.

Every command and the Python API check what a user hands them here, before any work, so that bad input ends in
one clear error (the command line prints it as one line with exit status 2) instead of a traceback, a file
written in the wrong place, or a silently wrong result. Each kind of failure has its own error type; all are
:class:`TTSGenError` and ``ValueError`` subclasses.
"""

from __future__ import annotations

import math
import numbers
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import torch

from tts_gen.errors import TTSGenError

MAX_NAME_BYTES = 200
"""Longest utterance id (UTF-8 bytes): with an extension and the temporary name of an atomic write, the file
name stays within the 255 bytes that file systems allow."""


class InputError(TTSGenError, ValueError):
    """Base of the errors about a value handed to tts_gen."""


class UnsafeNameError(InputError):
    """A name that is used as a file name (an utterance id) is not a plain file name."""


class DuplicateNameError(InputError):
    """Two items that are written to (or read from) files of the same name."""


class NumberOutOfRangeError(InputError):
    """A number is not a finite number in its allowed range."""


class WrongTypeError(InputError, TypeError):
    """A value of the wrong type (``bytes`` or a number where text is expected, for example)."""


class NonFiniteOutputError(TTSGenError, ValueError):
    """A model produced NaN or infinite values; nothing is written from them."""


def safe_name(name: object, what: str = "id") -> str:
    """``name`` if it can be used as a file name inside a folder, else an :class:`UnsafeNameError`.

    A safe name is non-empty text of at most :data:`MAX_NAME_BYTES` UTF-8 bytes, holds no path separator
    (``/`` or ``\\``), no control character and no surrounding whitespace, is not ``.`` or ``..`` and does not
    start with a dot (hidden files, and the temporary files of atomic writes).

    Args:
        name: the candidate (an utterance id).
        what: how the message names it, e.g. ``"metadata.csv:12: id"``.
    """
    if not isinstance(name, str):
        raise UnsafeNameError(f"{what} must be text, got {type(name).__name__}")
    problem = name_problem(name)
    if problem:
        raise UnsafeNameError(f"{what} {name[:80]!r} {problem}; an id must be a plain file name such as LJ001-0001")
    return name


def name_problem(name: str) -> str | None:
    """What makes ``name`` unusable as a plain file name (see :func:`safe_name`), or None."""
    if not name:
        return "is empty"
    if name != name.strip():
        return "starts or ends with white space"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "contains a control character"
    if name.startswith("."):
        return "starts with a dot"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def file_in_folder(folder: str | Path, name: str, suffix: str, what: str = "id") -> Path:
    """``folder / (name + suffix)`` for a :func:`safe_name`: a path that cannot leave ``folder``."""
    return Path(folder) / f"{safe_name(name, what)}{suffix}"


class OutputPathError(InputError):
    """An output file cannot be written where it was asked for."""


def check_writable(paths: Iterable[Path]) -> None:
    """Creates the folders of ``paths`` and checks that files can be written in them (before any work is done), and
    that no path is an existing folder; else an :class:`OutputPathError` naming the place."""
    paths = [Path(path) for path in paths]
    for folder in sorted({path.parent for path in paths}):
        if folder.exists() and not folder.is_dir():
            raise OutputPathError(f"cannot write to {folder}: it is a file, not a folder")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise OutputPathError(f"cannot write to {folder}: {error.strerror or error}") from None
    for path in paths:
        if path.is_dir():
            raise OutputPathError(f"{path} is a folder, not a file to write")


def check_unique(names: Iterable[tuple[str, str]], what: str = "id") -> None:
    """Raises :class:`DuplicateNameError` naming both places when a name occurs twice.

    Args:
        names: ``(name, where)`` pairs; ``where`` locates the name (``"lines.txt:3"``).
    """
    seen: dict[str, str] = {}
    for name, where in names:
        if name in seen:
            raise DuplicateNameError(f"{where}: duplicate {what} {name!r} (first at {seen[name]})")
        seen[name] = where


def finite_number(
    value: object,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    above_minimum: bool = False,
) -> float:
    """``value`` as a float if it is a finite real number within the range, else a :class:`NumberOutOfRangeError`
    (a :class:`WrongTypeError` when it is not a number at all).

    Args:
        value: the candidate (bools and text are not numbers).
        name: how the message names it, e.g. ``"length_scale"``.
        minimum, maximum: inclusive bounds (``None`` = unbounded).
        above_minimum: the minimum itself is excluded (``> minimum``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WrongTypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise NumberOutOfRangeError(f"{name} must be a finite number, got {number}")
    low_ok = minimum is None or (number > minimum if above_minimum else number >= minimum)
    if not low_ok or (maximum is not None and number > maximum):
        raise NumberOutOfRangeError(f"{name} must be {_range_text(minimum, maximum, above_minimum)}, got {number:g}")
    return number


def _range_text(minimum: float | None, maximum: float | None, above_minimum: bool) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if above_minimum else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return " and ".join(parts)


def check_text(text: object, what: str = "text") -> str:
    """``text`` if it is a ``str``; ``bytes`` and other types are a :class:`WrongTypeError` that says what to do."""
    if isinstance(text, (bytes, bytearray)):
        raise WrongTypeError(f"{what} must be a str, got bytes; decode it first, e.g. data.decode('utf-8')")
    if not isinstance(text, str):
        raise WrongTypeError(f"{what} must be a str, got {type(text).__name__}")
    return text


def check_finite(tensor: torch.Tensor, what: str) -> torch.Tensor:
    """``tensor`` if every value is finite, else a :class:`NonFiniteOutputError` naming ``what``."""
    if not bool(torch.isfinite(tensor).all()):
        raise NonFiniteOutputError(
            f"{what} holds NaN or infinite values; nothing was written. Check the sampling options "
            "(temperature, steps...) and the checkpoint"
        )
    return tensor


class TextFileError(InputError):
    """A file that should hold text is missing, a folder, or not UTF-8."""


def read_text_file(path: str | Path, what: str = "text file") -> str:
    """The UTF-8 text of ``path`` (a byte order mark is dropped), or a :class:`TextFileError` naming the file and,
    for bytes that are not UTF-8, the line that holds them."""
    path = Path(path)
    if path.is_dir():
        raise TextFileError(f"{what} {path} is a folder; give a text file")
    if not path.is_file():
        raise TextFileError(f"{what} {path} does not exist")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TextFileError(
            f"{path}:{line}: {what} is not UTF-8 (byte {data[error.start]:#04x}); convert it, "
            f"e.g. iconv -f latin1 -t utf-8 {path.name} > {path.stem}.utf8{path.suffix}"
        ) from None
