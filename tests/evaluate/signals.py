"""Synthetic test signals with known pitch and spectrum."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 22050


def harmonic_tone(f0: float, seconds: float = 0.6, harmonics: int = 20, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A steady tone at ``f0`` Hz with ``harmonics`` harmonics of amplitude 0.1 / k (peak well below 1)."""
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    return sum(0.1 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, harmonics + 1) if f0 * k < sample_rate / 2)
