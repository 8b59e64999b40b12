"""``tts-gen <command>``: the command line of tts_gen.

Every command has ``--help``; bad input ends with a one-line reason on stderr and a non-zero exit status.
Heavy modules are imported inside the handlers so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


# ----------------------------------------------------------------------------------------------- handlers


def cmd_text(args: argparse.Namespace) -> None:
    from tts_gen.text import TextConfig, describe_text

    print(describe_text(args.text, TextConfig(mode=args.mode)))


def cmd_data_download(args: argparse.Namespace) -> None:
    from tts_gen.data.download import LJSPEECH_URL, download_ljspeech

    corpus = download_ljspeech(args.out, url=args.url or LJSPEECH_URL, sha256=args.sha256)
    print(f"LJSpeech is ready at {corpus}")


def cmd_data_make_ljflite(args: argparse.Namespace) -> None:
    from tts_gen.data.ljflite import make_ljflite

    out = make_ljflite(args.out, max_utts=args.max_utts, num_workers=args.workers)
    print(f"the built-in corpus (LJSpeech transcripts, flite voice slt) is at {out}")


def cmd_data_prepare(args: argparse.Namespace) -> None:
    from tts_gen.audio import AudioConfig
    from tts_gen.config import from_dict, load_yaml
    from tts_gen.data.prepare import DEFAULT_MAX_SECONDS, prepare_corpus

    audio = AudioConfig()
    if args.config:
        audio = from_dict(AudioConfig, load_yaml(args.config).get("audio", {}), "audio")
    info = prepare_corpus(
        args.root,
        args.out,
        corpus=args.corpus,
        audio=audio,
        num_workers=args.workers,
        durations=args.durations,
        skip_bad=args.skip_bad,
        max_seconds=DEFAULT_MAX_SECONDS if args.max_seconds is None else args.max_seconds,
    )
    counts = ", ".join(f"{split} {n}" for split, n in info.counts.items())
    print(f"prepared {info.corpus} in {args.out}: {counts} utterances; features in features/{info.feature_key}")
    if info.skipped:
        print(f"skipped {info.skipped} bad row(s), listed in {Path(args.out) / 'bad_rows.txt'}")


def cmd_train(args: argparse.Namespace) -> None:
    from tts_gen.config import load_yaml

    if "vocoder" in load_yaml(args.config):
        cmd_train_vocoder(args)
        return
    from tts_gen.acoustic_run import train_acoustic

    position = train_acoustic(args.config, args.data, args.out, args.set, device=args.device)
    print(f"training stopped at step {position.step}; checkpoints are in {Path(args.out) / 'checkpoints'}")


def cmd_align(args: argparse.Namespace) -> None:
    from tts_gen.spine import align_prepared

    report = align_prepared(args.checkpoint, args.data, batch_size=args.batch_size, device=args.device)
    counts = ", ".join(f"{split} {n}" for split, n in report.counts.items())
    print(f"stored the durations of {counts} utterances under the spine {report.spine['id']} in {report.path}")


def cmd_train_vocoder(args: argparse.Namespace) -> None:
    from tts_gen.vocoders.run import train_vocoder

    position = train_vocoder(args.config, args.data, args.out, args.set, device=args.device)
    print(f"vocoder training stopped at step {position.step}; checkpoints are in {Path(args.out) / 'checkpoints'}")


@dataclass
class TextItem:
    """One text to speak: its output name (an ``id|text`` line's id, or None), the text, and where it came from."""

    name: str | None
    text: str
    where: str


def _read_texts(args: argparse.Namespace) -> list[TextItem]:
    """One item per line of --text-file or standard input (or the --text); a line ``id|text`` names its output,
    and the id must be a plain file name."""
    from tts_gen.validation import read_text_file, safe_name

    if args.text is not None and args.text != "-":
        return [TextItem(None, args.text, "--text")]
    if args.text_file:
        source, lines = args.text_file, read_text_file(args.text_file, "--text-file").splitlines()
    else:
        source, lines = "standard input", sys.stdin.read().splitlines()
    texts = []
    for number, line in enumerate((line.strip() for line in lines), start=1):
        name, separator, text = line.partition("|")
        if line:
            where = f"{source}:{number}"
            named = safe_name(name.strip(), f"{where}: id") if separator else None
            texts.append(TextItem(named, text.strip() if separator else line, where))
    if not texts:
        raise CommandError("no text given: use --text, --text-file or standard input")
    return texts


def _output_paths(out: str, items: list[TextItem]) -> list[Path]:
    """The file of each item: --out itself for one unnamed text and a .wav --out, else ``--out/<id or number>.wav``;
    two items of the same name are an error."""
    from tts_gen.validation import check_unique

    out_path = Path(out)
    if len(items) == 1 and items[0].name is None and out_path.suffix.lower() == ".wav":
        return [out_path]
    if out_path.suffix.lower() == ".wav":
        raise CommandError(f"{len(items)} utterances need a folder for --out, not the file {out}")
    names = [item.name or f"{i:04d}" for i, item in enumerate(items, start=1)]
    check_unique(((name, item.where) for name, item in zip(names, items)), "output name")
    return [out_path / f"{name}.wav" for name in names]


def _split_pair(text: str, flag: str, example: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.strip() or not value.strip():
        raise CommandError(f"{flag} {text!r} must look like {example}")
    return name.strip(), value.strip()


def _decoder_options(args: argparse.Namespace) -> dict[str, object]:
    """The family's sampling options of a command: ``--option NAME=VALUE`` (text, converted by the family's
    options dataclass) and the shorthands ``--temperature`` and ``--steps``."""
    options: dict[str, object] = dict(
        _split_pair(text, "--option", "NAME=VALUE (e.g. sampler=sde)") for text in args.option
    )
    for name in ("temperature", "steps"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return options


def _add_option_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a sampling option of the decoder family, e.g. sampler=sde or prenet_dropout=true (repeatable)",
    )
    parser.add_argument("--temperature", type=float, help="sampling temperature (flow, VAE, diffusion...)")
    parser.add_argument("--steps", type=int, help="sampling steps (diffusion, flow matching)")


def cmd_synth(args: argparse.Namespace) -> None:
    from tts_gen.app_commands import synth
    from tts_gen.validation import finite_number

    options = _decoder_options(args)
    finite_number(args.length_scale, "--length-scale", minimum=0.0, above_minimum=True)
    items = _read_texts(args)
    paths = None if args.out == "-" else _output_paths(args.out, items)
    synth(args, items, paths, options)


def cmd_vocode(args: argparse.Namespace) -> None:
    import time

    import torch

    from tts_gen.audio import load_wav, mel_spectrogram, save_wav
    from tts_gen.files import load_npy
    from tts_gen.runtime import resolve_device
    from tts_gen.vocoders import load_hifigan

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    vocoder = load_hifigan(args.checkpoint, device)
    vocoder.chunk_frames = args.chunk_frames
    audio = vocoder.audio
    if Path(args.input).suffix.lower() == ".npy":
        mel = torch.from_numpy(load_npy(args.input)).float()
        if mel.dim() != 2 or mel.shape[0] != audio.n_mels:
            raise CommandError(
                f"{args.input} holds shape {tuple(mel.shape)}; expected a log-mel ({audio.n_mels}, frames)"
            )
    else:
        mel = mel_spectrogram(load_wav(args.input, audio.sample_rate), audio)
    started = time.perf_counter()
    wav = vocoder(mel.unsqueeze(0).to(device))[0]
    elapsed = time.perf_counter() - started
    save_wav(args.out, wav, audio.sample_rate)
    seconds = wav.numel() / audio.sample_rate
    print(f"wrote {args.out} ({seconds:.2f} s of audio in {elapsed:.2f} s: {seconds / elapsed:.1f}x real time)")


def cmd_dump_mels(args: argparse.Namespace) -> None:
    from tts_gen.dump import dump_mels

    splits = [split.strip() for split in args.split.split(",") if split.strip()]
    if not splits:
        raise CommandError("--split names no split (e.g. train,val)")
    options = _decoder_options(args)
    report = dump_mels(
        args.checkpoint, args.data, args.out, splits, device=args.device, batch_size=args.batch_size, options=options
    )
    counts = ", ".join(f"{split} {count}" for split, count in report.counts.items())
    print(f"wrote teacher-forced mels to {report.out_dir}: {counts} utterances")


def _parse_sweep(text: str) -> tuple[str, list[str]]:
    name, values = _split_pair(text, "--sweep", "OPTION=V1,V2,... (e.g. steps=2,4,10,50 or sampler=ode,sde)")
    return name, [value.strip() for value in values.split(",") if value.strip()]


def cmd_evaluate(args: argparse.Namespace) -> None:
    from tts_gen.evaluate.pipeline.plan import EvaluationConfig
    from tts_gen.evaluate.pipeline.runner import evaluate
    from tts_gen.evaluate.pipeline.summary import summary_lines

    sweeps = dict(_parse_sweep(text) for text in args.sweep)
    config = EvaluationConfig(
        checkpoint=args.checkpoint,
        data_dir=args.data,
        out_dir=args.out,
        split=args.split,
        vocoder=args.vocoder,
        device=args.device,
        max_utts=args.max_utts,
        sweeps=sweeps,
        sweep_utts=args.sweep_utts,
        seed=args.seed,
        length_scale=args.length_scale,
        diversity_samples=args.diversity_samples,
        robustness_max=args.robustness_max,
        skip=args.skip,
        choose=dict([_parse_sweep(args.choose)]) if args.choose else {},
        choose_utts=args.choose_utts,
        learning_curve=args.learning_curve,
        curve_utts=args.curve_utts,
        transcript_cache=args.transcript_cache or "",
    )
    summary = evaluate(config)
    for line in summary_lines(summary):
        print(line)
    print(
        f"per-utterance scores in {Path(args.out) / 'utterances.jsonl'}, summary in {Path(args.out) / 'summary.json'}"
    )


def cmd_compare(args: argparse.Namespace) -> None:
    from tts_gen.evaluate.report.compare import build_report

    paths = build_report(
        args.inputs,
        args.out,
        audio_sentences=args.audio_sentences,
        title=args.title,
        mixed_spines=args.allow_mixed_spines,
    )
    print(f"wrote {paths.markdown} and {paths.html}")


def _add_evaluation_commands(commands: argparse._SubParsersAction) -> None:
    from tts_gen.evaluate.pipeline.plan import SKIPPABLE

    evaluate = commands.add_parser("evaluate", help="synthesize a split and score it (MCD, F0, ASR, DNSMOS, speed...)")
    evaluate.add_argument("--checkpoint", required=True, help="acoustic model run folder or checkpoint file")
    evaluate.add_argument("--data", required=True, help="prepared data folder")
    evaluate.add_argument("--split", default="test", help="manifest to evaluate (default: test)")
    evaluate.add_argument("--out", required=True, help="evaluation folder; an existing one is resumed")
    evaluate.add_argument("--vocoder", default="griffin-lim", help="griffin-lim or a vocoder run folder/checkpoint")
    evaluate.add_argument("--max-utts", type=int, default=0, help="only the first N utterances (default: all)")
    evaluate.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="OPTION=V1,V2",
        help="one more condition per value of a sampling option, e.g. steps=2,4,10,50 or sampler=ode,sde (repeatable); "
        "an option the family lacks is skipped with a note",
    )
    evaluate.add_argument("--sweep-utts", type=int, default=0, help="sentences per sweep condition (0: all)")
    evaluate.add_argument(
        "--choose", metavar="OPTION=V1,V2", help="choose the option's value on the validation split first, e.g. "
        "temperature=0,0.3,0.667 (of the values within one standard error of the lowest ASR word error rate, the "
        "one of lowest mel L1); the test split uses the choice",
    )  # fmt: skip
    evaluate.add_argument("--choose-utts", type=int, default=20, help="validation sentences for --choose (0: all)")
    evaluate.add_argument(
        "--learning-curve", action="store_true",
        help="also score every kept step checkpoint of the run (word error rate, mel L1) against training time",
    )  # fmt: skip
    evaluate.add_argument("--curve-utts", type=int, default=10, help="test sentences per checkpoint (0: all)")
    evaluate.add_argument(
        "--transcript-cache", metavar="FILE",
        help="ASR transcripts kept by the audio's hash and shared between evaluations (the recipes pass one), so "
        "identical audio such as the recordings is recognized once",
    )  # fmt: skip
    evaluate.add_argument("--diversity-samples", type=int, default=4, help="samples per sentence for diversity")
    evaluate.add_argument("--robustness-max", type=int, default=-1, help="first N robustness sentences (-1: all)")
    evaluate.add_argument("--skip", nargs="*", default=[], choices=SKIPPABLE, help="metric groups not to compute")
    evaluate.add_argument("--length-scale", type=float, default=1.0, help="> 1 speaks slower, < 1 faster")
    evaluate.add_argument("--seed", type=int, default=1234, help="seed of the sampling noise")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    evaluate.set_defaults(handler=cmd_evaluate)

    compare = commands.add_parser("compare", help="report comparing evaluations (or training runs) across families")
    compare.add_argument("inputs", nargs="+", metavar="EXP_OR_EVAL_DIR", help="evaluation folders or run folders")
    compare.add_argument("--out", required=True, help="report folder (report.md, report.html, PNG plots)")
    compare.add_argument("--audio-sentences", type=int, default=3, help="sentences with audio players per family")
    compare.add_argument("--title", default="tts_gen: comparison of decoder families", help="report title")
    compare.add_argument(
        "--allow-mixed-spines", action="store_true",
        help="put runs of different spines (or of the joint protocol) in one report, marked as such",
    )  # fmt: skip
    compare.set_defaults(handler=cmd_compare)


def _add_vocoder_commands(commands: argparse._SubParsersAction) -> None:
    vocode = commands.add_parser("vocode", help="copy-synthesis: a recording or a mel through a trained vocoder")
    vocode.add_argument("input", help="a recording (.wav, .flac...) or a raw log-mel .npy (n_mels, frames)")
    vocode.add_argument(
        "--checkpoint", required=True, help="vocoder run folder (its best checkpoint) or checkpoint file"
    )
    vocode.add_argument("--out", required=True, help="output .wav")
    vocode.add_argument("--chunk-frames", type=int, default=0, help="vocode in pieces of N frames (same output)")
    vocode.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    vocode.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    vocode.set_defaults(handler=cmd_vocode)

    dump = commands.add_parser("dump-mels", help="write an acoustic model's teacher-forced mels (vocoder fine-tuning)")
    dump.add_argument("--checkpoint", required=True, help="acoustic model run folder or checkpoint file")
    dump.add_argument("--data", required=True, help="prepared data folder")
    dump.add_argument("--out", required=True, help="folder for <id>.npy mels and dump.json")
    dump.add_argument("--split", default="train,val", help="comma-separated splits (default: train,val)")
    dump.add_argument("--batch-size", type=int, default=16, help="utterances per batch")
    _add_option_arguments(dump)
    dump.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    dump.set_defaults(handler=cmd_dump_mels)


# ----------------------------------------------------------------------------------------------- parser


def _add_synth_application_arguments(synth: argparse.ArgumentParser) -> None:
    """``synth`` options for applications: streaming, standard output, timings, pronunciations, ONNX."""
    from tts_gen.text.sentences import MAX_BATCH_TOKENS, SENTENCE_SILENCE

    synth.add_argument("--onnx", metavar="EXPORT_DIR", help="synthesize with an ONNX export (instead of --checkpoint)")
    synth.add_argument(
        "--stream",
        action="store_true",
        help="write the audio sentence by sentence as it is made (with --out -: to a pipe); one text only",
    )
    synth.add_argument("--raw", action="store_true", help="with --out -: headerless 16-bit PCM instead of WAV")
    synth.add_argument(
        "--alignments",
        metavar="FILE.json",
        help="write the start and end of every sentence, word and phoneme (a folder for several utterances)",
    )
    synth.add_argument("--lexicon", metavar="FILE", help="pronunciations to use over gruut's: lines 'word ph1 ph2 ...'")
    synth.add_argument(
        "--sentence-silence", type=float, default=SENTENCE_SILENCE, help="seconds of silence between sentences"
    )
    synth.add_argument(
        "--max-tokens", type=int, default=MAX_BATCH_TOKENS, help="padded tokens per acoustic batch (bounds the memory)"
    )


def _add_application_commands(commands: argparse._SubParsersAction) -> None:
    """``serve``, ``export`` and ``vocoder import``: a trained voice in applications (defined in
    :mod:`tts_gen.app_commands`, given this module's ``--option`` helpers)."""
    from tts_gen import app_commands

    app_commands.add_commands(commands, _add_option_arguments, _decoder_options)


def _add_data_commands(commands: argparse._SubParsersAction) -> None:
    from tts_gen.data.corpus import CORPORA

    data = commands.add_parser("data", help="download, build and prepare corpora")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="<data command>")

    download = data_commands.add_parser("download", help="download, verify and unpack a corpus")
    download.add_argument("corpus", choices=["ljspeech"])
    download.add_argument("--out", required=True, help="folder for the archive and the unpacked corpus")
    download.add_argument("--url", help="another address of LJSpeech-1.1.tar.bz2 (file:// works)")
    download.add_argument("--sha256", help="expected SHA-256 of the archive")
    download.set_defaults(handler=cmd_data_download)

    flite = data_commands.add_parser("make-ljflite", help="build the built-in corpus (LJSpeech text, flite voice)")
    flite.add_argument("--out", required=True, help="corpus folder to write (LJSpeech layout)")
    flite.add_argument("--max-utts", type=int, help="a seeded subset of this many utterances (default: all)")
    flite.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    flite.set_defaults(handler=cmd_data_make_ljflite)

    prepare = data_commands.add_parser("prepare", help="write manifests and cache log-mel features")
    prepare.add_argument("--corpus", default="ljspeech", choices=CORPORA)
    prepare.add_argument("--root", required=True, help="LJSpeech-layout corpus folder")
    prepare.add_argument("--out", required=True, help="prepared data folder to write")
    prepare.add_argument("--config", help="experiment config whose audio settings to use (default: HiFi-GAN's)")
    prepare.add_argument("--workers", type=int, default=0, help="worker processes (default: one per core)")
    prepare.add_argument("--durations", help="external durations file, lines 'id|d1 d2 ...' (frames per token)")
    prepare.add_argument(
        "--skip-bad", action="store_true", help="leave bad rows out (listed in OUT/bad_rows.txt) instead of failing"
    )
    prepare.add_argument(
        "--max-seconds", type=float, help="longest recording accepted, in seconds (default: 20; 0 = no limit)"
    )
    prepare.set_defaults(handler=cmd_data_prepare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tts-gen",
        description="tts_gen: train TTS models whose mel decoder families are interchangeable, and compare them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    text = commands.add_parser("text", help="print the normalized text, phonemes and token ids of a text")
    text.add_argument("text")
    text.add_argument("--mode", default="phonemes", choices=["phonemes", "characters"])
    text.set_defaults(handler=cmd_text)

    _add_data_commands(commands)

    for name, help_text in (
        ("train", "train an acoustic model (or a vocoder, given a vocoder config)"),
        ("train-vocoder", "train a vocoder"),
    ):
        train = commands.add_parser(name, help=help_text)
        train.add_argument("config", help="experiment config (egs/<corpus>/<name>.yaml)")
        train.add_argument("--data", required=True, help="prepared data folder")
        train.add_argument("--out", required=True, help="run folder; an existing run is resumed")
        train.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
        train.add_argument("--device", default="auto", help="auto, cpu or cuda")
        train.set_defaults(handler=cmd_train if name == "train" else cmd_train_vocoder)

    align = commands.add_parser(
        "align", help="store the alignment durations of a prepared folder under a trained spine (shared protocol)"
    )
    align.add_argument("--checkpoint", required=True, help="the spine: an acoustic run folder (e.g. exp/prior) or file")
    align.add_argument("--data", required=True, help="prepared data folder")
    align.add_argument("--batch-size", type=int, default=16, help="utterances per batch")
    align.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    align.set_defaults(handler=cmd_align)

    synth = commands.add_parser("synth", help="synthesize speech from text")
    synth.add_argument("--checkpoint", help="run folder (its best checkpoint), checkpoint file or release folder")
    synth.add_argument("--text", help="text to speak ('-' or nothing reads standard input)")
    synth.add_argument("--text-file", help="file with one utterance per line ('id|text' lines write id.wav)")
    synth.add_argument(
        "--out", required=True, help="output .wav, a folder for several utterances, or - for standard output"
    )
    synth.add_argument(
        "--vocoder",
        help="griffin-lim or a vocoder run folder/checkpoint/release (default: the release's or export's own "
        "vocoder, else griffin-lim)",
    )
    _add_option_arguments(synth)
    synth.add_argument("--length-scale", type=float, default=1.0, help="> 1 speaks slower, < 1 faster")
    synth.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    synth.add_argument("--seed", type=int, default=0, help="seed of the sampling noise")
    _add_synth_application_arguments(synth)
    synth.set_defaults(handler=cmd_synth)
    _add_vocoder_commands(commands)
    _add_evaluation_commands(commands)
    _add_application_commands(commands)
    return parser


def _one_line_warning(command: str):
    """Prints a warning as one line, ``tts-gen <command>: warning: <message>``."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"tts-gen {command}: warning: {message}", file=file or sys.stderr)

    return show


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tts_gen.errors import USER_ERRORS, Terminated

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(args.command)
            args.handler(args)
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, Terminated)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return 143 if terminated else 130
    except (CommandError, *USER_ERRORS) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"tts-gen {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
