"""Sentence splitting of long raw text."""

import pytest

from tts_gen.text import split_sentences


def test_splits_at_sentence_ends_only():
    text = (
        "Dr. Smith went to Washington. He met Mr. Jones at 3.5 p.m. in the U.S. Capitol! "
        "Was it fun? Yes... it was, e.g. this. The end"
    )
    assert split_sentences(text) == [
        "Dr. Smith went to Washington.",
        "He met Mr. Jones at 3.5 p.m. in the U.S. Capitol!",
        "Was it fun?",
        "Yes... it was, e.g. this.",
        "The end",
    ]


def test_initials_numbers_and_quotes():
    text = 'J. R. R. Tolkien wrote it. No. 5 is here. "Quoted sentence." (Aside.) Apples, pears, etc. Then more.'
    assert split_sentences(text) == [
        "J. R. R. Tolkien wrote it.",
        "No. 5 is here.",
        '"Quoted sentence."',
        "(Aside.)",
        "Apples, pears, etc.",
        "Then more.",
    ]


def test_long_sentence_splits_at_clause_marks_first():
    sentence = "first part is here, second part is here; third part: fourth part ends."
    pieces = split_sentences(sentence, max_chars=30)
    assert pieces == ["first part is here,", "second part is here;", "third part: fourth part ends."]
    assert all(len(p) <= 30 for p in pieces)


def test_long_text_without_punctuation_splits_at_spaces():
    text = " ".join(f"word{i}" for i in range(200))
    pieces = split_sentences(text, max_chars=50)
    assert all(len(p) <= 50 for p in pieces)
    assert " ".join(pieces) == text


def test_single_overlong_word_is_cut():
    assert split_sentences("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_empty_pieces_are_dropped():
    assert split_sentences("") == []
    assert split_sentences("  ...  !!  Hi.  ") == ["Hi."]


def test_max_chars_must_be_positive():
    with pytest.raises(ValueError, match="max_chars"):
        split_sentences("Hello.", max_chars=0)
