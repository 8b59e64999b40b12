"""Monotonic alignment search speed: a batch of 16 with 200 tokens x 1,000 frames.

Compares tts_gen's MAS (log-likelihood + numba dynamic program, items searched in ``--threads`` threads) with
the same search in one thread and with a plain Python dynamic program on the same input, and checks that they
find the same alignment. With ``--device cuda`` it times the search of a matrix on the GPU by every method
(``numba``: copied to the host; ``torch`` and ``triton``: on the device), checking that their durations are equal.
Run by hand:

    .venv/bin/python benchmarks/alignment.py [--threads 2] [--repeats 20]
    python benchmarks/alignment.py --device cuda --batch 32 --tokens 180 --frames 870
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np
import torch

from tts_gen.models.alignment import align, gaussian_log_likelihood, maximum_path, search_durations


def python_maximum_path(value: np.ndarray, t_x: int, t_y: int) -> np.ndarray:
    """The textbook dynamic program in plain Python (the baseline)."""
    score = np.full((t_x, t_y), -np.inf)
    score[0, 0] = value[0, 0]
    for y in range(1, t_y):
        for x in range(min(t_x, y + 1)):
            stay = score[x, y - 1]
            advance = score[x - 1, y - 1] if x > 0 else -np.inf
            score[x, y] = value[x, y] + max(stay, advance)
    path = np.zeros((t_x, t_y), dtype=np.int32)
    x = t_x - 1
    for y in range(t_y - 1, -1, -1):
        path[x, y] = 1
        if x > 0 and (x == y or score[x, y - 1] < score[x - 1, y - 1]):
            x -= 1
    return path


def timed(function, repeats: int, device: torch.device = torch.device("cpu")) -> list[float]:
    """Seconds of each of ``repeats`` calls (waiting for the device after each on a GPU)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - started)
    return times


def compare_methods(value: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor, repeats: int) -> None:
    """Times ``search_durations`` of a device matrix by every method the installation has; durations must agree."""
    reference = None
    for method in ("numba", "torch", "triton"):
        try:
            durations = search_durations(value, x_lengths, y_lengths, method=method)  # warm-up (JIT, autotune)
        except (ValueError, ImportError, RuntimeError) as error:
            print(f"{method:>6}: not available ({error})")
            continue
        reference = durations if reference is None else reference
        assert torch.equal(durations, reference), f"{method} durations differ from numba's"
        search = functools.partial(search_durations, value, x_lengths, y_lengths, method=method)
        times = timed(search, repeats, value.device)
        median, p90 = statistics.median(times) * 1e3, np.percentile(times, 90) * 1e3
        print(f"{method:>6}: median {median:.2f} ms, p90 {p90:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--device", default="cpu", help="cuda: compare the search methods on the GPU")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    mu_x = torch.randn(args.batch, 80, args.tokens, generator=generator)
    y = torch.randn(args.batch, 80, args.frames, generator=generator)
    x_lengths = torch.full((args.batch,), args.tokens)
    y_lengths = torch.full((args.batch,), args.frames)
    if args.device != "cpu":
        device = torch.device(args.device)
        name = torch.cuda.get_device_name(device)
        print(f"batch {args.batch} x {args.tokens} tokens x {args.frames} frames on {name}")
        value = gaussian_log_likelihood(mu_x.to(device), y.to(device))
        compare_methods(value, x_lengths.to(device), y_lengths.to(device), args.repeats)
        return
    align(mu_x, y, x_lengths, y_lengths)  # compiles the numba kernel

    total = timed(lambda: align(mu_x, y, x_lengths, y_lengths), args.repeats)
    value = gaussian_log_likelihood(mu_x, y)
    search = timed(lambda: search_durations(value, x_lengths, y_lengths), args.repeats)
    serial = timed(lambda: search_durations(value, x_lengths, y_lengths, threads=1), args.repeats)
    started = time.perf_counter()
    baseline_paths = [python_maximum_path(value[b].numpy(), args.tokens, args.frames) for b in range(args.batch)]
    baseline = time.perf_counter() - started
    ours = maximum_path(value, x_lengths, y_lengths).numpy()
    assert all(np.array_equal(ours[b], baseline_paths[b]) for b in range(args.batch)), "alignments differ"

    median = statistics.median(total)
    print(f"batch {args.batch} x {args.tokens} tokens x {args.frames} frames, {args.threads} threads")
    print(
        f"tts_gen MAS (log-likelihood + search): median {median * 1e3:.1f} ms,"
        f" p90 {np.percentile(total, 90) * 1e3:.1f} ms"
    )
    print(
        f"  of which the search alone:           median {statistics.median(search) * 1e3:.1f} ms"
        f" (in one thread: {statistics.median(serial) * 1e3:.1f} ms,"
        f" {statistics.median(serial) / statistics.median(search):.2f}x)"
    )
    print(f"plain Python dynamic program:          {baseline * 1e3:.0f} ms (search only, one run)")
    print(f"speed-up over plain Python: {baseline / statistics.median(search):.0f}x (search), goal < 50 ms total")


if __name__ == "__main__":
    main()
