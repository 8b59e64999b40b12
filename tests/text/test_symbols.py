"""Symbol tables: structure, versions and coverage of everything gruut can produce for English."""

import pytest

from tests.text.cases import CASES
from tts_gen.text import normalize_text, phonemize
from tts_gen.text.lexicon import english_lang_dir, english_lexicon
from tts_gen.text.symbols import (
    CHARACTER_TABLE,
    PAD,
    PHONEME_TABLE,
    PHONEMES,
    PUNCTUATION,
    SYMBOL_TABLE_VERSION,
    SymbolTable,
)

DIVERSE = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells seashells by the seashore; thirty-three thieves thought they thrilled the throne.",
    "Judge Roy's measure: azure, vision, beige, genre, rouge!",
    "Why would you join the choir? Oil, toy, boy, cow, how, out.",
    "Zyxwvut Qwerfl and Kardashian met Xochitl in Schenectady.",
    "Whose hoarse voice hushed the thousand sighing, singing, ringing bells?",
]


def test_tables_start_with_padding_and_have_versions():
    for table in (PHONEME_TABLE, CHARACTER_TABLE):
        assert table.symbols[0] == PAD
        assert SYMBOL_TABLE_VERSION[table.mode] == table.version
        assert len(set(table.symbols)) == len(table.symbols)
        assert set(PUNCTUATION) <= set(table.symbols)
        assert " " in table.symbols


def test_table_sizes():
    assert len(PHONEME_TABLE.symbols) == 78
    assert len(CHARACTER_TABLE.symbols) == 36


def test_table_validation():
    with pytest.raises(ValueError, match="padding"):
        SymbolTable("x", 1, ("a", PAD))
    with pytest.raises(ValueError, match="more than once"):
        SymbolTable("x", 1, (PAD, "a", "a"))


def test_every_gruut_phoneme_is_in_the_table():
    from gruut.g2p import GraphemesToPhonemes

    inventory = english_lexicon().phoneme_inventory()
    g2p = GraphemesToPhonemes(str(english_lang_dir() / "g2p" / "model.crf"))
    for label in g2p.crf_tagger.labels():
        inventory.update(p for p in GraphemesToPhonemes.decode_string(label).split("|") if p != "_")
    assert inventory == set(PHONEMES)


def test_units_of_diverse_text_are_in_the_tables():
    texts = DIVERSE + [raw for _, raw, _, _ in CASES]
    phoneme_units = {u for text in texts for u in phonemize(normalize_text(text))}
    assert phoneme_units <= set(PHONEME_TABLE.symbols)
    characters = {c for text in texts for c in normalize_text(text).lower()}
    assert characters <= set(CHARACTER_TABLE.symbols)
