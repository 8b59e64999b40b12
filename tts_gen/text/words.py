"""Word-level rules: Roman numerals after names, initialisms and all-capitals text.

Initialisms are written as space-separated capital letters ("FBI" -> "F B I", "U.S." -> "U S") so the phonemizer
reads them letter by letter. All-capital words of four or more letters that the lexicon knows ("NASA") stay words.
"""

from __future__ import annotations

import re

from tts_gen.text import numbers as nw
from tts_gen.text.abbreviations import ABBREVIATION_WORDS, period_ends_sentence
from tts_gen.text.lexicon import english_lexicon

# Words before a Roman numeral that is read as a cardinal ("World War II" -> "World War two").
CARDINAL_CONTEXT = frozenset(
    "war chapter part volume vol book act scene section article title phase type class stage level round "
    "episode psalm appendix schedule figure plate grade series division category mark apollo".split()
)

# Names after which even a one-letter numeral is a regnal number ("Henry V", "George I").
REGNAL_NAMES = frozenset(
    "henry edward george william richard james charles louis elizabeth mary anne john paul pius leo gregory "
    "benedict innocent clement urban boniface alexander peter frederick philip napoleon nicholas ivan catherine "
    "victoria ferdinand francis otto gustav gustavus constantine alfonso carlos juan felipe ludwig wilhelm "
    "rudolf stephen david robert harold ethelred alfred edmund sixtus julius adrian".split()
)

# Capitalized function words that never carry a regnal number ("When IV fluids ...").
_NOT_NAMES = frozenset(
    "i a an the and but or if when then than that this these those there here so as at by for from in into of "
    "on to with was were is are be it he she we they you my his her our their its did do does had has have "
    "not no yes".split()
)

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
_ROMAN_RE = re.compile(r"\b([A-Z][a-z]+|[A-Z]{2,})(\s+)(X{0,3}(?:IX|IV|V?I{0,3}))('s)?\b")
# After a name, a lone "I" is a numeral only before punctuation, the end, "of" or "and" ("Henry I of England").
_LONE_I_CONTEXT = re.compile(r"\s*(?:$|[,.;:!?)]|of\b|and\b)")

_DOTTED_INITIALISM_RE = re.compile(r"(?<![\w.'])((?:Ph|[A-Za-z])(?:\.[A-Za-z])+\.?)(?!\w)")
# "J. Smith" -> "J Smith"; not after another lone capital ("P M. Please"), where the period ends a sentence.
_SINGLE_INITIAL_RE = re.compile(r"(?<![\w.'])(?<!\b[A-Z]\s)([A-Z])\.(?=\s+[A-Z])")
_CAPS_WORD_RE = re.compile(r"(?<![\w'])([A-Z]{2,})(?:'(s)|(s))?(?![\w'])")
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")

# A text is "shouted" when at least this share of its words (two letters or more), and at least this many
# words, are in capitals.
SHOUTING_SHARE = 0.6
SHOUTING_MIN_WORDS = 3


def roman_value(numeral: str) -> int:
    """Value of a Roman numeral made of I, V, X, L (validated by the caller's pattern)."""
    total = 0
    for char, following in zip(numeral, numeral[1:] + " "):
        value = _ROMAN_VALUES[char]
        total += -value if following != " " and _ROMAN_VALUES[following] > value else value
    return total


def _is_initial(text: str, end: int) -> bool:
    """True when a one-letter "numeral" ending at ``end`` is a middle initial ("Robert I. Bouck")."""
    return text.startswith(".", end) and not period_ends_sentence(text[end + 1 :])


def _is_numeral(name: str, numeral: str, text: str, end: int, possessive: str) -> bool:
    """Whether the capital letters after ``name`` are a Roman numeral rather than a word or an initial."""
    lower = name.lower()
    if not numeral or lower in _NOT_NAMES:
        return False
    if len(numeral) > 1:
        return True
    if lower not in REGNAL_NAMES and lower not in CARDINAL_CONTEXT:
        return False
    if _is_initial(text, end):
        return False
    return numeral != "I" or bool(possessive) or _LONE_I_CONTEXT.match(text, end) is not None


def _roman(match: re.Match) -> str:
    name, space, numeral, possessive = match.group(1), match.group(2), match.group(3), match.group(4) or ""
    if not _is_numeral(name, numeral, match.string, match.end(), possessive):
        return match.group(0)
    value = roman_value(numeral)
    spoken = nw.cardinal(value) if name.lower() in CARDINAL_CONTEXT else f"the {nw.ordinal(value)}"
    return f"{name}{space}{spoken}{possessive}"


def expand_roman_numerals(text: str) -> str:
    """ "Henry VIII" -> "Henry the eighth", "World War II" -> "World War two"; numerals I..XXXIX only."""
    return _ROMAN_RE.sub(_roman, text)


def _spell(letters: str) -> str:
    return " ".join(letters.upper())


def _dotted(match: re.Match) -> str:
    spelled = _spell(match.group(1).replace(".", ""))
    if match.group(1).endswith(".") and period_ends_sentence(match.string[match.end() :]):
        return spelled + "."
    return spelled


def _single_initial(match: re.Match) -> str:
    if period_ends_sentence(match.string[match.end() :]):
        return match.group(0)
    return match.group(1)


def _caps_word(match: re.Match) -> str:
    word, possessive, plural = match.group(1), match.group(2), match.group(3)
    if word == "OK":
        return "okay" + ("'s" if possessive else "")
    if len(word) >= 4 and word in english_lexicon():
        return match.group(0)
    return _spell(word) + ("'s" if (possessive or plural) else "")


def is_shouting(text: str) -> bool:
    """True when most words of two letters or more (at least three of them) are written in capitals."""
    words = [w for w in _WORD_RE.findall(text) if len(w) >= 2]
    capitals = sum(1 for w in words if w.isupper())
    return capitals >= SHOUTING_MIN_WORDS and capitals >= SHOUTING_SHARE * len(words)


def _unshout(match: re.Match) -> str:
    word = match.group(0)
    if not word.isupper() or word == "I":
        return word
    lower = word.lower()
    if lower in ABBREVIATION_WORDS:
        return word.capitalize()
    if word == "A" or lower in english_lexicon() or lower.replace("'", "") in english_lexicon():
        return lower
    return word


def fix_shouting(text: str) -> str:
    """In all-capitals text, lowercases the capital words the lexicon knows, so only initialisms stay capitals.

    Abbreviations stay capitalized ("MR." -> "Mr.") so that the abbreviation rules still find them.
    """
    if not is_shouting(text):
        return text
    return _WORD_RE.sub(_unshout, text)


def expand_initialisms(text: str) -> str:
    """Spells initialisms letter by letter: "U.S.A." -> "U S A", "FBI's" -> "F B I's", "J. Smith" -> "J Smith".

    All-capital words of four letters or more that the lexicon knows stay words ("NASA").
    """
    text = _DOTTED_INITIALISM_RE.sub(_dotted, text)
    text = _SINGLE_INITIAL_RE.sub(_single_initial, text)
    return _CAPS_WORD_RE.sub(_caps_word, text)
