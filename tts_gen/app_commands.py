"""The commands that put a trained voice into applications: ``serve``, ``export``, ``vocoder import``, and what
``synth`` does for them (streaming, standard output, timings, ONNX exports).

Kept apart from :mod:`tts_gen.cli` so that the command line stays small; heavy modules are imported inside the
handlers. Bad input raises ValueError (or another of ``tts_gen.errors.USER_ERRORS``), which the command line
prints as one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from tts_gen.errors import TTSGenError


class MissingPackageError(TTSGenError):
    """A command needs a package of an optional extra that is not installed."""


def require(modules: tuple[str, ...], extra: str, command: str) -> None:
    """Raises :class:`MissingPackageError` naming the pip extra when one of ``modules`` is not installed."""
    import importlib.util

    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingPackageError(
            f"{command} needs {', '.join(missing)}: install them with pip install -e '.[{extra}]' (or pip install "
            f"{' '.join(missing)})"
        )


# ----------------------------------------------------------------------------------------------- synth


def _report(args: argparse.Namespace, message: str) -> None:
    """Progress messages go to standard error when standard output carries the audio."""
    print(message, file=sys.stderr if args.out == "-" else sys.stdout)


def _alignment_paths(alignments: str | None, names: list[str | None]) -> list[Path | None]:
    if alignments is None:
        return [None] * len(names)
    path = Path(alignments)
    if len(names) == 1 and names[0] is None:
        return [path]
    if path.suffix.lower() == ".json":
        raise ValueError(f"{len(names)} utterances need a folder for --alignments, not the file {alignments}")
    return [path / f"{name or f'{i:04d}'}.json" for i, name in enumerate(names, start=1)]


def check_synth_arguments(args: argparse.Namespace, count: int) -> None:
    """The combinations of ``synth`` options that make sense, or a ValueError that says which do not."""
    if bool(args.checkpoint) == bool(args.onnx):
        raise ValueError("give either --checkpoint RUN (a run, checkpoint or release) or --onnx EXPORT_DIR")
    if args.out == "-" and count > 1:
        raise ValueError(f"{count} utterances cannot all go to standard output; give a folder for --out")
    if args.raw and args.out != "-":
        raise ValueError("--raw writes headerless PCM to standard output: use it with --out -")
    if args.stream and count > 1:
        raise ValueError("--stream speaks one text; give --text (or one line)")
    if args.stream and args.alignments:
        raise ValueError("--alignments needs the whole text at once; leave out --stream")
    if args.sentence_silence < 0:
        raise ValueError(f"--sentence-silence must be >= 0 seconds, got {args.sentence_silence}")
    if args.onnx and (args.stream or args.alignments):
        raise ValueError("--stream and --alignments need the PyTorch model (--checkpoint), not --onnx")


def check_speakable(synthesizer: Any, items: list[Any]) -> None:
    """Every text must have something to speak; all lines that do not are named at once, before any synthesis."""
    from tts_gen.text import UnspeakableTextError

    if len(items) == 1:
        synthesizer.tokens(items[0].text)  # its own message quotes the text
        return
    bad = []
    for item in items:
        try:
            synthesizer.tokens(item.text)
        except UnspeakableTextError:
            bad.append(item.where)
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise ValueError(f"{len(bad)} line(s) have nothing to speak: {shown}; nothing was written; fix or remove them")


def synth(args: argparse.Namespace, items: list[Any], paths: list[Path] | None, options: dict[str, Any]) -> None:
    """``tts-gen synth``: the texts of ``items`` (``cli.TextItem``: name, text, where) to ``paths`` (None: standard
    output), with the family's ``options``. Every line is checked before any synthesis; nothing is written for a
    line that fails."""
    texts, names = [item.text for item in items], [item.name for item in items]
    check_synth_arguments(args, len(texts))
    if args.onnx:
        require(("onnxruntime",), "export", "tts-gen synth --onnx")
        _synth_onnx(args, texts, paths, options)
        return
    import torch

    from tts_gen.synthesize import Synthesizer
    from tts_gen.validation import check_writable

    synthesizer = Synthesizer.from_checkpoint(
        args.checkpoint, vocoder=args.vocoder, device=args.device, lexicon=args.lexicon
    )
    synthesizer.options(**options)  # an option the family does not have fails before any work
    check_speakable(synthesizer, items)
    if paths is not None:
        check_writable(paths)
    torch.manual_seed(args.seed)
    if args.stream:
        chunks = synthesizer.stream(texts[0], args.length_scale, args.sentence_silence, args.max_tokens, **options)
        target = paths[0] if paths else None
        seconds = _write_stream((chunk.samples for chunk in chunks), synthesizer.sample_rate, target, args.raw)
        _report(args, f"streamed {seconds:.2f} s of audio to {target or 'standard output'}")
        return
    results = synthesizer.speak_many(texts, args.length_scale, args.sentence_silence, args.max_tokens, **options)
    written = 0
    try:
        for result, path, timing in zip(results, paths or [None], _alignment_paths(args.alignments, names)):
            _write_result(args, result, path, timing)
            written += 1
    except (TTSGenError, ValueError) as error:
        if len(items) == 1:
            raise
        raise ValueError(
            f"{items[written].where} or a line after it: {error}; the {written} lines before it were written"
        ) from None


def _write_result(args: argparse.Namespace, result: Any, path: Path | None, timing: Path | None) -> None:
    _write_audio(result.waveform, result.sample_rate, path, args.raw)
    seconds = result.waveform.numel() / result.sample_rate
    _report(args, f"wrote {path or 'standard output'} ({seconds:.2f} s)")
    if timing is not None:
        from tts_gen.files import write_json

        write_json(timing, result.alignments())
        _report(args, f"wrote the timings of {len(result.alignments()['words'])} words to {timing}")


def _write_audio(waveform: Any, sample_rate: int, path: Path | None, raw: bool) -> None:
    """A whole waveform to a WAV file (atomically) or to standard output (WAV, or PCM with ``raw``)."""
    from tts_gen.audio import save_wav
    from tts_gen.audio.encode import encode_audio

    if path is not None:
        save_wav(path, waveform, sample_rate)
        return
    sys.stdout.buffer.write(encode_audio(waveform, sample_rate, "pcm" if raw else "wav"))
    sys.stdout.buffer.flush()


def _write_stream(pieces: Iterable[Any], sample_rate: int, path: Path | None, raw: bool) -> float:
    """Writes waveform pieces as they come: to standard output (a WAV of unknown length, or PCM with ``raw``), or
    to ``path``, which grows as the audio is made and gets its final header at the end. Returns the seconds
    written; a reader that closes the pipe early ends the stream quietly."""
    from tts_gen.audio.encode import pcm16, wav_header

    samples = 0
    sink: BinaryIO = sys.stdout.buffer if path is None else open(path, "wb")  # noqa: SIM115
    try:
        if not raw:
            sink.write(wav_header(sample_rate))
        for piece in pieces:
            sink.write(pcm16(piece))
            sink.flush()
            samples += piece.numel()
        if path is not None:
            sink.seek(0)
            sink.write(wav_header(sample_rate, samples))
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's advice for closed pipes
    finally:
        if path is not None:
            sink.close()
    return samples / sample_rate


def _synth_onnx(args: argparse.Namespace, texts: list[str], paths: list[Path] | None, options: dict[str, Any]) -> None:
    from tts_gen.export.runtime import OnnxVoice

    extra = sorted(set(options) - {"temperature"})
    if extra:
        raise ValueError(
            f"an ONNX export fixes its sampling options at export; only --temperature can be given, not {extra}"
        )
    voice = OnnxVoice(args.onnx, vocoder=args.vocoder, lexicon=args.lexicon)
    if args.seed:
        voice.seed(args.seed)
    for text, path in zip(texts, paths or [None]):
        waveform = voice.speak(
            text,
            temperature=options.get("temperature"),
            length_scale=args.length_scale,
            sentence_silence=args.sentence_silence,
            max_tokens=args.max_tokens,
        )
        _write_audio(waveform, voice.sample_rate, path, args.raw)
        _report(args, f"wrote {path or 'standard output'} ({len(waveform) / voice.sample_rate:.2f} s)")


# ----------------------------------------------------------------------------------------------- export


def export(args: argparse.Namespace) -> None:
    """``tts-gen export``: an ONNX export or a safetensors release."""
    if args.format == "onnx":
        require(("onnx", "onnxruntime"), "export", "tts-gen export")
    if args.format == "safetensors":
        from tts_gen.export.bundle import export_release

        if args.words or args.lexicon or args.options_of(args):
            raise ValueError("--words, --lexicon and sampling options belong to --format onnx")
        report = export_release(args.checkpoint, args.out, args.vocoder)
        print(
            f"wrote a safetensors release of the {report.family} model to {report.out_dir}: {', '.join(report.files)}"
        )
        return
    from tts_gen.export.bundle import export_onnx

    texts = [Path(path).read_text(encoding="utf-8") for path in args.words]
    report = export_onnx(
        args.checkpoint,
        args.out,
        vocoder=args.vocoder,
        word_texts=texts,
        gruut_words=not args.no_gruut_words,
        lexicon=args.lexicon,
        options=args.options_of(args),
    )
    fixed = ", ".join(f"{k}={v}" for k, v in report.options.items() if k != "temperature") or "none"
    print(
        f"wrote the ONNX export of the {report.family} model to {report.out_dir}: {', '.join(report.files)}; "
        f"fixed sampling options: {fixed}; lexicon of {report.words} words; largest mel difference from PyTorch "
        f"{report.mel_difference:.1e}"
    )
    if "vocoder.onnx" not in report.files:
        print("no --vocoder was given: sherpa-onnx needs vocoder.onnx; tts-gen synth --onnx uses Griffin-Lim")


# ----------------------------------------------------------------------------------------------- vocoder import


def vocoder_import(args: argparse.Namespace) -> None:
    """``tts-gen vocoder import``: a public HiFi-GAN generator checkpoint as a tts_gen vocoder run."""
    from tts_gen.vocoders.imports import import_hifigan

    run = import_hifigan(args.generator, args.config, args.out, force=args.force)
    print(f"wrote the vocoder run {run}: use it with --vocoder {run}")


# ----------------------------------------------------------------------------------------------- serve


def serve(args: argparse.Namespace) -> None:
    """``tts-gen serve``: the HTTP server (FastAPI + uvicorn)."""
    require(("fastapi", "uvicorn"), "serve", "tts-gen serve")
    from tts_gen.serve.app import ServerConfig, run_server

    run_server(
        ServerConfig(
            checkpoints=args.checkpoint,
            vocoder=args.vocoder,
            device=args.device,
            host=args.host,
            port=args.port,
            concurrency=args.concurrency,
            queue=args.queue,
            max_chars=args.max_chars,
            max_body_bytes=args.max_body_bytes,
            lexicon=args.lexicon,
        )
    )


# ----------------------------------------------------------------------------------------------- parsers


def add_commands(
    commands: argparse._SubParsersAction,
    add_option_arguments: Callable[[argparse.ArgumentParser], None],
    options_of: Callable[[argparse.Namespace], dict[str, Any]],
) -> None:
    """Registers ``serve``, ``export`` and ``vocoder import``; ``add_option_arguments`` / ``options_of`` are the
    command line's ``--option NAME=VALUE`` helpers."""
    from tts_gen.serve.limits import DEFAULT_LIMITS

    serve_parser = commands.add_parser("serve", help="serve voices over HTTP (OpenAI-compatible speech endpoint)")
    serve_parser.add_argument(
        "--checkpoint",
        action="append",
        required=True,
        metavar="RUN",
        help="acoustic run folder, checkpoint or release (repeat to serve several voices; the folder name is "
        "the voice's name, or NAME=PATH)",
    )
    serve_parser.add_argument("--vocoder", help="griffin-lim or a vocoder run/checkpoint/release for every voice")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve_parser.add_argument("--port", type=int, default=5002, help="port (default: 5002)")
    serve_parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    serve_parser.add_argument(
        "--concurrency", type=int, default=DEFAULT_LIMITS.concurrency, help="requests synthesized at the same time"
    )
    serve_parser.add_argument(
        "--queue", type=int, default=DEFAULT_LIMITS.queue, help="requests that may wait; more get 503"
    )
    serve_parser.add_argument(
        "--max-chars", type=int, default=DEFAULT_LIMITS.max_chars, help="longest text of a request, in characters"
    )
    serve_parser.add_argument(
        "--max-body-bytes", type=int, default=DEFAULT_LIMITS.max_body_bytes, help="largest request body, in bytes"
    )
    serve_parser.add_argument("--lexicon", metavar="FILE", help="pronunciations over gruut's, for every voice")
    serve_parser.set_defaults(handler=serve)

    export_parser = commands.add_parser("export", help="export a voice to ONNX (sherpa-onnx layout) or safetensors")
    export_parser.add_argument("--checkpoint", required=True, help="acoustic run folder, checkpoint or release")
    export_parser.add_argument("--vocoder", help="HiFi-GAN run folder, checkpoint or release to export with it")
    export_parser.add_argument("--out", required=True, help="export folder")
    export_parser.add_argument("--format", default="onnx", choices=["onnx", "safetensors"])
    export_parser.add_argument(
        "--words",
        action="append",
        default=[],
        metavar="TEXT_FILE",
        help="text whose words lexicon.txt must cover (repeatable; onnx)",
    )
    export_parser.add_argument(
        "--no-gruut-words", action="store_true", help="leave gruut's English lexicon out of lexicon.txt (onnx)"
    )
    export_parser.add_argument("--lexicon", metavar="FILE", help="pronunciations over gruut's (onnx)")
    add_option_arguments(export_parser)
    export_parser.set_defaults(handler=export, options_of=options_of)

    vocoder_parser = commands.add_parser("vocoder", help="vocoder tools")
    vocoder_commands = vocoder_parser.add_subparsers(dest="vocoder_command", required=True, metavar="<vocoder command>")
    importer = vocoder_commands.add_parser(
        "import", help="turn a public HiFi-GAN generator checkpoint (config.json + generator) into a vocoder run"
    )
    importer.add_argument("generator", help="the generator checkpoint (a dict with a 'generator' state dict)")
    importer.add_argument("--config", required=True, help="its config.json (V1, V2 or V3 of the HiFi-GAN repository)")
    importer.add_argument("--out", required=True, help="vocoder run folder to write")
    importer.add_argument("--force", action="store_true", help="replace a run folder that exists")
    importer.set_defaults(handler=vocoder_import)
