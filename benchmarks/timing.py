"""Helpers shared by the benchmark scripts (imported as ``timing`` when a script runs from ``benchmarks/``)."""

from __future__ import annotations

import os

import torch


def synchronize(device: torch.device) -> None:
    """Waits for the device's queued work, so that a wall-clock timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other programs' share of the CPU while a benchmark ran."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
