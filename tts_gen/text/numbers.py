"""Spoken English (American) forms of numbers: cardinals, ordinals, years, decimals, digit strings.

All results are lowercase words without "and" inside numbers ("one hundred twenty-three") and without commas.
"""

from __future__ import annotations

import re

from num2words import num2words

# Integers longer than this are read digit by digit (account numbers, long codes).
MAX_CARDINAL_DIGITS = 15

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _american(words: str) -> str:
    """Drops the British "and" and the commas that num2words puts inside numbers."""
    words = words.replace(",", "")
    return re.sub(r"\band\s+", "", words).strip()


def cardinal(n: int) -> str:
    """``123`` -> ``"one hundred twenty-three"``; negatives read as ``"minus ..."``."""
    if n < 0:
        return f"minus {cardinal(-n)}"
    return _american(num2words(n))


def ordinal(n: int) -> str:
    """``22`` -> ``"twenty-second"``, ``103`` -> ``"one hundred third"``."""
    if n < 0:
        return f"minus {ordinal(-n)}"
    return _american(num2words(n, to="ordinal"))


def year(n: int) -> str:
    """Year reading: 1999 -> nineteen ninety-nine, 2005 -> two thousand five, 1900 -> nineteen hundred,
    1905 -> nineteen oh five, 2010 -> twenty ten. Values outside 1000..9999 read as cardinals."""
    if not 1000 <= n <= 9999 or 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {cardinal(low)}"
    return f"{cardinal(high)} {cardinal(low)}"


def is_year_like(digits: str) -> bool:
    """True for a bare four-digit number read as a year (1100..2099), e.g. "1999" but not "1,999" or "0999"."""
    return len(digits) == 4 and digits.isdigit() and 1100 <= int(digits) <= 2099


def digit_string(digits: str) -> str:
    """``"007"`` -> ``"zero zero seven"``."""
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits if d.isdigit())


def decimal(integer_part: str, fraction_part: str) -> str:
    """``("3", "14")`` -> ``"three point one four"``; an empty integer part reads as ``"point ..."``."""
    head = integer_words(integer_part) if integer_part else ""
    return f"{head} point {digit_string(fraction_part)}".strip()


def integer_words(text: str) -> str:
    """An integer as written ("1,234", "42", "007") in words, without the year reading."""
    digits = text.replace(",", "")
    if not digits.isdigit():
        raise ValueError(f"integer_words expects digits with optional thousands commas, got {text!r}")
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > MAX_CARDINAL_DIGITS:
        return digit_string(digits)
    return cardinal(int(digits))


def number_words(text: str, allow_year: bool = False) -> str:
    """A written number ("1,234", "3.14", ".5", "1999") in words.

    Args:
        text: digits with optional thousands commas and an optional decimal part.
        allow_year: read a bare four-digit number in 1100..2099 as a year ("1999" -> nineteen ninety-nine).
    """
    integer_part, _, fraction_part = text.partition(".")
    if fraction_part:
        return decimal(integer_part, fraction_part)
    if allow_year and is_year_like(integer_part):
        return year(int(integer_part))
    return integer_words(integer_part)


def pluralize_last(words: str) -> str:
    """Plural of a number phrase's last word: "nineteen ninety" -> "nineteen nineties", "six" -> "sixes"."""
    head, _, last = words.rpartition(" ")
    stem, _, tail = last.rpartition("-")
    if tail.endswith("y"):
        tail = tail[:-1] + "ies"
    elif tail.endswith(("x", "s")):
        tail += "es"
    else:
        tail += "s"
    last = f"{stem}-{tail}" if stem else tail
    return f"{head} {last}" if head else last


def fraction(numerator: int, denominator: int) -> str:
    """``(3, 4)`` -> ``"three quarters"``, ``(1, 2)`` -> ``"one half"``, ``(5, 8)`` -> ``"five eighths"``."""
    if denominator == 2:
        name = "half" if numerator == 1 else "halves"
    elif denominator == 4:
        name = "quarter" if numerator == 1 else "quarters"
    else:
        name = ordinal(denominator) + ("" if numerator == 1 else "s")
    return f"{cardinal(numerator)} {name}"
