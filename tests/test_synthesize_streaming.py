"""Long texts in bounded batches, many texts batched across lines, streaming, timings, and the synth options for
applications (--stream, --out -, --raw, --alignments, --lexicon, --sentence-silence)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.conftest import cli
from tts_gen.cli import main
from tts_gen.synthesize import Synthesizer

SENTENCES = [
    "Printing, in the only sense with which we are at present concerned, differs from most arts.",
    "It was the first of the crafts.",
    "The earliest book printed with movable types was a Bible.",
    "Yes.",
    "A very short one, then a rather longer sentence that runs on for a while before it ends.",
    "And the last sentence of this text.",
]


@pytest.fixture(scope="module")
def synthesizer(acoustic_run, vocoder_run):
    return Synthesizer.from_checkpoint(acoustic_run, vocoder=vocoder_run)


def record_batches(synthesizer, monkeypatch) -> list[tuple[int, int]]:
    """Records the (batch, tokens) shape of every call of the acoustic model (which still runs)."""
    shapes: list[tuple[int, int]] = []
    synthesize = synthesizer.model.synthesize

    def recorded(x, *args, **kwargs):
        shapes.append(tuple(x.shape))
        return synthesize(x, *args, **kwargs)

    monkeypatch.setattr(synthesizer.model, "synthesize", recorded)
    return shapes


def test_a_long_text_goes_through_in_bounded_batches(synthesizer, monkeypatch):
    text = " ".join(SENTENCES * 6)  # 36 sentences
    shapes = record_batches(synthesizer, monkeypatch)
    result = synthesizer.speak(text, temperature=0.0, max_tokens=200, sentence_silence=0.1)
    assert len(result.sentences) == 36 and len(shapes) > 3
    assert all(batch * tokens <= 200 for batch, tokens in shapes if batch > 1)
    assert sum(batch for batch, _ in shapes) == 36
    hop, gap = synthesizer.hop_length, round(0.1 * synthesizer.sample_rate)
    assert result.waveform.numel() == sum(mel.shape[-1] for mel in result.mels) * hop + 35 * gap
    assert result.offsets[1] == result.mels[0].shape[-1] * hop + gap
    assert [s.text for s in result.sentences[:6]] == SENTENCES


def test_many_texts_are_batched_across_lines(synthesizer, monkeypatch):
    lines = [f"Line number {i}, spoken." for i in range(12)]
    shapes = record_batches(synthesizer, monkeypatch)
    results = list(synthesizer.speak_many(lines, temperature=0.0, max_tokens=1000))
    assert len(results) == 12 and len(shapes) < 12
    assert [r.sentences[0].text for r in results] == lines
    alone = synthesizer.speak(lines[5], temperature=0.0)
    assert torch.allclose(alone.waveform, results[5].waveform, atol=1e-4)


def test_streaming_yields_the_same_audio_piece_by_piece(synthesizer):
    text = " ".join(SENTENCES)
    chunks = list(synthesizer.stream(text, temperature=0.0, chunk_frames=8, sentence_silence=0.05))
    whole = synthesizer.speak(text, temperature=0.0, sentence_silence=0.05)
    streamed = torch.cat([chunk.samples for chunk in chunks])
    assert streamed.shape == whole.waveform.shape
    assert float((streamed - whole.waveform).abs().max()) < 1e-4
    assert [c.sentence for c in chunks if c.silence] == [1, 2, 3, 4, 5]
    spoken = [c for c in chunks if not c.silence]
    assert len(spoken) > len(SENTENCES) and all(c.samples.numel() <= 8 * 256 for c in spoken)
    assert [c.sentence for c in spoken] == sorted(c.sentence for c in spoken)


def test_stream_refuses_bad_requests_before_any_audio(synthesizer):
    with pytest.raises(ValueError, match="no option steps"):
        synthesizer.stream("Hello.", steps=4)
    with pytest.raises(ValueError, match="nothing to speak"):
        synthesizer.stream("   ")
    with pytest.raises(ValueError, match="'q' is not in the model's"):
        synthesizer.stream("Hello [[q]].")


def test_alignments_time_every_sentence_word_and_phoneme(synthesizer):
    result = synthesizer.speak("Hello there, [[t ə m ˈɑ t oʊ]]. A second sentence!", temperature=0.0)
    timings = json.loads(json.dumps(result.alignments()))
    assert [w["word"] for w in timings["words"]] == ["Hello", "there", "[[t ə m ˈɑ t oʊ]]", "A", "second", "sentence"]
    assert [w["sentence"] for w in timings["words"]] == [0, 0, 0, 1, 1, 1]
    phonemes = timings["phonemes"]
    assert [p["phoneme"] for p in phonemes[:4]] == ["h", "ɛ", "l", "ˈoʊ"] and " " not in {
        p["phoneme"] for p in phonemes
    }
    starts = [p["start"] for p in phonemes]
    assert starts == sorted(starts) and all(p["end"] >= p["start"] for p in phonemes)
    for word in timings["words"]:
        assert word["end"] >= word["start"]
    duration = result.waveform.numel() / result.sample_rate
    assert timings["sentences"][-1]["end"] == pytest.approx(duration, abs=1e-3)
    assert timings["sentences"][1]["start"] == pytest.approx(result.offsets[1] / result.sample_rate, abs=1e-3)


def test_synth_streams_to_standard_output(acoustic_run, vocoder_run, tmp_path, capsysbinary):
    text = "Hello there. A second sentence, with a pause."
    common = ["synth", "--checkpoint", str(acoustic_run), "--vocoder", str(vocoder_run), "--temperature", "0"]
    assert main([*common, "--text", text, "--out", str(tmp_path / "whole.wav")]) == 0
    capsysbinary.readouterr()
    assert main([*common, "--text", text, "--out", "-", "--stream"]) == 0
    streamed = capsysbinary.readouterr()
    assert streamed.out[:4] == b"RIFF" and streamed.out[4:8] == b"\xff\xff\xff\xff"
    assert b"streamed" in streamed.err
    audio, rate = sf.read(io.BytesIO(streamed.out), dtype="int16")
    whole, _ = sf.read(str(tmp_path / "whole.wav"), dtype="int16")
    assert rate == 22050 and np.abs(audio.astype(int) - whole.astype(int)).max() <= 2
    assert main([*common, "--text", text, "--out", "-", "--raw"]) == 0
    raw = capsysbinary.readouterr().out
    assert len(raw) == 2 * len(whole) and np.abs(np.frombuffer(raw, "<i2").astype(int) - whole).max() <= 2
    assert main([*common, "--text", text, "--out", str(tmp_path / "grown.wav"), "--stream"]) == 0
    grown, _ = sf.read(str(tmp_path / "grown.wav"), dtype="int16")
    assert sf.info(str(tmp_path / "grown.wav")).frames == len(whole) and np.abs(grown - whole).max() <= 2


def test_synth_writes_timings_and_uses_a_lexicon(acoustic_run, tmp_path, capsys):
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("tomato t ə m ˈɑ t oʊ\n", encoding="utf-8")
    out, timings = tmp_path / "tomato.wav", tmp_path / "tomato.json"
    args = ["synth", "--checkpoint", acoustic_run, "--text", "A tomato. Then silence.", "--out", out]
    assert cli(*args, "--alignments", timings, "--lexicon", lexicon, "--sentence-silence", "0.5") == 0
    payload = json.loads(timings.read_text(encoding="utf-8"))
    tomato = [p["phoneme"] for p in payload["phonemes"] if p["sentence"] == 0][1:7]
    assert tomato == ["t", "ə", "m", "ˈɑ", "t", "oʊ"]
    gap = payload["sentences"][1]["start"] - payload["sentences"][0]["end"]
    assert gap == pytest.approx(0.5, abs=1e-3)
    assert sf.info(str(out)).duration == pytest.approx(payload["sentences"][1]["end"], abs=1e-3)
    lines = tmp_path / "lines.txt"
    lines.write_text("a|First line.\nb|Second line here.\n", encoding="utf-8")
    assert cli("synth", "--checkpoint", acoustic_run, "--text-file", lines, "--out", tmp_path / "many",
               "--alignments", tmp_path / "times") == 0  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "times").iterdir()) == ["a.json", "b.json"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--out", "x.wav", "--raw"], "--raw writes headerless PCM to standard output"),
        (["--out", "-", "--stream", "--alignments", "t.json"], "--alignments needs the whole text"),
        (["--out", "x.wav", "--sentence-silence", "-1"], "--sentence-silence must be >= 0"),
        (["--out", "x.wav", "--onnx", "somewhere"], "give either --checkpoint"),
        (["--out", "x.wav", "--lexicon", "missing.txt"], "missing.txt does not exist"),
    ],
)
def test_synth_application_options_fail_in_one_line(acoustic_run, tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--checkpoint", str(acoustic_run), "--text", "Hello.", *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
