"""Text -> units -> token ids, in phoneme or character mode, with a checkable symbol table."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from tts_gen.errors import TTSGenError
from tts_gen.text.normalize import normalize_text
from tts_gen.text.phonemize import phonemize_words, word_units
from tts_gen.text.pronunciations import Pronunciations, inline_segments
from tts_gen.text.symbols import PAD, PUNCTUATION, TABLES, WORD_BOUNDARY, SymbolTable
from tts_gen.text.unicode_clean import UnsupportedCharacterWarning

MODES = tuple(TABLES)
_SILENT_UNITS = frozenset((PAD, WORD_BOUNDARY) + PUNCTUATION)
_LEADING_PAUSE_RE = re.compile(r"^\s*([,;:.!?])")


@dataclass
class TextConfig:
    """How text becomes tokens.

    Attributes:
        mode: "phonemes" (gruut phonemes of the normalized text) or "characters" (its lowercase characters).
        edge_pauses: the model reads a word boundary before the first unit and after the last, the units that the
            silence opening and closing a recording aligns to. Without them the aligner gives the first phoneme
            the leading silence (on the built-in corpus 18 frames, against 6 for a phoneme inside the text) and the
            decoders garble the first words. Checkpoints saved without this setting read their text without them.
    """

    mode: str = "phonemes"
    edge_pauses: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"text mode must be one of {list(MODES)}, got {self.mode!r}")


class UnspeakableTextError(TTSGenError, ValueError):
    """A text with nothing to speak: no words, numbers or letters are left after normalization."""


def has_speech(units: list[str]) -> bool:
    """True when the units contain something besides padding, word boundaries and pause marks."""
    return any(unit not in _SILENT_UNITS for unit in units)


def word_spans(units: list[str]) -> list[tuple[int, int]]:
    """[start, end) of each word in ``units``: the maximal runs of units that are neither the word boundary nor
    a pause mark."""
    spans, start = [], None
    for index, unit in enumerate([*units, WORD_BOUNDARY]):
        silent = unit == WORD_BOUNDARY or unit in PUNCTUATION
        if not silent and start is None:
            start = index
        elif silent and start is not None:
            spans.append((start, index))
            start = None
    return spans


@dataclass
class WordSpan:
    """A spoken word: its text (as normalized, or an inline ``[[ ... ]]`` block) and its units [start, end),
    the pause mark after it excluded."""

    text: str
    start: int
    end: int


@dataclass
class Encoding:
    """A text as the model reads it: units, their token ids, and the words they belong to."""

    units: list[str]
    ids: list[int]
    words: list[WordSpan]


class Tokenizer:
    """Turns English text into token ids of a fixed symbol table (see :mod:`tts_gen.text.symbols`).

    Args:
        config: the text mode.
        pronunciations: the user's lexicon, consulted before gruut's (phoneme mode only; see
            :mod:`tts_gen.text.pronunciations`).
    """

    def __init__(self, config: TextConfig, pronunciations: Pronunciations | None = None):
        self.config = config
        self.table: SymbolTable = TABLES[config.mode]
        self._ids = {symbol: index for index, symbol in enumerate(self.table.symbols)}
        if pronunciations is not None and config.mode != "phonemes":
            raise ValueError(f"a pronunciation lexicon needs a model trained on phonemes; this one reads {config.mode}")
        self.pronunciations = pronunciations

    @property
    def symbols(self) -> list[str]:
        """The units of this tokenizer's table; a unit's id is its index."""
        return list(self.table.symbols)

    @property
    def num_symbols(self) -> int:
        """Size of the table (the embedding size a model needs)."""
        return len(self.table.symbols)

    @property
    def pad_id(self) -> int:
        """Id of the padding symbol (always 0)."""
        return self._ids[PAD]

    def units(self, text: str) -> list[str]:
        """Normalizes ``text`` and returns its phonemes, or its lowercase characters in character mode (inline
        ``[[ ... ]]`` blocks give their own units)."""
        return self._units_and_words(text)[0]

    def units_of_normalized(self, normalized: str) -> list[str]:
        """Units of text already normalized by :func:`normalize_text`."""
        return self._spoken(normalized)[0]

    def _spoken(self, normalized: str) -> tuple[list[str], list[str]]:
        """Units of normalized text and the text of each of its words."""
        if self.config.mode == "phonemes":
            lookup = self.pronunciations.lookup if self.pronunciations is not None else None
            words = phonemize_words(normalized, lookup)
            return word_units(words), [word.text for word in words]
        units = self._characters(normalized)
        return units, ["".join(units[start:end]) for start, end in word_spans(units)]

    def _units_and_words(self, text: str) -> tuple[list[str], list[str]]:
        """Units of raw text, and the text of each word: plain pieces are normalized and phonemized, inline
        blocks give their units; a pause mark right after a block stays with it."""
        units: list[str] = []
        names: list[str] = []
        for segment in inline_segments(text, self.table):
            if segment.inline:
                piece = list(segment.units)
                piece_names = [segment.text] * len(word_spans(piece))
            else:
                lead = _LEADING_PAUSE_RE.match(segment.text)
                if lead and units and units[-1] not in PUNCTUATION:
                    units.append(lead.group(1))
                piece, piece_names = self._spoken(normalize_text(segment.text))
            if piece:
                units += [WORD_BOUNDARY, *piece] if units else piece
                names += piece_names
        return units, names

    def _characters(self, normalized: str) -> list[str]:
        kept: list[str] = []
        warned: set[str] = set()
        for char in normalized.lower():
            if char in self._ids:
                kept.append(char)
            elif char not in warned:
                warned.add(char)
                warnings.warn(
                    f"character mode drops {char!r} (U+{ord(char):04X}): it is not in the character table",
                    UnsupportedCharacterWarning,
                    stacklevel=3,
                )
        return kept

    def model_units(self, units: list[str]) -> list[str]:
        """The units the model reads: ``units`` framed by a word boundary at each end (with ``edge_pauses``)."""
        return [WORD_BOUNDARY, *units, WORD_BOUNDARY] if self.config.edge_pauses else list(units)

    def units_to_ids(self, units: list[str]) -> list[int]:
        """Ids of the units; a unit missing from the table is a ValueError naming it."""
        ids = []
        for unit in units:
            if unit not in self._ids:
                raise ValueError(
                    f"unit {unit!r} is not in the {self.config.mode} symbol table (version {self.table.version}); "
                    "add it to tts_gen/text/symbols.py and bump the table version"
                )
            ids.append(self._ids[unit])
        return ids

    def ids_to_units(self, ids: list[int]) -> list[str]:
        """Inverse of :meth:`units_to_ids`."""
        for token_id in ids:
            if not 0 <= token_id < self.num_symbols:
                raise ValueError(
                    f"token id {token_id} is outside the {self.config.mode} table (0..{self.num_symbols - 1})"
                )
        return [self.table.symbols[token_id] for token_id in ids]

    def analyze(self, text: str) -> Encoding:
        """Units, token ids and words of ``text``, as the model reads them (:meth:`model_units`).

        Raises:
            ValueError: nothing speakable is left after normalization, or a unit is not in the table
                (:class:`~tts_gen.text.pronunciations.PronunciationError` for inline phonemes).
        """
        units, names = self._units_and_words(text)
        if not has_speech(units):
            raise UnspeakableTextError(
                f"the text {text!r} has nothing to speak: after normalization it has no words; "
                "give English words, numbers or letters"
            )
        units = self.model_units(units)
        spans = word_spans(units)
        return Encoding(units, self.units_to_ids(units), [WordSpan(n, s, e) for n, (s, e) in zip(names, spans)])

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; a ValueError when nothing speakable is left after normalization."""
        return self.analyze(text).ids

    def state_dict(self) -> dict:
        """The table in a form to save with a model checkpoint."""
        return {
            "mode": self.config.mode,
            "version": self.table.version,
            "symbols": list(self.table.symbols),
            "edge_pauses": self.config.edge_pauses,
        }

    def check_compatible(self, state: dict) -> None:
        """Raises ValueError when a saved table (from :meth:`state_dict`) differs from this tokenizer's."""
        missing = {"mode", "version", "symbols"} - set(state)
        if missing:
            raise ValueError(
                f"saved symbol table lacks {sorted(missing)}; expected the output of Tokenizer.state_dict()"
            )
        if state["mode"] != self.config.mode:
            raise ValueError(
                f"the checkpoint was trained in text mode {state['mode']!r} but this tokenizer uses "
                f"{self.config.mode!r}; set text mode to {state['mode']!r}"
            )
        if state["version"] != self.table.version or list(state["symbols"]) != list(self.table.symbols):
            raise ValueError(_table_difference(state, self.table))
        saved_edges = saved_edge_pauses(state)
        if saved_edges != self.config.edge_pauses:
            raise ValueError(
                f"the checkpoint reads its text {'with' if saved_edges else 'without'} edge pauses, this tokenizer "
                f"{'with' if self.config.edge_pauses else 'without'}; set text.edge_pauses to {saved_edges}"
            )

    @classmethod
    def from_state_dict(cls, state: dict) -> Tokenizer:
        """Rebuilds the tokenizer of a saved table and checks it matches this code's table."""
        if not isinstance(state, dict) or "mode" not in state:
            raise ValueError("saved symbol table must be a dict from Tokenizer.state_dict() with a 'mode' key")
        tokenizer = cls(TextConfig(mode=state["mode"], edge_pauses=saved_edge_pauses(state)))
        tokenizer.check_compatible(state)
        return tokenizer


def saved_edge_pauses(state: dict) -> bool:
    """Whether a saved table's model reads edge pauses: tables saved before the setting existed do not."""
    return bool(state.get("edge_pauses", False))


def _table_difference(state: dict, table: SymbolTable) -> str:
    """A message that says how a saved table differs from the code's table."""
    saved = list(state["symbols"])
    current = list(table.symbols)
    details = []
    if state["version"] != table.version:
        details.append(f"saved version {state['version']}, code version {table.version}")
    only_saved = [s for s in saved if s not in current]
    only_current = [s for s in current if s not in saved]
    if only_saved:
        details.append(f"only in the checkpoint: {only_saved}")
    if only_current:
        details.append(f"only in the code: {only_current}")
    if not only_saved and not only_current and saved != current:
        details.append("same symbols in a different order")
    return (
        f"the checkpoint's {table.mode} symbol table does not match this code's ({'; '.join(details)}); "
        "use the tts_gen version the checkpoint was trained with, or retrain"
    )
