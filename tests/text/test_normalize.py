"""Normalization rules one by one, and the handling of unspeakable characters."""

import warnings

import pytest

from tts_gen.text import UnsupportedCharacterWarning, normalize_text, numbers


def _dropped_characters(text: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        normalize_text(text)
    return [str(w.message) for w in caught if issubclass(w.category, UnsupportedCharacterWarning)]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("$0.99", "ninety-nine cents"),
        ("$1.01", "one dollar one cent"),
        ("$1,000,000", "one million dollars"),
        ("$5m and $3bn", "five million dollars and three billion dollars"),
        ("£1.50", "one pound fifty pence"),
        ("€1", "one euro"),
        ("-$5", "minus five dollars"),
        ("12:00", "twelve o'clock"),
        ("12:00 p.m.", "twelve P M."),
        ("7pm", "seven P M"),
        ("1:30:15", "one hour thirty minutes fifteen seconds"),
        ("2020-01-05", "January fifth, twenty twenty"),
        ("5 January 1999", "the fifth of January nineteen ninety-nine"),
        ("3/4", "three quarters"),
        ("2 1/2", "two and one half"),
        ("24/7", "twenty-four seven"),
        ("3.5%", "three point five percent"),
        ("1,000th", "one thousandth"),
        ("1990s", "nineteen nineties"),
        ("2000s", "two thousands"),
        ("1920's", "nineteen twenties"),
        ("1990-95", "nineteen ninety to ninety-five"),
        ("555-1234", "five five five, one two three four"),
        ("5 ft. tall", "five feet tall"),
        ("1 km", "one kilometer"),
        ("#1", "number one"),
        ("007", "zero zero seven"),
        (".5", "point five"),
        ("1100", "eleven hundred"),
        ("2100", "two thousand one hundred"),
        ("12345678901234567", "one two three four five six seven eight nine zero one two three four five six seven"),
        ("MP3", "M P three"),
        ("25°C", "twenty-five degrees Celsius"),
        ("US$5", "U S five dollars"),
    ],
)
def test_numbers_in_context(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("In St. Louis", "In Saint Louis"),
        ("on Main St.", "on Main Street."),
        ("on Main St. in town", "on Main Street in town"),
        ("5th St. is busy", "fifth Street is busy"),
        ("Mt. Everest and Ft. Worth", "Mount Everest and Fort Worth"),
        ("Smith Jr. He left.", "Smith Junior. He left."),
        ("apples etc. The end", "apples et cetera. The end"),
        ("She got a Ph.D. in 1999.", "She got a P H D in nineteen ninety-nine."),
        ("J. R. R. Tolkien", "J R R Tolkien"),
        ("Mr. E. G. Smith", "Mister E G Smith"),
        ("Robert I. Bouck", "Robert I Bouck"),
        ("Pope John Paul II", "Pope John Paul the second"),
        ("Elizabeth II's reign", "Elizabeth the second's reign"),
        ("When I go, Did I say", "When I go, Did I say"),
        ("Chapter IV", "Chapter four"),
        ("NATO and USSR", "NATO and U S S R"),
        ("He bought two TVs", "He bought two T V's"),
        ("HELLO WORLD HOW ARE YOU", "hello world how are you"),
        ("AT&T", "A T and T"),
        ("user@example.com", "user at example dot com"),
        ("twelve:thirty p.m.", "twelve thirty P M."),
        ("Wait... what?", "Wait, what?"),
        ("Wait...", "Wait."),
        ("x — y (z)", "x, y, z,"),
        ("'quoted' students' books", "quoted students' books"),
        ("Straße Łódź Ærø", "Strasse Lodz AEro"),
    ],
)
def test_words_and_punctuation(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("text", ["", "   ", "!!!", "...", "\"'()"])
def test_unspeakable_text_normalizes_to_empty(text):
    assert normalize_text(text) == ""


def test_one_warning_per_distinct_unknown_character():
    messages = _dropped_characters("a🙂b🙂c😀 Привет \x07")
    assert len(messages) == 2 + 6 + 1  # two emoji, six distinct Cyrillic letters, one control character
    assert any("U+1F642" in m and "🙂" in m for m in messages)
    assert any("U+0007" in m for m in messages)


def test_unknown_characters_are_dropped_but_text_is_kept():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert normalize_text("Hello 🙂 world 你好") == "Hello world"


def test_accents_fold_without_warnings():
    assert _dropped_characters("café naïve résumé ﬁne ＦＵＬＬ") == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert normalize_text("café naïve résumé") == "cafe naive resume"


def test_normalize_rejects_non_strings():
    with pytest.raises(TypeError, match="expects a str"):
        normalize_text(None)


@pytest.mark.parametrize(
    "value, spoken",
    [
        (1999, "nineteen ninety-nine"),
        (2005, "two thousand five"),
        (1900, "nineteen hundred"),
        (1905, "nineteen oh five"),
        (2010, "twenty ten"),
        (2000, "two thousand"),
        (800, "eight hundred"),
    ],
)
def test_year_reading(value, spoken):
    assert numbers.year(value) == spoken


def test_number_words_have_no_british_and_or_commas():
    assert numbers.cardinal(1234567) == "one million two hundred thirty-four thousand five hundred sixty-seven"
    assert numbers.ordinal(103) == "one hundred third"
    assert numbers.pluralize_last("nineteen ninety") == "nineteen nineties"
    assert numbers.pluralize_last("twenty-six") == "twenty-sixes"
