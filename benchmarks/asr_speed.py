"""Speech recognition speed of the evaluation: the recordings of a prepared split recognized by PocketSphinx in one
process and in one process per core (``Recognizer.transcribe_many``), checking that the transcripts are the same.
Run by hand, on a quiet machine:

    .venv/bin/python benchmarks/asr_speed.py --data data/ljflite/prepared-1400 [--utts 53] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time

import soundfile as sf

from tts_gen.data.manifest import read_manifest
from tts_gen.evaluate.metrics.asr import Recognizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a prepared data folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--utts", type=int, default=53)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    rows = read_manifest(f"{args.data}/{args.split}.jsonl")[: args.utts]
    audio = [sf.read(row.audio, dtype="float32") for row in rows]
    seconds = sum(len(wav) / rate for wav, rate in audio)
    print(f"{len(rows)} {args.split} utterances, {seconds:.0f} s of audio; load {os.getloadavg()[0]:.2f}")
    transcripts, elapsed = {}, {}
    for workers in (1, args.workers):
        started = time.perf_counter()
        transcripts[workers] = Recognizer().transcribe_many([wav for wav, _ in audio], audio[0][1], workers=workers)
        elapsed[workers] = time.perf_counter() - started
        print(f"{workers} process(es): {elapsed[workers]:.1f} s, {elapsed[workers] / len(rows):.2f} s per utterance")
    print(f"{args.workers} processes: {elapsed[1] / elapsed[args.workers]:.2f}x faster")
    print(f"same transcripts: {transcripts[1] == transcripts[args.workers]}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
