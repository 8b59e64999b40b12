"""PocketSphinx's search settings against speed and word error rate: the recordings of a prepared split and the
synthesized test sentences of evaluations (``--wavs`` folders of ``tts-gen evaluate``, e.g. ``EVAL/wavs/model``),
recognized in one process under each setting. Run by hand, on a quiet machine:

    .venv/bin/python benchmarks/asr_options.py --data data/ljflite/prepared-1400 \\
        --wavs exp/demo-short/ar/eval/wavs/model exp/demo-short/flow_matching/eval/wavs/model [--utts 20]

A setting is worth taking only if it is faster on synthesized speech without moving any word error rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import soundfile as sf

from tts_gen.data.manifest import read_manifest
from tts_gen.evaluate.metrics.asr import decode, decoder_input, score_transcript

SETTINGS = {
    "default": {},
    "fwdflat off": {"fwdflat": False},
    "ds 2": {"ds": 2},
    "maxhmmpf 3000": {"maxhmmpf": 3000},
    "maxhmmpf 2000, maxwpf 8": {"maxhmmpf": 2000, "maxwpf": 8},
    "topn 2": {"topn": 2},
}


def recognize(settings: dict, items: list[tuple[str, str]], texts: dict[str, str]) -> tuple[float, float]:
    """Seconds spent and mean word error rate of (id, wav path) ``items`` under one decoder setting."""
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL", **settings)
    started, wers = time.perf_counter(), []
    for utt_id, path in items:
        wav, rate = sf.read(path, dtype="float32")
        wers.append(score_transcript(texts[utt_id], decode(decoder, decoder_input(wav, rate))).wer)
    return time.perf_counter() - started, statistics.mean(wers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a prepared data folder")
    parser.add_argument("--wavs", nargs="*", default=[], help="folders of synthesized test sentences (<id>.wav)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--utts", type=int, default=20)
    args = parser.parse_args()
    rows = read_manifest(f"{args.data}/{args.split}.jsonl")[: args.utts]
    texts = {row.id: row.text for row in rows}
    sets = {"recordings": [(row.id, row.audio) for row in rows]}
    for folder in args.wavs:
        found = [(row.id, Path(folder) / f"{row.id}.wav") for row in rows]
        sets[folder] = [(utt_id, str(path)) for utt_id, path in found if path.is_file()]
    print(f"{len(rows)} {args.split} sentences per set; load {os.getloadavg()[0]:.2f}")
    print("| setting | " + " | ".join(f"{name}: s, WER" for name in sets) + " |")
    for label, settings in SETTINGS.items():
        cells = [recognize(settings, items, texts) for items in sets.values()]
        print(f"| {label} | " + " | ".join(f"{seconds:.1f}, {wer:.3f}" for seconds, wer in cells) + " |", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
