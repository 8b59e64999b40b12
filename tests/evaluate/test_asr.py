"""Error rates of known strings, the scoring normalization, and the recognizer on a clean flite utterance."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest
import soundfile as sf

from tts_gen.evaluate.metrics.asr import (
    align_counts,
    char_errors,
    errors_by_position,
    errors_by_reference_unit,
    score_transcript,
    scoring_text,
    word_errors,
)


def test_scoring_text_normalizes_both_sides_the_same_way():
    assert scoring_text("Dr. Smith paid $3.50!") == "doctor smith paid three dollars fifty cents"
    assert scoring_text("In 1865 -- twenty-one men") == "in eighteen sixty five twenty one men"
    assert scoring_text("Don't STOP.") == "don't stop"


def test_edit_counts_of_known_strings():
    counts = align_counts("a b c d".split(), "a x c d d".split())
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.length) == (1, 0, 1, 4)
    assert counts.rate == pytest.approx(0.5)
    skipped = word_errors("the cat sat on the mat", "the cat on mat")
    assert (skipped.deletions, skipped.insertions, skipped.substitutions) == (2, 0, 0)
    assert skipped.rate == pytest.approx(2 / 6)
    repeated = word_errors("the cat sat", "the the cat sat sat")
    assert repeated.insertions == 2 and repeated.rate == pytest.approx(2 / 3)
    assert char_errors("abc", "abd").rate == pytest.approx(1 / 3)
    assert word_errors("Dr. Smith paid $3.50.", "doctor smith paid three dollars fifty cents").rate == 0.0
    assert align_counts([], ["x"]).rate == 1.0


def test_errors_fall_on_the_reference_words_the_alignment_gives_them():
    assert errors_by_reference_unit("a b c d".split(), "a x c d d".split()) == [0, 1, 0, 1]  # trailing repeat: last
    assert errors_by_reference_unit("a b c".split(), "uh a b c".split()) == [1, 0, 0]  # inserted before the first
    assert errors_by_reference_unit("a b c".split(), "b c".split()) == [1, 0, 0]  # the first word skipped
    assert errors_by_reference_unit([], ["x"]) == []
    rng = random.Random(0)
    for _ in range(200):
        reference = rng.choices("abc", k=rng.randint(1, 8))
        hypothesis = rng.choices("abcd", k=rng.randint(0, 9))
        assert sum(errors_by_reference_unit(reference, hypothesis)) == align_counts(reference, hypothesis).errors


def test_errors_by_position_separates_the_sentence_edges_from_its_inside():
    reference = "the quick brown fox jumps over the lazy old dog"
    lost_opening = errors_by_position(reference, "a brown fox jumps over the lazy old dog")
    assert lost_opening == {"first words": (2, 3), "inside": (0, 4), "last words": (0, 3)}
    lost_end = errors_by_position(reference, "the quick brown fox jumps over the lazy")
    assert lost_end == {"first words": (0, 3), "inside": (0, 4), "last words": (2, 3)}
    assert errors_by_position("too short to have an inside", "too short") == {}


def test_score_transcript_reports_rates_and_counts():
    scores = score_transcript("one two three four", "one three four five")
    assert scores.wer == pytest.approx(0.5)
    assert (scores.word_deletions, scores.word_insertions, scores.reference_words) == (1, 1, 4)
    assert 0 < scores.cer < 1


# Sentence of the LJSpeech test split (LJ039-0148). Over the first 20 test-split sentences read by flite slt,
# PocketSphinx's word error rate was 22.7% (0% on this one); 0.25 leaves room for three of its 13 words.
FLITE_SENTENCE = "Examination of the cartridge cases found on the sixth floor of the depository building."


def flite_wav(folder):
    """(waveform, sample rate) of :data:`FLITE_SENTENCE` read by flite's slt voice."""
    path = folder / "flite.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", FLITE_SENTENCE, "-o", str(path)], check=True, capture_output=True)
    return sf.read(path, dtype="float32")


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_recognizer_recovers_a_clean_flite_utterance(tmp_path):
    pytest.importorskip("pocketsphinx", reason="the eval extra is not installed: pip install -e '.[eval]'")
    from tts_gen.evaluate.metrics.asr import Recognizer

    wav, rate = flite_wav(tmp_path)
    scores = Recognizer().score(wav, rate, FLITE_SENTENCE)
    assert scores.wer <= 0.25, scores.hypothesis
    assert scores.cer <= 0.15, scores.hypothesis


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_transcript_cache_recognizes_identical_audio_once(tmp_path):
    pytest.importorskip("pocketsphinx", reason="the eval extra is not installed: pip install -e '.[eval]'")
    from tts_gen.evaluate.metrics.asr import Recognizer
    from tts_gen.files import read_json_lines

    wav, rate = flite_wav(tmp_path)
    cache = tmp_path / "transcripts.jsonl"
    first = Recognizer(cache).transcribe(wav, rate)
    with open(cache, "a", encoding="utf-8") as handle:
        handle.write('{"sha256": "torn')  # a crash in the middle of an append
    second = Recognizer(cache)
    second._decode = lambda pcm: pytest.fail("a cached transcript was recognized again")
    assert second.transcribe(wav, rate) == first
    Recognizer(cache).transcribe(wav * 0.5, rate)  # other audio: decoded, then kept
    records = read_json_lines(cache)
    assert records[0]["hypothesis"] == first
    assert len(records) == 2  # the torn line is skipped and ended; the new audio added one whole record


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_recognizing_in_two_processes_gives_the_transcripts_of_one(tmp_path):
    """Several waveforms recognized by two worker processes: the transcripts of one process, in order, and each
    distinct audio recognized and cached once."""
    pytest.importorskip("pocketsphinx", reason="the eval extra is not installed: pip install -e '.[eval]'")
    from tts_gen.evaluate.metrics.asr import Recognizer
    from tts_gen.files import read_json_lines

    wav, rate = flite_wav(tmp_path)
    half = len(wav) // 2
    wavs = [wav, wav[:half], wav[half:], wav]  # the last one is the first again
    expected = [Recognizer().transcribe(w, rate) for w in wavs]
    assert len(set(expected)) == 3
    cache = tmp_path / "transcripts.jsonl"
    assert Recognizer(cache).transcribe_many(wavs, rate, workers=2) == expected
    assert len(read_json_lines(cache)) == 3


def test_a_transcript_does_not_depend_on_what_the_recognizer_heard_before(mini_corpus):
    """PocketSphinx carries feature statistics from one utterance to the next; without a fresh start per utterance
    LJ001-0002 is transcribed differently after LJ001-0013 than alone."""
    pytest.importorskip("pocketsphinx", reason="the eval extra is not installed: pip install -e '.[eval]'")
    from tts_gen.evaluate.metrics.asr import Recognizer

    first, second = (
        sf.read(mini_corpus / "wavs" / f"{name}.wav", dtype="float32") for name in ("LJ001-0013", "LJ001-0002")
    )
    alone = Recognizer().transcribe(*second)
    recognizer = Recognizer()
    recognizer.transcribe(*first)
    assert recognizer.transcribe(*second) == alone
