"""Rewrites written numbers in running text as English words.

Rules run in a fixed order, most specific first: money, clock times, dates, fractions, percentages, ordinals,
decades, number ranges, measurement units, and finally every remaining number (cardinals, years, decimals).
"""

from __future__ import annotations

import re

from tts_gen.text import numbers as nw
from tts_gen.text.abbreviations import period_ends_sentence

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"

# symbol -> (unit, units, subunit, subunits); a currency without subunits reads decimals as "point".
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
}
_SCALES = {
    "thousand": "thousand",
    "million": "million",
    "billion": "billion",
    "trillion": "trillion",
    "k": "thousand",
    "m": "million",
    "mn": "million",
    "b": "billion",
    "bn": "billion",
}

# abbreviation -> (singular, plural); read only right after a number.
UNITS = {
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ft": ("foot", "feet"),
    "mi": ("mile", "miles"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "ml": ("milliliter", "milliliters"),
    "hz": ("hertz", "hertz"),
    "khz": ("kilohertz", "kilohertz"),
    "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"),
    "gb": ("gigabyte", "gigabytes"),
    "tb": ("terabyte", "terabytes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
}

_MONTH_NAMES = "|".join(nw.MONTHS)


def _is_one(number: str) -> bool:
    return number.replace(",", "") in {"1", "1.0", "1.00"}


def _money(match: re.Match) -> str:
    symbol, amount = match.group("cur"), match.group("amount")
    scale = match.group("scale") or match.group("short")
    unit, units, sub, subs = CURRENCIES[symbol]
    if scale:
        words = f"{nw.number_words(amount)} {_SCALES[scale.lower()]} {units}"
    else:
        words = _money_amount(amount, unit, units, sub, subs)
    return f" minus {words} " if match.group("sign") else f" {words} "


def _money_amount(amount: str, unit: str, units: str, sub: str, subs: str) -> str:
    """ "3.50" dollars -> "three dollars fifty cents"; more than two decimals read as "point"."""
    whole, _, cents = amount.partition(".")
    whole = whole.replace(",", "") or "0"
    if len(cents) > 2 or (cents and not sub):
        return f"{nw.number_words(amount)} {units}"
    n_whole, n_cents = int(whole), int(cents.ljust(2, "0")) if cents else 0
    parts = []
    if n_whole or not n_cents:
        parts.append(f"{nw.integer_words(whole)} {unit if n_whole == 1 else units}")
    if n_cents:
        parts.append(f"{nw.cardinal(n_cents)} {sub if n_cents == 1 else subs}")
    return " ".join(parts)


_MONEY_RE = re.compile(
    rf"(?<![$£€¥])(?P<sign>-)?(?P<cur>[$£€¥])\s?(?P<amount>{_NUM})"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b|(?P<short>(?:k|m|mn|b|bn)\b))?",
    re.I,
)


def _period_suffix(match: re.Match, group: str) -> str:
    """ "." when a trailing abbreviation period (a.m./p.m.) also ends the sentence."""
    written = match.group(group) or ""
    if written.endswith(".") and period_ends_sentence(match.string[match.end() :], any_capital=True):
        return "."
    return ""


def _meridiem(written: str | None) -> str:
    if not written:
        return ""
    return " A M" if written.strip().lower().startswith("a") else " P M"


def _clock(match: re.Match) -> str:
    hours, minutes, seconds = int(match.group("h")), int(match.group("m")), match.group("s")
    meridiem = match.group("ampm")
    if seconds is not None:
        return _duration(hours, minutes, int(seconds))
    if hours > 24:
        return match.group(0)
    spoken = nw.cardinal(hours)
    if minutes == 0 and not meridiem:
        spoken += " o'clock" if hours <= 12 else " hundred"
    elif 0 < minutes < 10:
        spoken += f" oh {nw.cardinal(minutes)}"
    elif minutes:
        spoken += f" {nw.cardinal(minutes)}"
    return spoken + _meridiem(meridiem) + _period_suffix(match, "ampm")


def _duration(hours: int, minutes: int, seconds: int) -> str:
    """1:30:15 -> "one hour thirty minutes fifteen seconds"."""
    parts = [(hours, "hour"), (minutes, "minute"), (seconds, "second")]
    return " ".join(f"{nw.cardinal(n)} {name}{'' if n == 1 else 's'}" for n, name in parts)


_AMPM = r"[AaPp]\.?\s?[Mm](?:\b\.?|\.)"
_CLOCK_RE = re.compile(
    rf"(?<![\d:.])(?P<h>\d{{1,2}}):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])(?:\s?(?P<ampm>{_AMPM}))?(?!\w)"
)
_HOUR_RE = re.compile(rf"(?<![\w.:])(?P<h>1[0-2]|0?[1-9])\s?(?P<ampm>{_AMPM})(?!\w)")


def _hour(match: re.Match) -> str:
    return nw.cardinal(int(match.group("h"))) + _meridiem(match.group("ampm")) + _period_suffix(match, "ampm")


def _date_words(month: int, day: int, year: str | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    words = f"{nw.MONTHS[month - 1]} {nw.ordinal(day)}"
    if year:
        words += ", " + (nw.year(int(year)) if len(year) == 4 else _two_digit_year(year))
    return words


def _two_digit_year(year: str) -> str:
    return f"oh {nw.cardinal(int(year))}" if year.startswith("0") else nw.cardinal(int(year))


def _slash_date(match: re.Match) -> str:
    m, d, y = match.groups()
    return _date_words(int(m), int(d), y) or match.group(0).replace("/", " ")


def _iso_date(match: re.Match) -> str:
    y, m, d = match.groups()
    return _date_words(int(m), int(d), y) or match.group(0)


def _month_day(match: re.Match) -> str:
    day = int(match.group("d"))
    if not 1 <= day <= 31:
        return match.group(0)
    return f"{match.group('month')} {nw.ordinal(day)}"


def _day_month(match: re.Match) -> str:
    day = int(match.group("d"))
    if not 1 <= day <= 31:
        return match.group(0)
    return f"the {nw.ordinal(day)} of {match.group('month')}"


_SLASH_DATE_RE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
_ISO_DATE_RE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_MONTH_DAY_RE = re.compile(rf"\b(?P<month>{_MONTH_NAMES})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?![\d%]|[.,:]\d)")
_DAY_MONTH_RE = re.compile(rf"(?<![\w.,])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{_MONTH_NAMES})\b")


def _fraction(match: re.Match) -> str:
    whole, num, den = match.group("w"), int(match.group("n")), int(match.group("d"))
    if 2 <= den <= 10 and 0 < num < den:
        spoken = nw.fraction(num, den)
        return f"{nw.integer_words(whole)} and {spoken}" if whole else spoken
    prefix = f"{whole} " if whole else ""
    return f"{prefix}{match.group('n')} {match.group('d')}"


_FRACTION_RE = re.compile(r"(?<![\d/.,])(?:(?P<w>\d+)\s+)?(?P<n>\d+)/(?P<d>\d+)(?![\d/])")


def _percent(match: re.Match) -> str:
    sign = "minus " if match.group("sign") else ""
    return f" {sign}{nw.number_words(match.group('num'))} percent "


_PERCENT_RE = re.compile(rf"(?<![\w.])(?P<sign>-)?(?P<num>{_NUM})\s?%")
_ORDINAL_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I)
_DECADE_RE = re.compile(r"(?<![\w.,'])('?)(\d{2}|\d{4})'?s\b")


def _decade(match: re.Match) -> str:
    digits = match.group(2)
    if not digits.endswith("0") or (match.group(1) and len(digits) == 4):
        return match.group(0)
    spoken = nw.year(int(digits)) if len(digits) == 4 else nw.cardinal(int(digits))
    return nw.pluralize_last(spoken)


def _range(match: re.Match) -> str:
    a, b = match.group(1), match.group(2)
    if nw.is_year_like(a) and (nw.is_year_like(b) or len(b) == 2):
        end = nw.year(int(b)) if len(b) == 4 else nw.cardinal(int(b))
        return f"{nw.year(int(a))} to {end}"
    if len(a) == 3 and len(b) == 4:  # a telephone number such as 555-1234
        return f"{nw.digit_string(a)}, {nw.digit_string(b)}"
    if int(b) > int(a):
        return f"{nw.integer_words(a)} to {nw.integer_words(b)}"
    return f"{nw.integer_words(a)} {nw.integer_words(b)}"


_DIGIT_CHAIN_RE = re.compile(r"(?<![\w.-])\d+(?:-\d+){2,}(?![\w-])")
_RANGE_RE = re.compile(r"(?<![\w.,-])(\d{1,4})\s?-\s?(\d{1,4})(?![\w.,]?\d|-)")


def _unit(match: re.Match) -> str:
    singular, plural = UNITS[match.group("unit").lower()]
    number = match.group("num")
    return f"{nw.number_words(number)} {singular if _is_one(number) else plural}" + _period_suffix(match, "dot")


_UNIT_RE = re.compile(
    rf"(?<![\w.])(?P<num>{_NUM})\s?(?P<unit>{'|'.join(sorted(map(re.escape, UNITS), key=len, reverse=True))})"
    r"(?P<dot>\.)?(?![\w/])",
    re.I,
)
_DEGREE_RE = re.compile(rf"(?P<num>{_NUM})\s?°\s?(?P<scale>[CF](?![a-zA-Z]))?")


def _degrees(match: re.Match) -> str:
    scale = {"C": " Celsius", "F": " Fahrenheit"}.get(match.group("scale") or "", "")
    number = match.group("num")
    return f"{nw.number_words(number)} {'degree' if _is_one(number) else 'degrees'}{scale}"


_HASH_NUMBER_RE = re.compile(r"#\s?(?=\d)")
_NEGATIVE_RE = re.compile(r"(?<![\w.,])-(?=\.?\d)")
_LETTER_DIGIT_RE = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_NUMBER_RE = re.compile(r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|(?<![\w.])\.\d+|\d+")


def _plain_number(match: re.Match) -> str:
    return nw.number_words(match.group(0), allow_year=True)


def expand_numbers(text: str) -> str:
    """Rewrites every number in ``text`` as words (see the module docstring for the order of the rules)."""
    text = re.sub(r"(?<=[A-Za-z])(?=[$£€¥]\d)", " ", text)  # "US$5" -> "US $5"
    text = _MONEY_RE.sub(_money, text)
    text = re.sub(r"(?<![\w.])(\d+)\s?¢", lambda m: f"{m.group(1)} {'cent' if m.group(1) == '1' else 'cents'}", text)
    text = _CLOCK_RE.sub(_clock, text)
    text = _HOUR_RE.sub(_hour, text)
    text = _SLASH_DATE_RE.sub(_slash_date, text)
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _MONTH_DAY_RE.sub(_month_day, text)
    text = _DAY_MONTH_RE.sub(_day_month, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _PERCENT_RE.sub(_percent, text)
    text = _ORDINAL_RE.sub(lambda m: nw.ordinal(int(m.group(1).replace(",", ""))), text)
    text = _DECADE_RE.sub(_decade, text)
    text = _DIGIT_CHAIN_RE.sub(lambda m: ", ".join(nw.digit_string(g) for g in m.group(0).split("-")), text)
    text = _RANGE_RE.sub(_range, text)
    text = _DEGREE_RE.sub(_degrees, text)
    text = _UNIT_RE.sub(_unit, text)
    text = _HASH_NUMBER_RE.sub("number ", text)
    text = _NEGATIVE_RE.sub("minus ", text)
    text = _LETTER_DIGIT_RE.sub(" ", text)
    return _NUMBER_RE.sub(_plain_number, text)
