"""Helpers shared by the benchmark scripts (imported as ``timing`` when a script runs from ``benchmarks/``)."""

from __future__ import annotations

import os


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other programs' share of the CPU while a benchmark ran."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
