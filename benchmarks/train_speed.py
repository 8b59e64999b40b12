"""Training speed of every decoder family, in both protocols: seconds per step and mel frames per second.

* ``joint``: encoder, alignment search and decoder train together (the step of the papers);
* ``shared``: the decoder alone on a frozen spine with stored durations (no alignment search, no encoder
  gradients), the step of the controlled comparison.

Every family gets the same batches (length-bucketed, batch 16 by default) of a prepared data folder, after two
warm-up steps; the two protocols take turns step by step, so that a change of the machine's load slows both
alike. Without ``--data``, batches are random tokens and mels of LJSpeech-like lengths (60-160 tokens, 5.5
frames per token) with durations that share each utterance's frames among its tokens, which is enough for speed
and needs no corpus. Run by hand, on a quiet machine (the load average is printed):

    .venv/bin/python benchmarks/train_speed.py [--data data/ljflite/prepared-1400] [--configs egs/demo] [--steps 5]
    python benchmarks/train_speed.py --configs egs/ljspeech --batch-size 32 --device cuda   # bf16 on a GPU
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from timing import load_average

from tts_gen.acoustic_run import acoustic_spec, griffin_lim_sample
from tts_gen.data import LengthBucketSampler, TTSBatch, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runtime import synchronize
from tts_gen.text import Tokenizer
from tts_gen.train.distributed import DistributedContext
from tts_gen.train.trainer import TrainData, Trainer

PROTOCOLS = ("joint", "shared")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="prepared data folder (default: random LJSpeech-like batches)")
    parser.add_argument("--configs", default="egs/demo")
    parser.add_argument("--families", default=",".join(sorted(DECODERS)))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=["bf16", "fp16", "fp32"], default="bf16", help="autocast on CUDA")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    where = (
        torch.cuda.get_device_name(device) + f", {args.precision}"
        if device.type == "cuda"
        else f"{args.threads} threads"
    )
    print(f"{args.configs}, batch {args.batch_size}, {where}, median of {args.steps} steps; load {load_average()}")
    print(f"{'family':14s} {'joint s/step':>12s} {'shared s/step':>13s} {'speed-up':>8s} {'frames/s (shared)':>18s}")
    for family in args.families.split(","):
        config = load_experiment(
            Path(args.configs) / f"{family}.yaml",
            [f"train.batch_size={args.batch_size}", f"train.precision={args.precision}"],
        )
        batches, data, models = family_setup(config, args)
        if not any(p.requires_grad for p in models["shared"].parameters()):
            print(f"{family:14s} (no decoder parameters: nothing to train on a frozen spine)")
            continue
        trainers = {
            protocol: Trainer(model, config.train, data, "/nonexistent-run", {}, griffin_lim_sample(config.audio),
                              DistributedContext(device=device))
            for protocol, model in models.items()
        }  # fmt: skip
        times = {protocol: [] for protocol in PROTOCOLS}
        frames = 0
        for index, batch in enumerate(batches):
            batch = batch.to(device)
            for protocol in PROTOCOLS:
                synchronize(device)
                started = time.perf_counter()
                trainers[protocol].train_step(batch)
                synchronize(device)
                if index >= 2:
                    times[protocol].append(time.perf_counter() - started)
            if index >= 2:
                frames += int(batch.y_lengths.sum())
        joint, shared = (statistics.median(times[p]) for p in PROTOCOLS)
        memory = f"  peak {torch.cuda.max_memory_allocated(device) / 2**30:5.2f} GiB" if device.type == "cuda" else ""
        rate = frames / sum(times["shared"])
        print(f"{family:14s} {joint:12.3f} {shared:13.3f} {joint / shared:7.2f}x {rate:18.0f}{memory}")
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
    print(f"load afterwards {load_average()}")


def family_setup(config, args) -> tuple[list[TTSBatch], TrainData, dict]:
    """The batches (with durations) and one model per protocol (the shared one frozen: decoder-only steps)."""
    tokenizer = Tokenizer(config.text)
    if args.data:
        data = acoustic_spec(config, Path(args.data)).data
        order = LengthBucketSampler(data.train_lengths, args.batch_size, seed=0).all_batches(0)[: args.steps + 2]
        batches = [with_durations(collate_tts([data.train[i] for i in indices])) for indices in order]
    else:
        data = TrainData([], [], collate_tts, [1], [1])
        batches = [
            random_batch(args.batch_size, tokenizer.num_symbols, config.audio.n_mels, seed)
            for seed in range(args.steps + 2)
        ]
    models = {}
    for protocol in PROTOCOLS:
        torch.manual_seed(0)
        models[protocol] = build_tts_model(config, tokenizer.num_symbols)
        if protocol == "shared":
            models[protocol].freeze_encoder()
    return batches, data, models


def even_durations(x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> torch.Tensor:
    """(B, T_text) durations that share each utterance's frames among its tokens (stored durations stand-in)."""
    durations = torch.zeros(len(x_lengths), int(x_lengths.max()), dtype=torch.long)
    for row, (tokens, frames) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        durations[row, :tokens] = frames // tokens
        durations[row, : frames % tokens] += 1
    return durations


def with_durations(batch: TTSBatch) -> TTSBatch:
    batch.durations = even_durations(batch.x_lengths, batch.y_lengths)
    return batch


def random_batch(size: int, num_symbols: int, n_mels: int, seed: int) -> TTSBatch:
    """Random tokens and log-mels of LJSpeech-like lengths: 60-160 tokens, 5.5 frames per token."""
    generator = torch.Generator().manual_seed(seed)
    x_lengths = torch.randint(60, 161, (size,), generator=generator)
    y_lengths = (x_lengths * 5.5).round().long()
    x = torch.randint(1, num_symbols, (size, int(x_lengths.max())), generator=generator)
    x = x * (torch.arange(x.shape[1]) < x_lengths[:, None])
    y = torch.randn(size, n_mels, int(y_lengths.max()), generator=generator) - 5.0
    y = y * (torch.arange(y.shape[2]) < y_lengths[:, None, None])
    return with_durations(TTSBatch([str(i) for i in range(size)], x, x_lengths, y, y_lengths))


if __name__ == "__main__":
    main()
