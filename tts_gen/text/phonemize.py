"""Offline English grapheme-to-phoneme conversion with gruut (en-us).

Words are looked up in gruut's lexicon, with the pronunciation picked by gruut's part-of-speech tagger for
heteronyms ("read", "record"); words missing from the lexicon are guessed by gruut's g2p model.

gruut's own text handling (numbers, dates, currency, abbreviations, initialisms) is switched off: the input must
already be normalized by :func:`tts_gen.text.normalize_text`.

Output units: IPA phonemes as gruut writes them, stress marks attached to the vowel (``"ˈæ"``), the word boundary
``" "`` between words and the pause marks ``, ; : . ! ?`` as their own units right after their word.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from tts_gen.text.lexicon import LETTER_ROLE, english_lang_dir, english_lexicon
from tts_gen.text.symbols import PUNCTUATION, WORD_BOUNDARY

# gruut's text analysis switched off: our normalizer has already written numbers and symbols as words.
_PROCESS_OPTIONS = {
    "detect_numbers": False,
    "detect_currency": False,
    "detect_dates": False,
    "detect_times": False,
    "verbalize_numbers": False,
    "verbalize_currency": False,
    "verbalize_dates": False,
    "verbalize_times": False,
}
_LANG = "en_US"

_local = threading.local()


def _new_processor():
    """A gruut TextProcessor using the shared in-memory lexicon and no abbreviation/initialism rewriting."""
    from gruut import TextProcessor
    from gruut.lang import get_settings

    settings = get_settings(
        "en-us",
        lang_dir=english_lang_dir(),
        lookup_phonemes=english_lexicon().lookup,
        abbreviations={},
        spell_out_words={},
        is_initialism=None,
        split_initialism=None,
    )
    return TextProcessor(default_lang=_LANG, settings={_LANG: settings, "en-us": settings})


def _processor():
    """The gruut processor of this thread and process, created once (models load on first use)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.processor = _new_processor()
        _local.pid = os.getpid()
    return _local.processor


def _gruut_words(text: str) -> list:
    processor = _processor()
    graph, root = processor(text, lang=_LANG, **_PROCESS_OPTIONS)
    return [word for sentence in processor.sentences(graph, root) for word in sentence]


def _is_letter_a(words: list, index: int) -> bool:
    """Whether a capital "A" is the letter (initialisms such as "U S A", "Plan A") rather than the article.

    The normalizer writes letters as capitals, so a capital "A" inside a sentence is the letter; at the start of
    a sentence it is the article before a word ("A man came.", "A Dallas officer") and the letter before another
    lone capital ("A B C") or a pause.
    """
    if index > 0 and not words[index - 1].is_major_break:
        return True
    following = words[index + 1] if index + 1 < len(words) else None
    if following is None or following.is_break or following.is_punctuation:
        return True
    return len(following.text) == 1 and following.text.isupper()


# A pronunciation of the user's: word as written -> its phonemes, or None to keep gruut's.
PronunciationLookup = Callable[[str], "list[str] | None"]


@dataclass
class PhonemizedWord:
    """One spoken word: its text as gruut split it, its phonemes, and the pause mark that follows it ("" if
    none)."""

    text: str
    phonemes: list[str]
    pause: str = ""


def _word_phonemes(words: list, index: int, lookup: PronunciationLookup | None) -> list[str]:
    word = words[index]
    own = lookup(word.text) if lookup is not None else None
    if own is not None:
        return list(own)
    if word.text == "A" and _is_letter_a(words, index):
        return english_lexicon().lookup("a", role=LETTER_ROLE) or list(word.phonemes)
    return list(word.phonemes or [])


def _pause_mark(text: str, major: bool) -> str:
    """Our pause unit for a gruut break ("..." is a minor break in gruut)."""
    if text in PUNCTUATION:
        return text
    return "." if major else ","


def phonemize_words(normalized: str, lookup: PronunciationLookup | None = None) -> list[PhonemizedWord]:
    """The spoken words of normalized English text with their phonemes and pause marks.

    Args:
        normalized: output of :func:`tts_gen.text.normalize_text`.
        lookup: the user's pronunciations, consulted before gruut's lexicon and g2p (word as written ->
            phonemes, or None).

    Returns:
        One :class:`PhonemizedWord` per word; ``[]`` for empty text.
    """
    if not isinstance(normalized, str):
        raise TypeError(f"phonemize expects a str, got {type(normalized).__name__}")
    if not normalized.strip():
        return []
    words = _gruut_words(normalized)
    spoken: list[PhonemizedWord] = []
    for index, word in enumerate(words):
        if word.is_break:
            if spoken and not spoken[-1].pause:
                spoken[-1].pause = _pause_mark(word.text, word.is_major_break)
            continue
        if word.is_punctuation:
            continue
        phonemes = _word_phonemes(words, index, lookup)
        if not phonemes:
            if any(c.isalpha() for c in word.text):
                warnings.warn(f"phonemize: no pronunciation for {word.text!r}; it is left out", stacklevel=2)
            continue
        spoken.append(PhonemizedWord(word.text, phonemes))
    return spoken


def word_units(words: list[PhonemizedWord]) -> list[str]:
    """The units of a sequence of words: their phonemes, each followed by its pause mark, with the word
    boundary ``" "`` between words."""
    units: list[str] = []
    for word in words:
        if units:
            units.append(WORD_BOUNDARY)
        units.extend(word.phonemes)
        if word.pause:
            units.append(word.pause)
    return units


def phonemize(normalized: str, lookup: PronunciationLookup | None = None) -> list[str]:
    """Phoneme units of normalized English text.

    Example: ``phonemize("Hello, world!")`` returns
    ``["h", "ɛ", "l", "ˈoʊ", ",", " ", "w", "ˈɚ", "l", "d", "!"]``.

    Args:
        normalized: output of :func:`tts_gen.text.normalize_text`.
        lookup: the user's pronunciations (see :func:`phonemize_words`).

    Returns:
        Phonemes, word boundaries (``" "``) and pause marks; ``[]`` for empty text.
    """
    return word_units(phonemize_words(normalized, lookup))
