"""Pronunciation control: a user lexicon (word -> phonemes, over gruut's) and inline phonemes in the text.

A lexicon file has one word per line, then its phonemes separated by spaces; ``#`` starts a comment::

    # word      phonemes (the symbols `tts-gen text` prints)
    tomato      t ə m ˈɑ t oʊ
    tts_gen     t ˌi t ˌi ˈɛ s d͡ʒ ˈɛ n

Words are matched without regard to case. Inline phonemes are written ``[[t ə m ˈɑ t oʊ]]`` in the text: the
block is spoken as one word with exactly those units. Both are checked against the model's symbol table, and a
symbol it lacks is an error that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tts_gen.text.symbols import PAD, PUNCTUATION, WORD_BOUNDARY, SymbolTable

INLINE_RE = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_COMMENT_RE = re.compile(r"#.*$")


class PronunciationError(ValueError):
    """A lexicon entry or an inline block uses a symbol that the model's table lacks, or is malformed."""


def check_units(units: list[str], table: SymbolTable, where: str) -> list[str]:
    """Returns ``units`` if each is a speakable symbol of ``table``; otherwise a :class:`PronunciationError`
    naming the first bad one and ``where`` it was found."""
    if not units:
        raise PronunciationError(f"{where} lists no {table.mode} symbol")
    known = set(table.symbols) - {PAD, WORD_BOUNDARY}
    for unit in units:
        if unit not in known:
            examples = " ".join(s for s in table.symbols if s not in (PAD, WORD_BOUNDARY) + PUNCTUATION)
            raise PronunciationError(
                f"{where}: {unit!r} is not in the model's {table.mode} symbol table (v{table.version}); "
                f"its symbols are: {examples}"
            )
    return units


@dataclass(frozen=True)
class Pronunciations:
    """The user's lexicon: lowercase word -> phonemes (checked against one symbol table)."""

    entries: dict[str, tuple[str, ...]]

    def lookup(self, word: str) -> list[str] | None:
        """The phonemes of ``word`` (any case), or None when the lexicon does not list it."""
        found = self.entries.get(word.lower())
        return list(found) if found is not None else None

    def __len__(self) -> int:
        return len(self.entries)


def read_pronunciations(path: str | Path, table: SymbolTable) -> Pronunciations:
    """Reads a lexicon file (see the module docstring) whose phonemes must be symbols of ``table``.

    Raises:
        FileNotFoundError: the file is missing.
        PronunciationError: a line without phonemes, a symbol the table lacks, or a model that reads characters.
    """
    path = Path(path)
    if table.mode != "phonemes":
        raise PronunciationError(
            f"a pronunciation lexicon ({path}) needs a model trained on phonemes; this model reads {table.mode}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"lexicon file {path} does not exist")
    entries: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = _COMMENT_RE.sub("", line).split()
        if not fields:
            continue
        word, phonemes = fields[0], fields[1:]
        where = f"{path}:{number} ({word!r})"
        entries[word.lower()] = tuple(check_units(phonemes, table, where))
    return Pronunciations(entries)


@dataclass(frozen=True)
class Segment:
    """A piece of a sentence: plain text to normalize and phonemize, or an inline block's units."""

    text: str
    units: tuple[str, ...] | None = None

    @property
    def inline(self) -> bool:
        return self.units is not None


def inline_segments(text: str, table: SymbolTable) -> list[Segment]:
    """Splits ``text`` at its ``[[ ... ]]`` blocks; each block's units are checked against ``table``.

    Raises:
        PronunciationError: a block with a symbol the table lacks, an empty block, or an unclosed ``[[``.
    """
    segments, position = [], 0
    for match in INLINE_RE.finditer(text):
        segments.append(Segment(text[position : match.start()]))
        units = check_units(match.group(1).split(), table, f"inline phonemes {match.group(0)!r}")
        segments.append(Segment(match.group(0), tuple(units)))
        position = match.end()
    rest = text[position:]
    if "[[" in rest or "]]" in rest:
        raise PronunciationError(f"unbalanced [[ ]] in {text!r}; write inline phonemes as [[p1 p2 ...]]")
    segments.append(Segment(rest))
    return [segment for segment in segments if segment.inline or segment.text.strip()]


def protect_inline(text: str) -> tuple[str, list[str]]:
    """Replaces each ``[[ ... ]]`` block by a placeholder that sentence splitting keeps whole; returns the text
    and the blocks, for :func:`restore_inline`."""
    blocks: list[str] = []

    def placeholder(match: re.Match) -> str:
        blocks.append(match.group(0))
        return f"\ue000{len(blocks) - 1}\ue001"

    return INLINE_RE.sub(placeholder, text), blocks


def restore_inline(text: str, blocks: list[str]) -> str:
    """Inverse of :func:`protect_inline` on a piece of the protected text."""
    return re.sub("\ue000(\\d+)\ue001", lambda match: blocks[int(match.group(1))], text)
