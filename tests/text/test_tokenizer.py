"""Tokenizer modes, ids, unspeakable text, symbol table state and the describe helper."""

import multiprocessing
import warnings

import pytest

from tts_gen.text import TextConfig, Tokenizer, UnsupportedCharacterWarning, describe_text, phonemize
from tts_gen.text.symbols import CHARACTER_TABLE, PAD, PHONEME_TABLE


@pytest.fixture(scope="module")
def phonemes():
    return Tokenizer(TextConfig())


@pytest.fixture(scope="module")
def characters():
    return Tokenizer(TextConfig(mode="characters"))


def test_config_rejects_unknown_mode():
    with pytest.raises(ValueError, match="phonemes.*characters"):
        TextConfig(mode="graphemes")


def test_phoneme_units_and_ids(phonemes):
    units = phonemes.units("Hello, Dr. Smith!")
    assert units == ["h", "ɛ", "l", "ˈoʊ", ",", " ", "d", "ˈɑ", "k", "t", "ɚ", " ", "s", "m", "ˈɪ", "θ", "!"]
    ids = phonemes.encode("Hello, Dr. Smith!")
    assert ids == phonemes.units_to_ids([" ", *units, " "])  # the model reads the text between edge pauses
    assert phonemes.ids_to_units(ids)[1:-1] == units
    assert 0 not in ids


def test_edge_pauses_frame_the_model_units_and_can_be_turned_off():
    framed = Tokenizer(TextConfig()).analyze("Good day.")
    plain = Tokenizer(TextConfig(edge_pauses=False)).analyze("Good day.")
    assert framed.units == [" ", *plain.units, " "] and plain.units[0] != " " and plain.units[-1] == "."
    assert [(w.start - 1, w.end - 1) for w in framed.words] == [(w.start, w.end) for w in plain.words]
    assert [framed.units[w.start : w.end] for w in framed.words] == [plain.units[w.start : w.end] for w in plain.words]


def test_checkpoints_saved_without_edge_pauses_keep_reading_text_without_them(phonemes):
    old_state = {key: value for key, value in phonemes.state_dict().items() if key != "edge_pauses"}
    old = Tokenizer.from_state_dict(old_state)
    assert old.config.edge_pauses is False
    assert old.encode("Good day.") == phonemes.encode("Good day.")[1:-1]
    with pytest.raises(ValueError, match="without edge pauses, this tokenizer with; set text.edge_pauses to False"):
        phonemes.check_compatible(old_state)


def test_character_mode(characters):
    assert characters.units("Dr. Smith paid $5.") == list("doctor smith paid five dollars.")
    assert characters.num_symbols == len(CHARACTER_TABLE.symbols)
    assert characters.encode("It's well-known!") == characters.units_to_ids(list(" it's well-known! "))


def test_character_mode_warns_once_per_dropped_character(characters):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert characters._characters("ab\u00e9\u00e9c") == ["a", "b", "c"]
    assert len([w for w in caught if issubclass(w.category, UnsupportedCharacterWarning)]) == 1


def test_unknown_unit_is_named(phonemes):
    with pytest.raises(ValueError, match="'q'"):
        phonemes.units_to_ids(["h", "q"])


@pytest.mark.parametrize("text", ["", "   ", "!!!", "🙂", "... -- ()"])
@pytest.mark.parametrize("mode", ["phonemes", "characters"])
def test_nothing_to_speak(text, mode):
    tokenizer = Tokenizer(TextConfig(mode=mode))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsupportedCharacterWarning)
        with pytest.raises(ValueError, match="nothing to speak"):
            tokenizer.encode(text)


def test_table_properties(phonemes):
    assert phonemes.pad_id == 0
    assert phonemes.symbols[0] == PAD
    assert phonemes.num_symbols == len(PHONEME_TABLE.symbols) == len(phonemes.symbols)


def test_state_dict_round_trip(phonemes, characters):
    for tokenizer in (phonemes, characters):
        state = tokenizer.state_dict()
        assert set(state) == {"mode", "version", "symbols", "edge_pauses"}
        rebuilt = Tokenizer.from_state_dict(state)
        assert rebuilt.config == tokenizer.config
        assert rebuilt.symbols == tokenizer.symbols
        tokenizer.check_compatible(state)


def test_mismatched_tables_are_rejected(phonemes, characters):
    with pytest.raises(ValueError, match="text mode 'characters'"):
        phonemes.check_compatible(characters.state_dict())
    state = phonemes.state_dict()
    with pytest.raises(ValueError, match="saved version 999"):
        phonemes.check_compatible({**state, "version": 999})
    with pytest.raises(ValueError, match="only in the checkpoint: \\['x'\\]"):
        phonemes.check_compatible({**state, "symbols": state["symbols"] + ["x"]})
    with pytest.raises(ValueError, match="different order"):
        phonemes.check_compatible({**state, "symbols": [state["symbols"][0]] + state["symbols"][:0:-1]})
    with pytest.raises(ValueError, match="lacks"):
        phonemes.check_compatible({"mode": "phonemes"})
    with pytest.raises(ValueError, match="does not match"):
        Tokenizer.from_state_dict({**state, "symbols": state["symbols"][:-1]})
    with pytest.raises(ValueError, match="text mode must be"):
        Tokenizer.from_state_dict({**state, "mode": "bytes"})


def test_describe_text():
    report = describe_text("Hello, Dr. Smith!", TextConfig())
    assert "normalized: Hello, Doctor Smith!" in report
    assert "hɛlˈoʊ, dˈɑktɚ smˈɪθ!" in report
    assert "units (19): _ | h |" in report and "token ids (19):" in report  # 17 units and the two edge pauses
    assert "nothing to speak" in describe_text("!!!", TextConfig(mode="characters"))


def test_phonemize_in_forked_workers():
    sentences = ["The FBI read it.", "A man saw plan A."]
    expected = [phonemize(s) for s in sentences]  # loads gruut in the parent before forking
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(phonemize, sentences) == expected
