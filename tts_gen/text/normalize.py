"""English text normalization for speech: rewrites written text as the words a reader would say.

Conventions of the output:

* Only ASCII letters, spaces, apostrophes inside words ("don't", "students'"), hyphens inside words
  ("twenty-one", "well-known") and the pause punctuation ``, ; : . ! ?`` remain.
* The case of the input is kept. Words created by expansion are lowercase ("3" -> "three"), except expansions of a
  capitalized abbreviation ("Dr." -> "Doctor") and letters of initialisms, which are space-separated capitals
  ("FBI" -> "F B I", "U.S." -> "U S", "7 pm" -> "seven P M"). All-capitals text is lowercased word by word.
* Quotes are dropped; brackets and dashes become commas; an ellipsis becomes a comma, or a period at the end
  of a sentence; runs of punctuation collapse to the strongest mark (``?`` > ``!`` > ``.`` > ``;`` > ``:`` > ``,``).
* Punctuation sits right after its word and is followed by one space; whitespace is collapsed.
* Unspeakable characters (emoji, other scripts, control characters) are dropped with one
  :class:`~tts_gen.text.unicode_clean.UnsupportedCharacterWarning` per distinct character; accented Latin letters
  are folded to ASCII ("café" -> "cafe").
"""

from __future__ import annotations

import re

from tts_gen.text.abbreviations import expand_abbreviations
from tts_gen.text.number_rules import expand_numbers
from tts_gen.text.unicode_clean import clean_unicode
from tts_gen.text.words import expand_initialisms, expand_roman_numerals, fix_shouting

PAUSE_PUNCTUATION = ",;:.!?"
_PUNCTUATION_STRENGTH = "?!.;:,"

_SPOKEN_SYMBOLS = {
    "&": " and ",
    "+": " plus ",
    "@": " at ",
    "=": " equals ",
    "%": " percent ",
    "$": " dollars ",
    "£": " pounds ",
    "€": " euros ",
    "¥": " yen ",
    "¢": " cents ",
    "°": " degrees ",
}
_SPOKEN_SYMBOLS_RE = re.compile("|".join(re.escape(s) for s in _SPOKEN_SYMBOLS))
_WEB_DOT_RE = re.compile(r"(?<=[A-Za-z])\.(?=[A-Za-z])")
_WORD_COLON_RE = re.compile(r"(?<=[A-Za-z]):(?=[A-Za-z])")
_ELLIPSIS_RE = re.compile(r"\s*\.{2,}")
_DASH_RE = re.compile(r"\s*-{2,}\s*|\s+-\s+")
_BRACKET_RE = re.compile(r"\s*[()\[\]{}]\s*")
_BRACKET_AFTER_END_RE = re.compile(r"(?<=[.!?])\s*[)\]}]")
_APOSTROPHE_RE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])|(?<=[sS])'(?![A-Za-z])|(')")
_HYPHEN_RE = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])|(-)")
_UNSPOKEN_RE = re.compile(r"[^A-Za-z' \-,;:.!?]+")
_PUNCTUATION_RUN_RE = re.compile(r"\s*([,;:.!?](?:\s*[,;:.!?])*)\s*")
_LEADING_PUNCTUATION_RE = re.compile(r"^[\s,;:.!?'-]+")
_SPACES_RE = re.compile(r"\s+")


def _ellipsis(match: re.Match) -> str:
    """ "..." ends the sentence before a capital or the end of the text, and is a pause elsewhere."""
    rest = match.string[match.end() :].lstrip(" \"')]")
    return ". " if not rest or rest[0].isupper() else ", "


def _strongest(match: re.Match) -> str:
    run = match.group(1).replace(" ", "")
    if run[0] == "." and run.lstrip(".")[:1] in {",", ";", ":"}:
        run = run.lstrip(".")  # an abbreviation's period before a comma ("Bart.,") is no sentence end
    mark = next(p for p in _PUNCTUATION_STRENGTH if p in run)
    return mark + " "


def speak_symbols(text: str) -> str:
    """Reads symbols as words ("&" -> "and", "a@b.com" -> "a at b dot com") and turns dashes and brackets
    into pauses; drops quotes and every other character that is not speakable."""
    text = _SPOKEN_SYMBOLS_RE.sub(lambda m: _SPOKEN_SYMBOLS[m.group(0)], text)
    text = _WEB_DOT_RE.sub(" dot ", text)
    text = _WORD_COLON_RE.sub(" ", text)  # "twelve:thirty" as written in LJSpeech transcripts
    text = _ELLIPSIS_RE.sub(_ellipsis, text)
    text = _DASH_RE.sub(", ", text)
    text = _BRACKET_AFTER_END_RE.sub(" ", text)  # "(Amazing.)": the bracket closes after the sentence ended
    text = _BRACKET_RE.sub(", ", text)
    text = text.replace("/", " ").replace('"', " ")
    text = _APOSTROPHE_RE.sub(lambda m: " " if m.group(1) else m.group(0), text)
    text = _HYPHEN_RE.sub(lambda m: " " if m.group(1) else m.group(0), text)
    return _UNSPOKEN_RE.sub(" ", text)


def tidy_punctuation(text: str) -> str:
    """Collapses punctuation runs, attaches each mark to its word, drops marks that follow no word."""
    text = _PUNCTUATION_RUN_RE.sub(_strongest, text)
    text = _LEADING_PUNCTUATION_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def normalize_text(text: str) -> str:
    """Rewrites English text as the words to speak (see the module docstring for the output conventions).

    Example: ``normalize_text("Dr. Smith paid $3.50 on Jan. 5th, 1999.")`` returns
    ``"Doctor Smith paid three dollars fifty cents on January fifth, nineteen ninety-nine."``

    Args:
        text: raw English text.

    Returns:
        The normalized text; ``""`` when nothing speakable is left.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_text expects a str, got {type(text).__name__}")
    text = _SPACES_RE.sub(" ", clean_unicode(text))
    text = expand_roman_numerals(text)
    text = fix_shouting(text)
    text = expand_abbreviations(text)
    text = expand_numbers(text)
    text = expand_initialisms(text)
    text = speak_symbols(text)
    return tidy_punctuation(text)
