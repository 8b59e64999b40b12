"""English abbreviation tables and their expansion.

Expansions keep the capitalization of the abbreviation's first letter ("Mr." -> "Mister", "etc." -> "et cetera").
A period that belongs to an abbreviation is removed, except where it also ends the sentence ("... and Co.").
"""

from __future__ import annotations

import re

from tts_gen.text.numbers import MONTHS

# Words before a name ("Mr. Smith"); their period never ends a sentence.
TITLES = {
    "mr": "mister",
    "mrs": "missus",
    "ms": "mizz",
    "messrs": "messieurs",
    "prof": "professor",
    "gen": "general",
    "capt": "captain",
    "lt": "lieutenant",
    "col": "colonel",
    "sgt": "sergeant",
    "maj": "major",
    "cmdr": "commander",
    "adm": "admiral",
    "rev": "reverend",
    "hon": "honorable",
    "gov": "governor",
    "sen": "senator",
    "rep": "representative",
    "pres": "president",
    "mt": "mount",
    "ft": "fort",
}

# Words after a name or at the end of a list; their period may also end the sentence.
SUFFIXES = {
    "jr": "junior",
    "sr": "senior",
    "co": "company",
    "ltd": "limited",
    "inc": "incorporated",
    "corp": "corporation",
    "bros": "brothers",
    "ave": "avenue",
    "blvd": "boulevard",
    "rd": "road",
    "dept": "department",
    "esq": "esquire",
    "approx": "approximately",
    "etc": "et cetera",
}

MONTH_ABBREVIATIONS = {name[:3].lower(): name for name in MONTHS if name != "May"}
MONTH_ABBREVIATIONS["sept"] = "September"

# Dotted Latin abbreviations, read as their English meaning.
LATIN = {"e.g.": "for example", "i.e.": "that is", "cf.": "compare", "viz.": "namely", "a.k.a.": "also known as"}

# Abbreviations after which split_sentences never splits ("Dr. Smith", "No. 5", "Jan. 5").
NO_SPLIT = (
    frozenset(TITLES)
    | {"st", "dr", "no", "nos", "vs", "v"}
    | frozenset(MONTH_ABBREVIATIONS)
    | {key.rstrip(".") for key in LATIN}
)

# Every abbreviation written as a word before its period (lowercase).
ABBREVIATION_WORDS = frozenset(TITLES) | frozenset(SUFFIXES) | frozenset(MONTH_ABBREVIATIONS) | {"st", "dr"}

# Capitalized words that usually start a sentence: a period before one of them ends the sentence.
SENTENCE_STARTERS = frozenset(
    "the a an he she it they we i you this that these those there his her its their our my in on at by for "
    "from with but and or so then when while after before as if what why how who where yes no not mr mrs ms "
    "dr however meanwhile later".split()
)

_NEXT_WORD = re.compile(r"\s+[\"'(\[]*(?P<word>[A-Za-z][A-Za-z']*)")


def match_case(expansion: str, written: str) -> str:
    """Capitalizes the expansion's first letter when the written abbreviation starts with a capital."""
    if written[:1].isupper():
        return expansion[:1].upper() + expansion[1:]
    return expansion


def period_ends_sentence(rest: str, any_capital: bool = False) -> bool:
    """Whether an abbreviation's period, followed by ``rest``, also ends the sentence.

    True at the end of the text, or before a capitalized word that usually starts a sentence
    (any capitalized word when ``any_capital``).
    """
    if not rest.strip(" \"')]"):
        return True
    found = _NEXT_WORD.match(rest)
    if found is None or not found.group("word")[0].isupper():
        return False
    return any_capital or found.group("word").lower() in SENTENCE_STARTERS


def _next_is_name(rest: str) -> bool:
    """True when the next word is capitalized and not a usual sentence starter ("St. Paul")."""
    found = _NEXT_WORD.match(rest)
    return found is not None and found.group("word")[0].isupper() and not period_ends_sentence(rest)


def _prev_is_name_or_number(before: str) -> bool:
    """True when the previous token is a capitalized word inside the sentence or a number ("Baker St.", "5th St.")."""
    parts = before.rstrip().rsplit(None, 1)
    if not parts:
        return False
    token = parts[-1]
    if token[0].isdigit():
        return True
    preceding = parts[0] if len(parts) == 2 else ""
    sentence_initial = not preceding or preceding[-1] in ".!?"
    return token[0].isupper() and token.isalpha() and not sentence_initial


def _with_period(words: str, match: re.Match, any_capital: bool = False) -> str:
    """Appends "." when the abbreviation's period also ends the sentence."""
    if match.group(0).endswith(".") and period_ends_sentence(match.string[match.end() :], any_capital):
        return words + "."
    return words


def _expand_place(match: re.Match) -> str:
    """St. -> Saint/Street, Dr. -> Doctor/Drive, decided by the neighbouring words."""
    written = match.group(1) or match.group(2)
    before, rest = match.string[: match.start()], match.string[match.end() :]
    person, place = ("saint", "street") if written.lower() == "st" else ("doctor", "drive")
    if _next_is_name(rest):
        return match_case(person, written)
    if _prev_is_name_or_number(before) or (person == "saint" and not rest.strip()):
        return _with_period(match_case(place, written), match)
    return match_case(person, written)


def _expand_title(match: re.Match) -> str:
    return match_case(TITLES[match.group(1).lower()], match.group(1))


def _expand_suffix(match: re.Match) -> str:
    written = match.group(1)
    expansion = match_case(SUFFIXES[written.lower()], written)
    return _with_period(expansion, match, any_capital=written.lower() == "etc")


def _expand_month(match: re.Match) -> str:
    return _with_period(MONTH_ABBREVIATIONS[match.group(1).lower()], match)


def _expand_latin(match: re.Match) -> str:
    return LATIN[match.group(0).lower().replace(" ", "").rstrip(".") + "."]


def _alternation(words, capitalized_only: bool = False) -> str:
    """Regex alternation of the words, longest first; only "Word" and "WORD" forms when ``capitalized_only``."""
    forms = {f for w in words for f in (w.capitalize(), w.upper())} if capitalized_only else set(words)
    return "|".join(sorted((re.escape(w) for w in forms), key=len, reverse=True))


_TITLE_RE = re.compile(rf"(?<![\w.'])({_alternation(TITLES, capitalized_only=True)})\.")
_BARE_TITLE_RE = re.compile(r"(?<![\w.'])(Mr|Mrs|Ms|Messrs)(?=\s+[A-Z])")
_PLACE_RE = re.compile(r"(?<![\w.'])(?:(St|ST|st|Dr|DR|dr)\.|(St|Dr)(?=\s+[A-Z]))")
_SUFFIX_RE = re.compile(rf"(?<![\w.'])({_alternation(SUFFIXES)})\.", re.I)
_MONTH_RE = re.compile(rf"(?<![\w.'])({_alternation(MONTH_ABBREVIATIONS, capitalized_only=True)})\.")
_LATIN_RE = re.compile(r"(?<![\w.])(?:[eE]\.\s?g\.?|[iI]\.\s?e\.?|[cC]f\.|[vV]iz\.|[aA]\.k\.a\.?)(?!\w)")
_NUMBER_RE = re.compile(r"(?<![\w.])(No|Nos|NO|no)\.\s*(?=\d)")
_VERSUS_RE = re.compile(r"(?<![\w.])(?:[Vv][Ss]\.?|v\.)(?=\s)")


def expand_abbreviations(text: str) -> str:
    """Expands titles, St./Dr., suffixes (Jr., Co., etc.), month names, e.g./i.e., "No. 5" and "vs."."""
    text = _LATIN_RE.sub(_expand_latin, text)
    text = _NUMBER_RE.sub(lambda m: match_case("numbers" if len(m.group(1)) == 3 else "number", m.group(1)) + " ", text)
    text = _VERSUS_RE.sub(lambda m: match_case("versus", m.group(0)), text)
    text = _PLACE_RE.sub(_expand_place, text)
    text = _TITLE_RE.sub(_expand_title, text)
    text = _BARE_TITLE_RE.sub(_expand_title, text)
    text = _MONTH_RE.sub(_expand_month, text)
    return _SUFFIX_RE.sub(_expand_suffix, text)
