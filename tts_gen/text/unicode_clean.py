"""Unicode clean-up before English normalization.

Typographic quotes, dashes and ellipses are mapped to ASCII, accented Latin letters are folded to their base letter
(``café`` -> ``cafe``), and every character the normalizer cannot speak (emoji, other scripts, control characters)
is dropped with one :class:`UnsupportedCharacterWarning` per distinct character.
"""

from __future__ import annotations

import unicodedata
import warnings


class UnsupportedCharacterWarning(UserWarning):
    """A character was dropped from the text because it cannot be spoken in English."""


# Characters rewritten before anything else; "—" becomes a spaced double hyphen, which later reads as a pause.
_TYPOGRAPHY = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2033": '"',
    "\u2014": " -- ",
    "\u2015": " -- ",
    "\u2013": "-",
    "\u2012": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2044": "/",
    "\u00d7": " times ",
    "\u00f7": " divided by ",
}

# Latin letters that Unicode does not decompose into a base letter plus accents.
_LATIN_FOLDS = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "þ": "th",
    "Þ": "Th",
    "ð": "d",
    "Ð": "D",
    "ı": "i",
    "ſ": "s",
}

# Non-ASCII symbols that the normalizer reads out (currency, degrees, ...).
SPOKEN_SYMBOLS = frozenset("£€¥¢°")

# Joiners and variation selectors that only glue emoji together; dropped silently along with the emoji warning.
_SILENT = frozenset("\u200d\ufe0e\ufe0f")

_ASCII_WHITESPACE = frozenset("\t\n\r\v\f ")


def _fold_char(char: str) -> str:
    """ASCII form of one character, or "" when it has none (the caller then warns)."""
    if char in _LATIN_FOLDS:
        return _LATIN_FOLDS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u2044", "/")
    if unicodedata.category(char) == "No" and "/" in base:
        base = f" {base} "  # vulgar fractions such as "½" stand apart from a preceding whole number
    if base and all(c.isascii() and c.isprintable() for c in base):
        return base
    return ""


def _is_kept(char: str) -> bool:
    """True for characters passed on unchanged: printable ASCII, ASCII whitespace and spoken symbols."""
    return (char.isascii() and (char.isprintable() or char in _ASCII_WHITESPACE)) or char in SPOKEN_SYMBOLS


def _warn_dropped(char: str) -> None:
    name = unicodedata.name(char, "unnamed character")
    warnings.warn(
        f"dropping unsupported character {char!r} (U+{ord(char):04X}, {name}) from the text; "
        "spell it out in English words if it should be spoken",
        UnsupportedCharacterWarning,
        stacklevel=4,
    )


def clean_unicode(text: str) -> str:
    """Map typography to ASCII, fold accented Latin letters, drop (and warn once about) unspeakable characters.

    Args:
        text: raw input text.

    Returns:
        Text made of printable ASCII, ASCII whitespace and the symbols in ``SPOKEN_SYMBOLS``.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    warned: set[str] = set()
    for char in text:
        if char in _TYPOGRAPHY:
            out.append(_TYPOGRAPHY[char])
        elif _is_kept(char):
            out.append(char)
        elif char in _SILENT:
            continue
        elif unicodedata.category(char) == "Zs":
            out.append(" ")
        else:
            folded = _fold_char(char)
            if folded:
                out.append(folded)
            elif char not in warned:
                warned.add(char)
                _warn_dropped(char)
    return "".join(out)
