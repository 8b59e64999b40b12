"""Training speed of every decoder family at one config size: seconds per step and mel frames per second.

Every family gets the same batches (length-bucketed, batch 16 by default) of a prepared data folder, after two
warm-up steps. Without ``--data``, batches are random tokens and mels of LJSpeech-like lengths (60-160 tokens,
5.5 frames per token), which is enough for speed and needs no corpus. Run by hand:

    .venv/bin/python benchmarks/train_speed.py --data data/demo/prepared [--configs egs/demo] [--steps 5]
    python benchmarks/train_speed.py --configs egs/ljspeech --batch-size 32 --device cuda   # bf16 on a GPU
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from tts_gen.acoustic_run import acoustic_spec, griffin_lim_sample
from tts_gen.data import LengthBucketSampler, TTSBatch, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runtime import synchronize
from tts_gen.text import Tokenizer
from tts_gen.train.distributed import DistributedContext
from tts_gen.train.trainer import TrainData, Trainer


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
    print(f"{args.configs}, batch {args.batch_size}, {where}, median of {args.steps} steps")
    for family in args.families.split(","):
        config = load_experiment(
            Path(args.configs) / f"{family}.yaml",
            [f"train.batch_size={args.batch_size}", f"train.precision={args.precision}"],
        )
        tokenizer = Tokenizer(config.text)
        torch.manual_seed(0)
        if args.data:
            spec = acoustic_spec(config, Path(args.data))
            data, model = spec.data, spec.build_model()
            order = LengthBucketSampler(data.train_lengths, args.batch_size, seed=0).all_batches(0)[: args.steps + 2]
            batches = [collate_tts([data.train[i] for i in indices]) for indices in order]
        else:
            data, model = TrainData([], [], collate_tts, [1], [1]), build_tts_model(config, tokenizer.num_symbols)
            batches = [
                random_batch(args.batch_size, tokenizer.num_symbols, config.audio.n_mels, seed)
                for seed in range(args.steps + 2)
            ]
        context = DistributedContext(device=device)
        trainer = Trainer(model, config.train, data, "/nonexistent-run", {}, griffin_lim_sample(config.audio), context)
        times, frames = [], 0
        for index, batch in enumerate(batches):
            batch = batch.to(device)
            synchronize(device)
            started = time.perf_counter()
            logged = trainer.train_step(batch)
            synchronize(device)
            if index >= 2:
                times.append(time.perf_counter() - started)
                frames += int(batch.y_lengths.sum())
        median = statistics.median(times)
        parameters = sum(p.numel() for p in model.parameters()) / 1e6
        memory = f"  peak {torch.cuda.max_memory_allocated(device) / 2**30:5.2f} GiB" if device.type == "cuda" else ""
        print(
            f"{family:14s} {median:6.3f} s/step  {frames / sum(times):8.0f} frames/s  {parameters:6.2f} M parameters"
            f"  last loss {logged['loss']:.3f}{memory}",
            flush=True,
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)


def random_batch(size: int, num_symbols: int, n_mels: int, seed: int) -> TTSBatch:
    """Random tokens and log-mels of LJSpeech-like lengths: 60-160 tokens, 5.5 frames per token."""
    generator = torch.Generator().manual_seed(seed)
    x_lengths = torch.randint(60, 161, (size,), generator=generator)
    y_lengths = (x_lengths * 5.5).round().long()
    x = torch.randint(1, num_symbols, (size, int(x_lengths.max())), generator=generator)
    x = x * (torch.arange(x.shape[1]) < x_lengths[:, None])
    y = torch.randn(size, n_mels, int(y_lengths.max()), generator=generator) - 5.0
    y = y * (torch.arange(y.shape[2]) < y_lengths[:, None, None])
    return TTSBatch([str(i) for i in range(size)], x, x_lengths, y, y_lengths)


if __name__ == "__main__":
    main()
