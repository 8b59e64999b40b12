"""Training speed of every decoder family at one config size: seconds per step and mel frames per second.

Every family gets the same batches (length-bucketed, batch 16 by default) of a prepared data folder, after two
warm-up steps. Run by hand:

    .venv/bin/python benchmarks/train_speed.py --data data/demo/prepared [--configs egs/demo] [--steps 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from tts_gen.data import LengthBucketSampler, collate_tts
from tts_gen.experiment import acoustic_datasets, build_tts_model, griffin_lim_sample, load_experiment
from tts_gen.registry import DECODERS
from tts_gen.text import Tokenizer
from tts_gen.train.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--configs", default="egs/demo")
    parser.add_argument("--families", default=",".join(sorted(DECODERS)))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.configs}, batch {args.batch_size}, {args.threads} threads, median of {args.steps} steps")
    for family in args.families.split(","):
        config = load_experiment(Path(args.configs) / f"{family}.yaml", [f"train.batch_size={args.batch_size}"])
        tokenizer = Tokenizer(config.text)
        data, stats, _ = acoustic_datasets(config, Path(args.data), tokenizer)
        torch.manual_seed(0)
        model = build_tts_model(config, tokenizer.num_symbols, stats)
        trainer = Trainer(model, config.train, data, "/nonexistent-run", {}, griffin_lim_sample(config.audio))
        batches = LengthBucketSampler(data.train_lengths, args.batch_size, seed=0).all_batches(0)[: args.steps + 2]
        times, frames = [], 0
        for index, indices in enumerate(batches):
            batch = collate_tts([data.train[i] for i in indices])
            started = time.perf_counter()
            trainer.train_step(batch)
            if index >= 2:
                times.append(time.perf_counter() - started)
                frames += int(batch.y_lengths.sum())
        median = statistics.median(times)
        parameters = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"{family:14s} {median:6.2f} s/step  {frames / sum(times):8.0f} frames/s  {parameters:5.2f} M parameters")


if __name__ == "__main__":
    main()
