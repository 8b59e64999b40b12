"""Pitch metrics: log-F0 RMSE on frames voiced in both signals and the voiced/unvoiced error rate.

Both are read along the DTW path of :mod:`tts_gen.evaluate.metrics.world` (WORLD Harvest F0), as ESPnet's
``evaluate_f0.py`` does: the RMSE of ``ln F0_gen - ln F0_ref`` over path frames where both are voiced
(natural-log units; a semitone is ln 2 / 12 = 0.0578), and the fraction of path frames whose voicing
decisions differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SEMITONE = math.log(2.0) / 12.0


@dataclass
class PitchScores:
    """log_f0_rmse: natural-log units (NaN if no frame is voiced in both); vuv_error: fraction in [0, 1]."""

    log_f0_rmse: float
    vuv_error: float
    voiced_frames: int


def pitch_scores(
    generated_f0: np.ndarray, reference_f0: np.ndarray, path: tuple[np.ndarray, np.ndarray]
) -> PitchScores:
    """F0 tracks (Ta,) and (Tb,) in Hz (0 = unvoiced) compared along a DTW ``path``."""
    gen, ref = generated_f0[path[0]], reference_f0[path[1]]
    gen_voiced, ref_voiced = gen > 0, ref > 0
    both = gen_voiced & ref_voiced
    rmse = float(np.sqrt(np.mean((np.log(gen[both]) - np.log(ref[both])) ** 2))) if both.any() else math.nan
    return PitchScores(
        log_f0_rmse=rmse, vuv_error=float(np.mean(gen_voiced != ref_voiced)), voiced_frames=int(both.sum())
    )


def log_f0_semitones(f0: np.ndarray) -> np.ndarray:
    """F0 (Hz, 0 = unvoiced) -> semitones relative to 100 Hz, NaN where unvoiced."""
    with np.errstate(divide="ignore"):
        return np.where(f0 > 0, np.log(np.where(f0 > 0, f0, 1.0) / 100.0) / SEMITONE, np.nan)
