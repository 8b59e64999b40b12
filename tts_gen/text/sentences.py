"""Splitting long raw text into sentences, and long sentences into pieces a model can synthesize."""

from __future__ import annotations

import re

from tts_gen.text.abbreviations import NO_SPLIT
from tts_gen.text.pronunciations import protect_inline, restore_inline

MAX_BATCH_TOKENS = 3000  # padded tokens per batch of sentences through an acoustic model
SENTENCE_SILENCE = 0.25  # seconds of silence between the sentences of a text

# A sentence end: . ! ? (possibly repeated), closing quotes or brackets, then whitespace.
_END_RE = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
_CLAUSE_RE = re.compile(r"(?<=[,;:])\s+")
_INITIALS_RE = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")
_SPEAKABLE_RE = re.compile(r"[^\W_]")


def _token_before(text: str, end: int) -> str:
    """The whitespace-delimited token that ends right before position ``end``, without opening quotes."""
    start = text.rfind(" ", 0, end) + 1
    return text[start:end].lstrip("\"'([")


def _next_starts_sentence(text: str, position: int) -> bool:
    """True when the text after ``position`` starts with a capital letter or digit (after quotes/brackets)."""
    rest = text[position:].lstrip().lstrip("\"'([")
    return bool(rest) and (rest[0].isupper() or rest[0].isdigit())


def _is_boundary(text: str, match: re.Match) -> bool:
    mark = match.group(0)
    if not _next_starts_sentence(text, match.end()):
        return mark[0] != "."
    if mark.rstrip("\"')]") != ".":
        return True
    token = _token_before(text, match.start())
    if token.lower() in NO_SPLIT or _INITIALS_RE.match(token):
        return False
    return True


def _sentences(text: str) -> list[str]:
    pieces, start = [], 0
    for match in _END_RE.finditer(text):
        if _is_boundary(text, match):
            pieces.append(text[start : match.end()].strip())
            start = match.end()
    pieces.append(text[start:].strip())
    return pieces


def _pack(parts: list[str], max_chars: int) -> list[str]:
    """Joins consecutive parts with spaces while the result stays within ``max_chars``."""
    chunks: list[str] = []
    for part in parts:
        if chunks and len(chunks[-1]) + 1 + len(part) <= max_chars:
            chunks[-1] += " " + part
        else:
            chunks.append(part)
    return chunks


def _split_words(text: str, max_chars: int) -> list[str]:
    """Splits at spaces; a single word longer than ``max_chars`` is cut into ``max_chars`` pieces."""
    words = []
    for word in text.split():
        words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return _pack(words, max_chars)


def _split_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    for clause in _pack(_CLAUSE_RE.split(sentence), max_chars):
        pieces.extend([clause] if len(clause) <= max_chars else _split_words(clause, max_chars))
    return pieces


def split_sentences(text: str, max_chars: int = 300) -> list[str]:
    """Splits raw text into sentences at . ! ?, then splits sentences longer than ``max_chars``.

    A period does not end a sentence after an abbreviation ("Dr.", "No.", "e.g."), an initial ("J.", "U.S."),
    inside a number ("3.5"), or before a lowercase word. A long sentence is split at , ; : and, failing that,
    at spaces; a single word longer than ``max_chars`` is cut. Pieces without letters or digits are dropped.
    Inline phonemes (``[[ ... ]]``) are never cut and count as one word.

    Args:
        text: raw text, any length.
        max_chars: longest piece in characters (at least 1).

    Returns:
        The pieces in order, whitespace collapsed.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    text, blocks = protect_inline(re.sub(r"\s+", " ", text).strip())
    pieces: list[str] = []
    for sentence in _sentences(text):
        pieces.extend(_split_long(sentence, max_chars))
    return [restore_inline(piece, blocks) for piece in pieces if _SPEAKABLE_RE.search(piece)]


def sentence_batches(lengths: list[int], max_tokens: int, in_order: bool = False) -> list[list[int]]:
    """Groups sentences into batches whose padded size (longest sentence x batch size) stays within
    ``max_tokens`` tokens, so that memory does not grow with the length of the text.

    Args:
        lengths: tokens of each sentence.
        max_tokens: the most padded tokens per batch; a longer sentence gets a batch of its own.
        in_order: keep consecutive sentences together, in the order of the text (for streaming); otherwise
            sentences of similar length are grouped (length bucketing, less padding).

    Returns:
        Lists of sentence indices: every index once; with ``in_order`` the batches and their members follow the
        text, otherwise each batch holds sentences of decreasing length.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    order = list(range(len(lengths))) if in_order else sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    longest = 0
    for index in order:
        grown = max(longest, lengths[index])
        if batches and grown * (len(batches[-1]) + 1) <= max_tokens:
            batches[-1].append(index)
            longest = grown
        else:
            batches.append([index])
            longest = lengths[index]
    return batches
