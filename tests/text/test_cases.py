"""Table-driven check of normalization and phonemization on tricky English inputs (see cases.py)."""

import pytest

from tests.text.cases import CASES
from tts_gen.text import normalize_text, phonemize

REQUIRED_CATEGORIES = {
    "cardinal",
    "thousands",
    "negative",
    "ordinal",
    "year",
    "decade",
    "decimal",
    "currency",
    "percent",
    "time",
    "abbreviation",
    "initialism",
    "roman",
    "range",
    "symbols",
    "punctuation",
    "accents",
    "whitespace",
}


def test_table_is_large_and_covers_every_category():
    assert len(CASES) >= 40
    assert REQUIRED_CATEGORIES <= {category for category, *_ in CASES}


@pytest.mark.parametrize("category, raw, normalized, phonemes", CASES, ids=[c[1][:40] for c in CASES])
def test_normalized_text(category, raw, normalized, phonemes):
    assert normalize_text(raw) == normalized


@pytest.mark.parametrize("category, raw, normalized, phonemes", CASES, ids=[c[1][:40] for c in CASES])
def test_phonemes(category, raw, normalized, phonemes):
    assert "".join(phonemize(normalized)) == phonemes


@pytest.mark.parametrize("category, raw, normalized, phonemes", CASES, ids=[c[1][:40] for c in CASES])
def test_normalization_is_stable(category, raw, normalized, phonemes):
    assert normalize_text(normalized) == normalized
