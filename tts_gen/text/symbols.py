"""Fixed, versioned symbol tables for the two text modes.

A model checkpoint stores the table it was trained with (see :meth:`tts_gen.text.Tokenizer.state_dict`); any
change to a table below (adding, removing or reordering symbols) must bump that table's version.

Both tables start with the padding symbol at id 0.
"""

from __future__ import annotations

from dataclasses import dataclass

PAD = "<pad>"
WORD_BOUNDARY = " "
# Pause marks kept by the normalizer, in both modes.
PUNCTUATION = (",", ";", ":", ".", "!", "?")

# Every phoneme gruut 2.4 (gruut-lang-en 2.0) can produce for en-us: the union of its lexicon and of its g2p
# model's output labels. Stress is part of the vowel: "ˈ" primary, "ˌ" secondary.
CONSONANTS = (
    "b",
    "d",
    "d͡ʒ",
    "f",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "s",
    "t",
    "t͡ʃ",
    "v",
    "w",
    "z",
    "ð",
    "ŋ",
    "ɡ",
    "ɹ",
    "ʃ",
    "ʒ",
    "θ",
)
VOWELS = ("aɪ", "aʊ", "eɪ", "i", "oʊ", "u", "æ", "ɑ", "ɔ", "ɔɪ", "ə", "ɚ", "ɛ", "ɪ", "ʊ", "ʌ")
PRIMARY_STRESSED_VOWELS = (
    "ˈaɪ",
    "ˈaʊ",
    "ˈeɪ",
    "ˈi",
    "ˈoʊ",
    "ˈu",
    "ˈæ",
    "ˈɑ",
    "ˈɔ",
    "ˈɔɪ",
    "ˈɚ",
    "ˈɛ",
    "ˈɪ",
    "ˈʊ",
    "ˈʌ",
)
SECONDARY_STRESSED_VOWELS = (
    "ˌaɪ",
    "ˌaʊ",
    "ˌeɪ",
    "ˌi",
    "ˌoʊ",
    "ˌu",
    "ˌæ",
    "ˌɑ",
    "ˌɔ",
    "ˌɔɪ",
    "ˌɚ",
    "ˌɛ",
    "ˌɪ",
    "ˌʊ",
    "ˌʌ",
)
PHONEMES = CONSONANTS + VOWELS + PRIMARY_STRESSED_VOWELS + SECONDARY_STRESSED_VOWELS

LETTERS = tuple("abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class SymbolTable:
    """An ordered list of units; a unit's id is its index.

    Attributes:
        mode: text mode the table serves ("phonemes" or "characters").
        version: bumped whenever ``symbols`` changes.
        symbols: the units, padding first.
    """

    mode: str
    version: int
    symbols: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.symbols[:1] != (PAD,):
            raise ValueError(f"symbol table {self.mode!r} must start with the padding symbol {PAD!r}")
        duplicates = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
        if duplicates:
            raise ValueError(f"symbol table {self.mode!r} lists {duplicates} more than once")


PHONEME_SYMBOL_TABLE_VERSION = 1
PHONEME_TABLE = SymbolTable(
    mode="phonemes",
    version=PHONEME_SYMBOL_TABLE_VERSION,
    symbols=(PAD, WORD_BOUNDARY) + PUNCTUATION + PHONEMES,
)

CHARACTER_SYMBOL_TABLE_VERSION = 1
CHARACTER_TABLE = SymbolTable(
    mode="characters",
    version=CHARACTER_SYMBOL_TABLE_VERSION,
    symbols=(PAD, WORD_BOUNDARY, "'", "-") + PUNCTUATION + LETTERS,
)

# Version of each table, by mode.
SYMBOL_TABLE_VERSION = {"phonemes": PHONEME_SYMBOL_TABLE_VERSION, "characters": CHARACTER_SYMBOL_TABLE_VERSION}
TABLES = {table.mode: table for table in (PHONEME_TABLE, CHARACTER_TABLE)}
