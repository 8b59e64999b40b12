"""Hostile input to `tts-gen synth` and the Python API: ids used as paths, bad numbers, unreadable text files,
unwritable outputs, non-finite output, and texts that must be spoken (or refused) without a traceback."""

from __future__ import annotations

import pytest
import soundfile as sf
import torch

from tests.conftest import cli
from tests.hostile.conftest import one_line_error
from tts_gen import Synthesizer
from tts_gen.audio import save_wav
from tts_gen.errors import TTSGenError
from tts_gen.models.alignment import MAX_SENTENCE_FRAMES, SentenceTooLongError, predicted_durations
from tts_gen.validation import NonFiniteOutputError, NumberOutOfRangeError, WrongTypeError


def synth(run, *arguments) -> int:
    return cli("synth", "--checkpoint", run, *arguments)


@pytest.mark.parametrize(
    "line_id, problem",
    [
        ("../../../victim", "contains a path separator"),
        ("ABSOLUTE", "contains a path separator"),
        ("sub\\victim", "contains a path separator"),
        ("..", "starts with a dot"),
        (".hidden", "starts with a dot"),
        ("x" * 300, "is longer than 200 bytes"),
        ("a\x07b", "contains a control character"),
        ("", "is empty"),
    ],
)
def test_an_id_that_is_not_a_plain_file_name_is_refused_naming_the_line(tiny_run, sandbox, capsys, line_id, problem):
    line_id = str(sandbox.root / "victim") if line_id == "ABSOLUTE" else line_id
    lines = sandbox.root / "lines.txt"
    lines.write_text(f"good|A fine line.\n{line_id}|Overwrite the recording.\n", encoding="utf-8")
    sandbox.seal()
    assert synth(tiny_run, "--text-file", lines, "--out", sandbox.out) == 2
    one_line_error(capsys, f"{lines}:2: id", problem)
    sandbox.untouched()
    assert not sandbox.out.exists(), "nothing is synthesized when a line is refused"


def test_duplicate_ids_and_names_are_refused(tiny_run, sandbox, capsys):
    lines = sandbox.root / "lines.txt"
    lines.write_text("a|One.\nb|Two.\na|Three.\n")
    assert synth(tiny_run, "--text-file", lines, "--out", sandbox.out) == 2
    one_line_error(capsys, f"{lines}:3: duplicate output name 'a' (first at {lines}:1)")
    lines.write_text("Unnamed first line.\n0001|A line named like the first one's output.\n")
    assert synth(tiny_run, "--text-file", lines, "--out", sandbox.out) == 2
    one_line_error(capsys, "duplicate output name '0001'")
    assert not sandbox.out.exists()


def test_unspeakable_lines_are_all_named_and_nothing_is_written(tiny_run, sandbox, capsys):
    lines = sandbox.root / "lines.txt"
    lines.write_text("a|A fine line.\nb|?!...\nc|Another fine line.\nd|🙂🙂\n")
    assert synth(tiny_run, "--text-file", lines, "--out", sandbox.out) == 2
    one_line_error(capsys, "2 line(s) have nothing to speak", f"{lines}:2", f"{lines}:4", "nothing was written")
    assert not sandbox.out.exists()


def test_a_text_file_that_is_a_folder_or_not_utf8_is_one_line(tiny_run, sandbox, capsys):
    assert synth(tiny_run, "--text-file", sandbox.root, "--out", sandbox.out) == 2
    one_line_error(capsys, f"--text-file {sandbox.root} is a folder")
    latin1 = sandbox.root / "latin1.txt"
    latin1.write_bytes("First line.\nCaf\u00e9 au lait.\n".encode("latin-1"))
    assert synth(tiny_run, "--text-file", latin1, "--out", sandbox.out) == 2
    one_line_error(capsys, f"{latin1}:2: --text-file is not UTF-8 (byte 0xe9)", "iconv")
    assert synth(tiny_run, "--text-file", sandbox.root / "missing.txt", "--out", sandbox.out) == 2
    one_line_error(capsys, "missing.txt does not exist")


def test_bom_and_crlf_text_files_are_read_as_plain_lines(tiny_run, sandbox, capsys):
    lines = sandbox.root / "lines.txt"
    lines.write_bytes("\ufeffa|One line.\r\nb|Two lines.\r\n".encode())
    sandbox.seal()
    assert synth(tiny_run, "--text-file", lines, "--out", sandbox.out) == 0
    assert sorted(p.name for p in sandbox.out.iterdir()) == ["a.wav", "b.wav"]
    sandbox.untouched()


@pytest.mark.parametrize("where", ["parent is a file", "is a folder"])
def test_an_unwritable_out_is_one_line(tiny_run, sandbox, capsys, where):
    blocker = sandbox.root / "file.txt"
    blocker.write_text("not a folder")
    out = blocker / "x.wav" if where == "parent is a file" else sandbox.root / "folder.wav"
    if where == "is a folder":
        out.mkdir()
    sandbox.seal()
    assert synth(tiny_run, "--text", "Hello there.", "--out", out) == 2
    one_line_error(capsys, f"cannot write to {blocker}" if where == "parent is a file" else f"{out} is a folder")
    sandbox.untouched()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--length-scale", "nan"], "--length-scale must be a finite number, got nan"),
        (["--length-scale", "inf"], "--length-scale must be a finite number, got inf"),
        (["--length-scale", "0"], "--length-scale must be > 0, got 0"),
        (["--length-scale", "-1"], "--length-scale must be > 0, got -1"),
        (["--length-scale", "1e6"], f"more than the maximum of {MAX_SENTENCE_FRAMES} frames per sentence"),
        (["--temperature", "nan"], "option temperature must be a finite number, got nan"),
        (["--option", "temperature=inf"], "option temperature must be a finite number, got inf"),
        (["--option", "steps=4"], "has no option steps"),
    ],
)
def test_bad_numbers_are_one_line_errors(tiny_run, sandbox, capsys, arguments, message):
    assert synth(tiny_run, "--text", "Two words.", "--out", sandbox.out / "x.wav", *arguments) == 2
    one_line_error(capsys, message)
    assert not (sandbox.out / "x.wav").exists()
    sandbox.untouched()


@pytest.mark.parametrize(
    "text",
    [
        "I",  # a sentence of two frames: Griffin-Lim pads it
        "Hello мир 世界 and more.",  # mixed scripts: the unknown ones are dropped
        "Control\x07 characters\x00 and NUL.",
    ],
    ids=["one-letter", "mixed-scripts", "control-characters"],
)
def test_odd_but_speakable_texts_are_spoken(tiny_run, sandbox, capsys, text):
    out = sandbox.out / "x.wav"
    assert synth(tiny_run, "--text", text, "--out", out) == 0
    assert sf.info(str(out)).frames > 0
    sandbox.untouched()


def test_huge_numbers_and_words_go_through_the_frontend_and_the_model(tiny_run):
    """A 400-digit number and a 5,000-character word (cut into pieces): tokens and a finite mel per sentence (the
    vocoder, tested above, would take long on the minute of audio an untrained model makes of them)."""
    synthesizer = Synthesizer.from_checkpoint(tiny_run)
    for text, pieces in (("1" * 400, 1), ("a" * 5000, 17)):
        tokens = synthesizer.tokens(text)
        assert len(tokens) >= pieces and all(tokens)
        for ids in tokens[:2]:
            x = torch.tensor([ids])
            synthesis = synthesizer.model.synthesize(x, torch.tensor([len(ids)]))
            assert synthesis.mel.shape[-1] >= len(ids) and bool(torch.isfinite(synthesis.mel).all())


@pytest.mark.parametrize(
    "text", ["", "   \t ", "?!...", "🙂🙂🙂", "\x00"], ids=["empty", "space", "punct", "emoji", "nul"]
)
def test_texts_with_nothing_to_speak_are_one_line(tiny_run, sandbox, capsys, text):
    assert synth(tiny_run, "--text", text, "--out", sandbox.out / "x.wav") == 2
    one_line_error(capsys, "nothing to speak")
    assert not sandbox.out.exists()


def test_the_python_api_refuses_wrong_types_and_numbers(tiny_run):
    synthesizer = Synthesizer.from_checkpoint(tiny_run)
    for text in (b"Hello there.", 123, None):
        with pytest.raises(WrongTypeError, match="must be a str"):
            synthesizer.tts(text)
    assert issubclass(WrongTypeError, (TTSGenError, ValueError, TypeError))
    for value in (float("nan"), float("inf"), 0.0, -1.0):
        with pytest.raises(NumberOutOfRangeError, match="length_scale"):
            synthesizer.tts("Hello there.", length_scale=value)
    with pytest.raises(NumberOutOfRangeError, match="option temperature must be a finite number"):
        synthesizer.tts("Hello there.", temperature=float("nan"))
    with pytest.raises(SentenceTooLongError, match="lower length_scale"):
        synthesizer.tts("Hello there.", length_scale=1e6)
    wav, rate = synthesizer.tts("Hello there.")
    assert rate == 22050 and bool(torch.isfinite(wav).all())


def test_the_length_bound_is_checked_before_anything_is_allocated():
    log_durations = torch.full((1, 1, 3), 5.0)  # e^5 ~ 148 frames per token
    mask = torch.ones(1, 1, 3)
    assert int(predicted_durations(log_durations, mask).sum()) == 3 * 149
    with pytest.raises(SentenceTooLongError, match="would last 4455 frames, more than the maximum of 1000"):
        predicted_durations(log_durations, mask, length_scale=10.0, max_frames=1000)
    with pytest.raises(SentenceTooLongError):
        predicted_durations(torch.full((1, 1, 3), 1e4), mask)  # exp overflows to inf: still a clear error
    with pytest.raises(NonFiniteOutputError, match="non-finite durations"):
        predicted_durations(torch.full((1, 1, 3), float("nan")), mask)


def test_a_non_finite_mel_is_an_error_never_a_file(tiny_run, sandbox, capsys, monkeypatch):
    from tts_gen.models.decoders.flow import FlowDecoder

    monkeypatch.setattr(FlowDecoder, "generate", lambda self, cond, mask, options: cond * float("nan"))
    out = sandbox.out / "x.wav"
    assert synth(tiny_run, "--text", "Hello there.", "--out", out) == 2
    one_line_error(capsys, "the acoustic model's mel holds NaN or infinite values; nothing was written")
    assert not out.exists()
    with pytest.raises(NonFiniteOutputError):
        Synthesizer.from_checkpoint(tiny_run).tts("Hello there.")
    with pytest.raises(NonFiniteOutputError, match="nothing was written"):
        save_wav(out, torch.tensor([0.0, float("inf"), 0.1]), 22050)
    assert not out.exists() and not list(sandbox.out.glob(".*"))
