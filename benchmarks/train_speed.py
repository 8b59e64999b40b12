r"""Training speed of every decoder family, in both protocols: seconds per step and mel frames per second.

* ``joint``: encoder, alignment search and decoder train together (the step of the papers);
* ``shared``: the decoder alone on a frozen spine with stored durations (no alignment search, no encoder
  gradients), the step of the controlled comparison.

Every family gets the same batches (length-bucketed, batch 16 by default) of a prepared data folder, after two
warm-up steps; the two protocols take turns step by step, so that a change of the machine's load slows both
alike. Without ``--data``, batches are random tokens and mels of LJSpeech-like lengths (60-160 tokens, 5.5
frames per token) with durations that share each utterance's frames among its tokens, which is enough for speed
and needs no corpus. Run by hand, on a quiet machine (the load average is printed):

    .venv/bin/python benchmarks/train_speed.py [--data data/ljflite/prepared-1400] [--configs egs/demo] [--steps 5]
        [--set model.decoder.segment_frames=0]   # config overrides, e.g. whole utterances in every decoder's loss
    python benchmarks/train_speed.py --configs egs/ljspeech --batch-size 32 --device cuda   # bf16 on a GPU

``--peer matcha`` times Matcha-TTS's own training step (its published LJSpeech model, see ``matcha_peer.py``)
against tts_gen's flow-matching family at its ``egs/ljspeech`` size (joint and shared steps), all three taking
turns on the same random batches (batch 32, 80-180 tokens, 400-870 frames by default):

    .venv/bin/python benchmarks/train_speed.py --peer matcha --steps 10                     # CPU, batch 32
    python benchmarks/train_speed.py --peer matcha --device cuda --steps 20 --precision bf16 [--compile] \
        [--matcha-precision fp16]   # tts_gen's bf16 autocast; Matcha-TTS in its published 16-mixed by default

It needs Matcha-TTS in the environment, installed by these two commands, in this order (a C compiler is needed):

    .venv/bin/pip install -e ".[peers]"
    .venv/bin/pip install --no-deps --no-build-isolation --no-cache-dir matcha-tts==0.0.7.2

The first installs the modules that importing and training ``MatchaTTS`` needs and leaves torch as it is. The
second installs Matcha-TTS without its own requirements (they pull torchvision, gradio 3, jupyter and 130 packages
and would downgrade numpy to 1.26) and builds its Cython alignment search against the environment's numpy: in
pip's default isolated build it is compiled against numpy 1.24 and fails to import under numpy 2 ("numpy.dtype
size changed"); ``--no-cache-dir`` keeps pip from reusing such a build from its cache.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from timing import load_average

import tts_gen.models.alignment
import tts_gen.models.tts
from tts_gen.acoustic_run import acoustic_spec, griffin_lim_sample
from tts_gen.data import LengthBucketSampler, TTSBatch, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runtime import synchronize
from tts_gen.text import Tokenizer
from tts_gen.train.distributed import DistributedContext
from tts_gen.train.trainer import TrainData, Trainer

PROTOCOLS = ("joint", "shared")
PEER_INSTALL = (
    '.venv/bin/pip install Cython "lightning>=2.0" hydra-core==1.3.2 omegaconf conformer==0.3.2 diffusers einops rich '
    'gdown wget "setuptools>=61" && .venv/bin/pip install --no-deps --no-build-isolation --no-cache-dir '
    "matcha-tts==0.0.7.2"
)
# defaults that differ between the family table and --peer matcha (LJSpeech-like batches of Matcha-TTS's recipe)
FAMILY_DEFAULTS = {"configs": "egs/demo", "batch_size": 16, "tokens": [60, 160], "frames": [330, 880]}
PEER_DEFAULTS = {"configs": "egs/ljspeech", "batch_size": 32, "tokens": [80, 180], "frames": [400, 870]}


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.peer:
        peer_main(args)
    else:
        families_main(args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="prepared data folder (default: random LJSpeech-like batches)")
    parser.add_argument("--configs", help="egs folder (default: egs/demo; egs/ljspeech with --peer)")
    parser.add_argument("--families", default=",".join(sorted(DECODERS)))
    parser.add_argument("--batch-size", "--batch", type=int, help="default 16; 32 with --peer")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--tokens", type=int, nargs=2, metavar=("MIN", "MAX"), help="random batches: tokens")
    parser.add_argument("--frames", type=int, nargs=2, metavar=("MIN", "MAX"), help="random batches: mel frames")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", choices=["bf16", "fp16", "fp32"], default="bf16", help="autocast on CUDA")
    parser.add_argument("--compile", action="store_true", help="tts_gen's train.compile (torch.compile)")
    parser.add_argument("--peer", choices=["matcha"], help="time a published system's own training step instead")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides of every family")
    parser.add_argument(
        "--sync-check", action="store_true", help="CUDA: list where one tts_gen step makes the host wait for the GPU"
    )
    parser.add_argument(
        "--matcha-precision", choices=["fp16", "bf16", "fp32"], default="fp16", help="Matcha-TTS on CUDA (its 16-mixed)"
    )
    args = parser.parse_args()
    for key, value in (PEER_DEFAULTS if args.peer else FAMILY_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def families_main(args: argparse.Namespace) -> None:
    """The table of every family: joint and shared steps side by side."""
    device = torch.device(args.device)
    timed = f"median of {args.steps} steps"
    overrides = f", {' '.join(args.set)}" if args.set else ""
    print(f"{args.configs}{overrides}, batch {args.batch_size}, {where(args)}, {timed}; load {load_average()}")
    print(f"{'family':14s} {'joint s/step':>12s} {'shared s/step':>13s} {'speed-up':>8s} {'frames/s (shared)':>18s}")
    for family in args.families.split(","):
        config = family_config(Path(args.configs) / f"{family}.yaml", args)
        tokenizer = Tokenizer(config.text)
        batches, data = family_batches(config, tokenizer, args)
        models = protocol_models(config, tokenizer)
        if not any(p.requires_grad for p in models["shared"].parameters()):
            print(f"{family:14s} (no decoder parameters: nothing to train on a frozen spine)")
            continue
        trainers = {protocol: make_trainer(model, config, data, device) for protocol, model in models.items()}
        steps = {protocol: trainer_step(trainers[protocol], batches) for protocol in PROTOCOLS}
        warm_up(steps, args.warmup)
        times = alternate(steps, range(args.warmup, len(batches)), device)
        joint, shared = (statistics.median(times[p].seconds) for p in PROTOCOLS)
        frames = sum(int(batch.y_lengths.sum()) for batch in batches[args.warmup :])
        rate = frames / sum(times["shared"].seconds)
        memory = f"  peak {max(t.peak for t in times.values()) / 2**30:5.2f} GiB" if device.type == "cuda" else ""
        print(f"{family:14s} {joint:12.3f} {shared:13.3f} {joint / shared:7.2f}x {rate:18.0f}{memory}")
    print(f"load afterwards {load_average()}")


def where(args: argparse.Namespace) -> str:
    """The device in words: the GPU and tts_gen's precision, or the CPU threads."""
    device = torch.device(args.device)
    if device.type != "cuda":
        return f"{device.type}, {args.threads} threads, fp32"
    return f"{torch.cuda.get_device_name(device)}, {args.precision}" + (", compiled" if args.compile else "")


def family_config(path: Path, args: argparse.Namespace):
    """An experiment config with the benchmark's batch size, precision and compile setting."""
    overrides = [f"train.batch_size={args.batch_size}", f"train.precision={args.precision}", *args.set]
    return load_experiment(path, overrides + (["train.compile=true"] if args.compile else []))


def family_batches(config, tokenizer: Tokenizer, args: argparse.Namespace) -> tuple[list[TTSBatch], TrainData]:
    """The batches (with durations, on the device) of the prepared data or random ones, and the trainer's data."""
    count = batch_count(args)
    if args.data:
        data = acoustic_spec(config, Path(args.data)).data
        order = LengthBucketSampler(data.train_lengths, args.batch_size, seed=0).all_batches(0)[:count]
        batches = [with_durations(collate_tts([data.train[i] for i in indices])) for indices in order]
    else:
        data = no_data()
        batches = [random_batch(args, tokenizer.num_symbols, config.audio.n_mels, seed) for seed in range(count)]
    return [batch.to(args.device) for batch in batches], data


def no_data() -> TrainData:
    """Empty datasets: the trainer is only asked for ``train_step``."""
    return TrainData([], [], collate_tts, [1], [1])


def protocol_models(config, tokenizer: Tokenizer) -> dict:
    """One model per protocol, with the same initial weights; the shared one frozen (decoder-only steps)."""
    models = {}
    for protocol in PROTOCOLS:
        torch.manual_seed(0)
        models[protocol] = build_tts_model(config, tokenizer.num_symbols)
        if protocol == "shared":
            models[protocol].freeze_encoder()
    return models


def make_trainer(model, config, data: TrainData, device: torch.device) -> Trainer:
    """tts_gen's trainer, only used for its ``train_step`` (no run folder is written)."""
    return Trainer(model, config.train, data, "/nonexistent-run", {}, griffin_lim_sample(config.audio),
                   DistributedContext(device=device))  # fmt: skip


def trainer_step(trainer: Trainer, batches: list) -> Callable[[int], object]:
    """The trainer's step on batch ``index``."""
    return lambda index: trainer.train_step(batches[index])


class Times:
    """Seconds of each timed step of one system; on CUDA its peak memory (max_memory_allocated during its steps)
    and that peak above what was allocated when the step began (its activations and temporaries)."""

    def __init__(self):
        self.seconds: list[float] = []
        self.peak = 0
        self.step_peak = 0


def warm_up(steps: dict[str, Callable[[int], object]], rounds: int) -> None:
    """Untimed steps of every system on the first ``rounds`` batches."""
    for index in range(rounds):
        for step in steps.values():
            step(index)


def alternate(steps: dict[str, Callable[[int], object]], indices, device: torch.device) -> dict[str, Times]:
    """Runs every system's step on each batch of ``indices`` in turn, so that a change of the machine's load
    slows all of them alike; the device is synchronized around each step."""
    times = {name: Times() for name in steps}
    for index in indices:
        for name, step in steps.items():
            synchronize(device)
            if device.type == "cuda":
                before = torch.cuda.memory_allocated(device)
                torch.cuda.reset_peak_memory_stats(device)
            started = time.perf_counter()
            step(index)
            synchronize(device)
            times[name].seconds.append(time.perf_counter() - started)
            if device.type == "cuda":
                peak = torch.cuda.max_memory_allocated(device)
                times[name].peak = max(times[name].peak, peak)
                times[name].step_peak = max(times[name].step_peak, peak - before)
    return times


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


def random_batch(args: argparse.Namespace, num_symbols: int, n_mels: int, seed: int) -> TTSBatch:
    """Random tokens and log-mels: tokens uniform in ``args.tokens``, frames at the same point of ``args.frames``
    (never fewer than the tokens); by default 60-160 tokens and 5.5 frames per token."""
    generator = torch.Generator().manual_seed(seed)
    (low, high), (frames_low, frames_high) = args.tokens, args.frames
    x_lengths = torch.randint(low, high + 1, (args.batch_size,), generator=generator)
    y_lengths = frames_low + (x_lengths - low) * (frames_high - frames_low) / max(high - low, 1)
    y_lengths = torch.maximum(y_lengths.round().long(), x_lengths)
    x = torch.randint(1, num_symbols, (args.batch_size, int(x_lengths.max())), generator=generator)
    x = x * (torch.arange(x.shape[1]) < x_lengths[:, None])
    y = torch.randn(args.batch_size, n_mels, int(y_lengths.max()), generator=generator) - 5.0
    y = y * (torch.arange(y.shape[2]) < y_lengths[:, None, None])
    return with_durations(TTSBatch([str(i) for i in range(args.batch_size)], x, x_lengths, y, y_lengths))


# ---------------------------------------------------------------------------------------------- --peer matcha


class CallTimer:
    """Replaces ``module.name`` (in the benchmark process only) by a wrapper that times its calls: on CUDA by events
    queued with the device's work (the device's time from the call to its return, without making the host wait),
    elsewhere by the clock. Under ``torch.compile`` the wrapper runs eagerly (a graph break)."""

    def __init__(self, module, name: str, device: torch.device):
        self.device = device
        self.calls: list[tuple] = []  # (start, end) of each call: CUDA events, or clock readings
        original = getattr(module, name)

        def timed(*args, **kwargs):
            start = self.mark()
            try:
                return original(*args, **kwargs)
            finally:
                self.calls.append((start, self.mark()))

        setattr(module, name, torch.compiler.disable(timed))

    def mark(self):
        if self.device.type != "cuda":
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def total(self) -> float:
        """Seconds of the calls so far (on CUDA, once the device has done their work)."""
        if self.device.type != "cuda":
            return sum(end - start for start, end in self.calls)
        return sum(start.elapsed_time(end) for start, end in self.calls) / 1000


def import_peer(name: str):
    """The peer's module (``matcha_peer``), or a one-line message naming the install commands and exit code 2."""
    try:
        return importlib.import_module(f"{name}_peer")
    except (ImportError, ValueError) as error:  # ValueError: its Cython extension built against another numpy
        print(f"--peer {name} needs Matcha-TTS ({error}); install it by: {PEER_INSTALL}", file=sys.stderr)
        raise SystemExit(2) from None


def peer_main(args: argparse.Namespace) -> None:
    """Matcha-TTS's training step against tts_gen's flow-matching family (joint and shared), taking turns."""
    peer = import_peer(args.peer)
    device = torch.device(args.device)
    rss_start = max_rss_mib()
    config = family_config(Path(args.configs) / "flow_matching.yaml", args)
    tokenizer = Tokenizer(config.text)
    symbols = min(tokenizer.num_symbols, peer.LJSPEECH_MODEL["n_vocab"])  # the same token ids fit both
    batches = [random_batch(args, symbols, config.audio.n_mels, seed).to(device) for seed in range(batch_count(args))]
    peer_batches = [peer.matcha_batch(batch) for batch in batches]
    models = protocol_models(config, tokenizer)
    trainers = {protocol: make_trainer(model, config, no_data(), device) for protocol, model in models.items()}
    torch.manual_seed(0)
    peer_model = peer.build_model()
    peer_step = peer.MatchaStep(peer_model, device, args.matcha_precision)
    steps = {f"tts_gen {p}": trainer_step(trainers[p], batches) for p in PROTOCOLS}
    steps["Matcha-TTS"] = lambda index: peer_step(peer_batches[index])
    timers = {}
    if not args.compile:  # wrapping it would keep the log-likelihood out of the compiled graph
        timers["tts_gen log-likelihood + search"] = CallTimer(tts_gen.models.tts, "align", device)
    timers["tts_gen search"] = CallTimer(tts_gen.models.alignment, "search_durations", device)
    timers["Matcha-TTS search"] = CallTimer(peer.SEARCH_MODULE, peer.SEARCH_FUNCTION, device)
    rss_built = max_rss_mib()
    print(peer_header(args, peer, config))
    warm_up(steps, args.warmup)
    if args.sync_check and device.type == "cuda":
        print_host_waits({name: step for name, step in steps.items() if name.startswith("tts_gen")}, args.warmup - 1)
    for timer in timers.values():
        timer.calls.clear()
    times = alternate(steps, range(args.warmup, len(batches)), device)
    audio = sum(int(b.y_lengths.sum()) for b in batches[args.warmup :]) * config.audio.hop_length
    audio /= config.audio.sample_rate
    parameters = {"tts_gen joint": models["joint"], "tts_gen shared": models["shared"], "Matcha-TTS": peer_model}
    print_peer_table(times, parameters, audio, device)
    print_shares(times, timers)
    print_memory(times, device, rss_start, rss_built)
    print(f"load afterwards {load_average()}")


def host_waits(step: Callable[[int], object], index: int) -> list[str]:
    """Where one step makes the host wait for the GPU: the ``file:line`` of each synchronizing call, caught by
    torch's CUDA sync debug mode."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            step(index)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return [f"{Path(w.filename).name}:{w.lineno}" for w in caught if "synchroniz" in str(w.message)]


def print_host_waits(steps: dict[str, Callable[[int], object]], index: int) -> None:
    for name, step in steps.items():
        waits = host_waits(step, index)
        places = f": {', '.join(sorted(set(waits)))}" if waits else ""
        print(f"{name}: {len(waits)} host wait(s) in one step{places}")


def batch_count(args: argparse.Namespace) -> int:
    """Warm-up and timed steps: one batch each."""
    return args.warmup + args.steps


def peer_header(args: argparse.Namespace, peer, config) -> str:
    matcha_precision = args.matcha_precision if torch.device(args.device).type == "cuda" else "fp32"
    return (
        f"Matcha-TTS {peer.VERSION} (LJSpeech config, {matcha_precision}) against tts_gen {args.configs}/"
        f"flow_matching.yaml; batch {args.batch_size}, {args.tokens[0]}-{args.tokens[1]} tokens, "
        f"{args.frames[0]}-{args.frames[1]} frames (hop {config.audio.hop_length}, {config.audio.sample_rate} Hz); "
        f"{where(args)}; median of {args.steps} steps after {args.warmup} warm-up, the systems taking turns; "
        f"load {load_average()}"
    )


def print_peer_table(times: dict, models: dict, audio: float, device: torch.device) -> None:
    """Parameters, median seconds per step and seconds of audio per second of training, against Matcha-TTS."""
    peak = f" {'peak GiB':>9s}" if device.type == "cuda" else ""
    print(f"{'system':16s} {'parameters':>12s} {'s/step':>8s} {'audio s/s':>10s} {'vs Matcha-TTS':>14s}{peak}")
    matcha_rate = audio / sum(times["Matcha-TTS"].seconds)
    for name, model in models.items():
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
        rate = audio / sum(times[name].seconds)
        peak = f" {times[name].step_peak / 2**30:9.2f}" if device.type == "cuda" else ""
        print(
            f"{name:16s} {trainable:10.2f} M {statistics.median(times[name].seconds):8.3f} {rate:10.1f} "
            f"{rate / matcha_rate:13.2f}x{peak}"
        )
    print(
        "parameters: those trained (the shared step trains the decoder alone); audio s/s: seconds of audio in the "
        "timed batches (mel frames x hop / sample rate) per second of their steps; vs Matcha-TTS: that rate's ratio"
    )
    if device.type == "cuda":
        print("peak GiB: CUDA max_memory_allocated during a step above what was allocated when it began")


def print_shares(times: dict, timers: dict) -> None:
    """The alignment's share of each joint step (wrapped functions, with any copies to and from the host); data
    loading is not part of a step."""
    for name, timer in timers.items():
        system = "Matcha-TTS" if name.startswith("Matcha") else "tts_gen joint"
        print(f"{name}: {timer.total() / sum(times[system].seconds):6.1%} of its step")
    print(
        "data loading: outside every timed step (batches are built before timing; the trainer's own loop counts "
        "loading and steps together, so it cannot tell)"
    )


def print_memory(times: dict, device: torch.device, rss_start: float, rss_built: float) -> None:
    """The peak memory: CUDA's over the timed steps, and the process's resident memory (not per system)."""
    if device.type == "cuda":
        peak = max(t.peak for t in times.values()) / 2**30
        print(f"CUDA max_memory_allocated over the timed steps (all systems' weights resident): {peak:.2f} GiB")
    print(
        f"CPU: process peak resident memory (ru_maxrss, all systems in one process): {rss_start:.0f} MiB before "
        f"building, {rss_built:.0f} MiB after building, {max_rss_mib():.0f} MiB after the steps"
    )


def max_rss_mib() -> float:
    """The process's peak resident memory so far (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
