"""``tts-gen <command>``: the command line of tts_gen.

Every command has ``--help``; bad input ends with a one-line reason on stderr and a non-zero exit status.
Heavy modules are imported inside the handlers so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
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
    from tts_gen.data.prepare import prepare_corpus

    audio = AudioConfig()
    if args.config:
        audio = from_dict(AudioConfig, load_yaml(args.config).get("audio", {}), "audio")
    info = prepare_corpus(args.root, args.out, corpus=args.corpus, audio=audio, num_workers=args.workers)
    counts = ", ".join(f"{split} {n}" for split, n in info.counts.items())
    print(f"prepared {info.corpus} in {args.out}: {counts} utterances; features in features/{info.feature_key}")


# ----------------------------------------------------------------------------------------------- parser


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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tts_gen.errors import USER_ERRORS

    try:
        args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CommandError, *USER_ERRORS) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"tts-gen {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
