"""The text files of an ONNX export, in the layout of sherpa-onnx's Matcha-TTS models (sherpa-onnx 2.x).

* ``tokens.txt``: ``symbol id`` per line, the model's symbol table (the word boundary, a space, is written as
  `` id``, which sherpa-onnx reads as a space), then an alias ``symbol_id id`` for every symbol of more than one
  code point (``ˈoʊ_52 52``): sherpa-onnx cuts lexicon units that do not end in an ASCII letter or digit into
  single code points, so the lexicon spells those symbols by their aliases.
* ``lexicon.txt``: ``word unit unit ...`` per line, every word the export covers spelled in the model's units.

sherpa-onnx's lexicon frontend lower-cases each word, puts the space token between words and the pause marks as
tokens, skips words it does not find (numbers: write them as words; tts_gen's normalizer is not part of an ONNX
runtime), and drops the space after a pause mark, which the acoustic graph puts back.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from tts_gen.files import write_text
from tts_gen.text import Tokenizer, UnsupportedCharacterWarning, normalize_text
from tts_gen.text.lexicon import english_lexicon
from tts_gen.text.pronunciations import Pronunciations
from tts_gen.text.symbols import WORD_BOUNDARY

LEXICON_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def lexicon_spelling(symbol: str, index: int) -> str:
    """How ``lexicon.txt`` writes a symbol: itself if it is one code point, else its alias ``symbol_id``."""
    return symbol if len(symbol) == 1 else f"{symbol}_{index}"


def tokens_text(tokenizer: Tokenizer) -> str:
    """The content of ``tokens.txt``: the symbol table, then the aliases of the symbols of several code points."""
    lines = [f"{symbol} {index}" for index, symbol in enumerate(tokenizer.symbols)]
    lines += [
        f"{lexicon_spelling(symbol, index)} {index}"
        for index, symbol in enumerate(tokenizer.symbols)
        if symbol != WORD_BOUNDARY and len(symbol) > 1 and index != tokenizer.pad_id
    ]
    return "\n".join(lines) + "\n"


def covered_words(texts: Iterable[str], include_gruut: bool) -> list[str]:
    """The lower-case words a lexicon covers: those of ``texts`` (after normalization) and, with
    ``include_gruut``, every alphabetic word of gruut's English lexicon."""
    words: dict[str, None] = {}
    if include_gruut:
        words.update((word.lower(), None) for word in english_lexicon().words() if LEXICON_WORD.fullmatch(word.lower()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsupportedCharacterWarning)
        for text in texts:
            words.update((word, None) for word in LEXICON_WORD.findall(normalize_text(text).lower()))
    return sorted(words)


def _spelling(tokenizer: Tokenizer, word: str) -> list[str] | None:
    """The units of one word: the user's pronunciation, gruut's lexicon, or the frontend (g2p) for the rest."""
    own = tokenizer.pronunciations.lookup(word) if tokenizer.pronunciations is not None else None
    if own is not None:
        return own
    if tokenizer.config.mode == "phonemes":
        listed = english_lexicon().lookup(word)
        if listed is not None:
            return listed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        units = [unit for unit in tokenizer.units_of_normalized(word) if unit != WORD_BOUNDARY]
    return units or None


def lexicon_text(tokenizer: Tokenizer, words: list[str]) -> tuple[str, int]:
    """The content of ``lexicon.txt`` for ``words``, and how many words it could spell."""
    ids = {symbol: index for index, symbol in enumerate(tokenizer.symbols)}
    lines = []
    for word in words:
        units = _spelling(tokenizer, word)
        if units and all(unit in ids for unit in units):
            lines.append(" ".join([word, *(lexicon_spelling(unit, ids[unit]) for unit in units)]))
    return "\n".join(lines) + "\n", len(lines)


def write_text_files(
    out_dir: Path, tokenizer: Tokenizer, texts: Iterable[str], include_gruut: bool, own: Pronunciations | None
) -> int:
    """Writes ``tokens.txt`` and ``lexicon.txt``; returns the number of words in the lexicon."""
    if own is not None:
        tokenizer = Tokenizer(tokenizer.config, own)
    write_text(out_dir / "tokens.txt", tokens_text(tokenizer))
    words = covered_words(list(texts) + ([" ".join(own.entries)] if own is not None else []), include_gruut)
    content, count = lexicon_text(tokenizer, words)
    write_text(out_dir / "lexicon.txt", content)
    return count
