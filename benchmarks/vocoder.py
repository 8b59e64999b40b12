"""Vocoder speed: real-time factor of the HiFi-GAN generators V1, V2 and V3 against Griffin-Lim.

The factor is seconds of audio per second of compute (x real time; higher is faster), the median of several
runs after a warm-up, for one utterance (batch 1) of ``--seconds`` of audio. For each version it times the
generator as the reference implementation runs it (weight norm removed, ``(B, C, T)`` convolutions and
transposed convolutions) and tts_gen's inference form (``HiFiGANGenerator.for_inference``), and prints the
largest difference between their outputs. Random weights (the speed does not depend on them) at the sizes
of ``egs/ljspeech/hifigan_v*.yaml``. The malloc settings of the environment are printed: glibc's defaults map
every large activation afresh (and page-fault it) on every call; ``MALLOC_MMAP_THRESHOLD_=1073741824
MALLOC_TRIM_THRESHOLD_=2147483648`` keep freed memory for reuse. Run by hand on a quiet machine (the load average
is printed):

    .venv/bin/python benchmarks/vocoder.py [--threads 2] [--seconds 6] [--runs 7] [--compile] [--chunk-frames 0]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from timing import load_average

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.runtime import synchronize
from tts_gen.vocoders.config import load_vocoder_experiment
from tts_gen.vocoders.hifigan import HiFiGANGenerator

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{model}, {os.cpu_count()} cores{gpu}; torch {torch.__version__}"


def malloc_settings() -> str:
    """glibc's malloc settings taken from the environment, or 'defaults'."""
    names = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES", "LD_PRELOAD")
    return " ".join(f"{name}={os.environ[name]}" for name in names if os.environ.get(name)) or "defaults"


def time_them(candidates: dict, device: torch.device, runs: int) -> dict[str, list[float]]:
    """Seconds of each of ``runs`` calls of every candidate, after one warm-up call each. The candidates take
    turns, so that a burst of load from other programs slows them alike."""

    seconds = {name: [] for name in candidates}
    with torch.inference_mode():
        for run in candidates.values():
            run()
        synchronize(device)
        for _ in range(runs):
            for name, run in candidates.items():
                started = time.perf_counter()
                run()
                synchronize(device)
                seconds[name].append(time.perf_counter() - started)
    return seconds


def report(name: str, audio_seconds: float, seconds: list[float], note: str = "") -> float:
    """Prints and returns the median factor (x real time), with the slowest and the fastest run."""
    factor = audio_seconds / statistics.median(seconds)
    spread = f"{audio_seconds / max(seconds):.2f}-{audio_seconds / min(seconds):.2f}"
    print(f"  {name:<38} {factor:8.2f}x real time   (runs {spread}){note}", flush=True)
    return factor


def compiled(generator: torch.nn.Module, mel: torch.Tensor):
    """torch.compile of the inference form, or None (with the reason) if it fails here."""
    try:
        model = torch.compile(generator, dynamic=True)
        started = time.perf_counter()
        with torch.inference_mode():
            model(mel)
        print(f"  (torch.compile took {time.perf_counter() - started:.0f} s before its first output)")
        return model
    except Exception as error:  # compilation can fail in many ways (no compiler, unsupported op)  # noqa: BLE001
        print(
            f"  torch.compile is not available here ({type(error).__name__}: {str(error)[:120]}); eager figures stand"
        )
        return None


def bench_version(version: int, device: torch.device, args: argparse.Namespace) -> None:
    config = load_vocoder_experiment(ROOT / "egs" / "ljspeech" / f"hifigan_v{version}.yaml")
    audio = config.audio
    torch.manual_seed(0)
    generator = HiFiGANGenerator(config.vocoder.generator, audio.n_mels).eval()
    frames = round(args.seconds * audio.sample_rate / audio.hop_length)
    mel = torch.randn(1, audio.n_mels, frames, device=device) - 5.0
    audio_seconds = frames * audio.hop_length / audio.sample_rate
    reference = copy.deepcopy(generator).remove_weight_norm().to(device)
    fast = copy.deepcopy(generator).for_inference().to(device)
    with torch.inference_mode():
        expected = reference(mel)
        difference = float((fast(mel) - expected).abs().max())
    print(f"HiFi-GAN V{version} ({sum(p.numel() for p in reference.parameters()) / 1e6:.2f} M parameters), {device}:")
    candidates = {"reference form (weight norm removed)": lambda: reference(mel), "inference form": lambda: fast(mel)}
    notes = {"inference form": f"   max |diff| {difference:.1e}"}
    if args.chunk_frames:
        with torch.inference_mode():
            chunk_difference = float((fast.vocode_chunked(mel, args.chunk_frames) - expected).abs().max())
        name = f"inference form, chunks of {args.chunk_frames}"
        candidates[name] = lambda: fast.vocode_chunked(mel, args.chunk_frames)
        notes[name] = f"   max |diff| {chunk_difference:.1e}"
    if args.compile:
        model = compiled(fast, mel)
        if model is not None:
            candidates["inference form + torch.compile"] = lambda: model(mel)
    factors = {
        name: report(name, audio_seconds, seconds, notes.get(name, ""))
        for name, seconds in time_them(candidates, device, args.runs).items()
    }
    print(
        "  speed-up of the inference form"
        f" {factors['inference form'] / factors['reference form (weight norm removed)']:.2f}x"
    )


def bench_griffin_lim(device: torch.device, args: argparse.Namespace) -> None:
    audio = AudioConfig()
    frames = round(args.seconds * audio.sample_rate / audio.hop_length)
    mel = torch.randn(1, audio.n_mels, frames, device=device) - 5.0
    print(f"Griffin-Lim, 32 iterations, {device}:")
    seconds = time_them({"griffin_lim": lambda: griffin_lim(mel, audio, n_iter=32)}, device, args.runs)
    report("griffin_lim", frames * audio.hop_length / audio.sample_rate, seconds["griffin_lim"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--seconds", type=float, default=6.0, help="audio per utterance")
    parser.add_argument("--runs", type=int, default=7, help="timed runs (the median is reported)")
    parser.add_argument("--versions", default="1,2,3", help="HiFi-GAN versions")
    parser.add_argument("--devices", default="cpu,cuda", help="devices to time (cuda only when available)")
    parser.add_argument("--chunk-frames", type=int, default=0, help="also time chunked synthesis")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile on a CPU)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"machine: {machine()}; {args.threads} CPU threads; malloc: {malloc_settings()}; load average {load_average()}"
    )
    devices = [torch.device(name) for name in args.devices.split(",") if name != "cuda" or torch.cuda.is_available()]
    for device in devices:
        bench_griffin_lim(device, args)
        for version in (int(v) for v in args.versions.split(",")):
            bench_version(version, device, args)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
