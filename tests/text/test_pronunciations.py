"""Pronunciation control: inline [[phonemes]], the user lexicon, words and their units, sentence batches."""

import pytest

from tts_gen.text import TextConfig, Tokenizer, split_sentences
from tts_gen.text.pronunciations import PronunciationError, read_pronunciations
from tts_gen.text.sentences import sentence_batches
from tts_gen.text.symbols import CHARACTER_TABLE, PHONEME_TABLE


@pytest.fixture(scope="module")
def phonemes():
    return Tokenizer(TextConfig())


def test_inline_phonemes_are_spoken_as_one_word(phonemes):
    encoding = phonemes.analyze("Say [[t ə m ˈɑ t oʊ]], please.")
    spoken = ["s", "ˈeɪ", " ", "t", "ə", "m", "ˈɑ", "t", "oʊ", ",", " ", "p", "l", "ˈi", "z", "."]
    assert encoding.units == [" ", *spoken, " "]  # the edge pauses frame what is spoken
    assert encoding.ids == phonemes.units_to_ids(encoding.units)
    assert [(w.text, w.start, w.end) for w in encoding.words] == [
        ("Say", 1, 3),
        ("[[t ə m ˈɑ t oʊ]]", 4, 10),
        ("please", 12, 16),
    ]


def test_words_follow_the_normalized_text(phonemes):
    encoding = phonemes.analyze("Dr. Smith paid $3.")
    assert [w.text for w in encoding.words] == ["Doctor", "Smith", "paid", "three", "dollars"]
    for word in encoding.words:
        assert all(unit not in (" ", ".") for unit in encoding.units[word.start : word.end])


@pytest.mark.parametrize(
    "text, message",
    [
        ("Say [[t ə q]].", "'q' is not in the model's phonemes symbol table"),
        ("Say [[ ]].", "lists no phonemes symbol"),
        ("Say [[t ə.", "unbalanced [[ ]]"),
        ("Say t ə]].", "unbalanced [[ ]]"),
    ],
)
def test_bad_inline_phonemes_name_the_problem(phonemes, text, message):
    with pytest.raises(PronunciationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        phonemes.analyze(text)


def test_character_models_check_inline_units_against_their_own_table():
    characters = Tokenizer(TextConfig(mode="characters"))
    assert characters.analyze("say [[h i]]").units == [" ", "s", "a", "y", " ", "h", "i", " "]
    with pytest.raises(PronunciationError, match="'ˈi' is not in the model's characters symbol table"):
        characters.analyze("say [[h ˈi]]")


def test_sentence_splitting_keeps_inline_blocks_whole():
    text = "First [[f ˈɚ s t]]. Second one [[h ə . l]] here! Third."
    assert split_sentences(text) == ["First [[f ˈɚ s t]].", "Second one [[h ə . l]] here!", "Third."]


def test_user_lexicon_overrides_gruut(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("# my words\nTomato  t ə m ˈɑ t oʊ   # British\n\nzyx z ˈɪ k s\n", encoding="utf-8")
    own = read_pronunciations(path, PHONEME_TABLE)
    assert len(own) == 2 and own.lookup("TOMATO") == ["t", "ə", "m", "ˈɑ", "t", "oʊ"]
    plain = Tokenizer(TextConfig()).units("A tomato.")
    mine = Tokenizer(TextConfig(), own).units("A tomato.")
    assert "ˈeɪ" in plain and mine == ["ə", " ", "t", "ə", "m", "ˈɑ", "t", "oʊ", "."]


@pytest.mark.parametrize(
    "content, message",
    [
        ("tomato t ə m ˈɑ q oʊ\n", r"lexicon.txt:1 \('tomato'\): 'q' is not in the model's phonemes symbol table"),
        ("ok ˈoʊ k\nlonely\n", r"lexicon.txt:2 \('lonely'\) lists no phonemes symbol"),
    ],
)
def test_bad_lexicon_lines_are_named(tmp_path, content, message):
    path = tmp_path / "lexicon.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PronunciationError, match=message):
        read_pronunciations(path, PHONEME_TABLE)


def test_a_lexicon_needs_a_phoneme_model(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("a ə\n", encoding="utf-8")
    with pytest.raises(PronunciationError, match="needs a model trained on phonemes"):
        read_pronunciations(path, CHARACTER_TABLE)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_pronunciations(tmp_path / "missing.txt", PHONEME_TABLE)


@pytest.mark.parametrize("in_order", [False, True])
def test_sentence_batches_stay_within_the_token_budget(in_order):
    lengths = [5, 40, 7, 33, 12, 90, 3, 3, 28]
    batches = sentence_batches(lengths, max_tokens=60, in_order=in_order)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= 60
    if in_order:
        assert [i for batch in batches for i in batch] == list(range(len(lengths)))
    else:
        assert all(lengths[a] >= lengths[b] for batch in batches for a, b in zip(batch, batch[1:]))
    assert len(batches) < len(lengths)
    with pytest.raises(ValueError, match="max_tokens"):
        sentence_batches(lengths, 0)
