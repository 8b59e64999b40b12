"""Diversity of a stochastic family: how much several samples of the same sentence differ.

For families whose options have a ``temperature``, the same sentence is synthesized ``n`` times with different
noise. Reported (sample standard deviations across the ``n`` samples):

* ``f0_spread_semitones``: of each sample's mean F0 (semitones, voiced frames), i.e. overall pitch level;
* ``f0_frame_spread_semitones``: per frame, over frames voiced in every sample, then averaged (pitch contour);
  only when all samples have the same number of frames;
* ``duration_spread_seconds``: of the total duration; ``token_duration_spread_frames``: per token, averaged.

In tts_gen durations come from the shared encoder's deterministic duration predictor, so the duration spreads
are zero unless a family makes durations stochastic; they are reported so that such a family shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tts_gen.evaluate.metrics.f0 import log_f0_semitones


@dataclass
class DiversityScores:
    f0_spread_semitones: float
    f0_frame_spread_semitones: float
    duration_spread_seconds: float
    token_duration_spread_frames: float


def _std(values: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.std(values, axis=axis, ddof=1) if values.shape[axis] > 1 else np.zeros_like(values.take(0, axis))


def f0_spreads(f0_tracks: list[np.ndarray]) -> tuple[float, float]:
    """(utterance-level, frame-level) F0 spread in semitones of n >= 2 F0 tracks (Hz, 0 = unvoiced)."""
    semitones = [log_f0_semitones(track) for track in f0_tracks]
    means = np.array([np.nanmean(s) if np.isfinite(s).any() else np.nan for s in semitones])
    utterance = float(_std(means[np.isfinite(means)])) if np.isfinite(means).sum() > 1 else math.nan
    if len({len(s) for s in semitones}) != 1:
        return utterance, math.nan
    stacked = np.stack(semitones)  # (n, T)
    voiced = np.isfinite(stacked).all(axis=0)
    frame = float(np.mean(_std(stacked[:, voiced]))) if voiced.any() else math.nan
    return utterance, frame


def duration_spreads(durations: list[list[int]], frame_seconds: float) -> tuple[float, float]:
    """(total-duration spread in seconds, mean per-token spread in frames) of n samples' token durations."""
    totals = np.array([sum(d) for d in durations], dtype=float) * frame_seconds
    total = float(_std(totals))
    if len({len(d) for d in durations}) != 1:
        return total, math.nan
    per_token = _std(np.array(durations, dtype=float))  # (T_text,)
    return total, float(np.mean(per_token))


def diversity_scores(f0_tracks: list[np.ndarray], durations: list[list[int]], frame_seconds: float) -> DiversityScores:
    if len(f0_tracks) < 2:
        raise ValueError("diversity needs at least two samples of the sentence")
    utterance, frame = f0_spreads(f0_tracks)
    total, per_token = duration_spreads(durations, frame_seconds)
    return DiversityScores(utterance, frame, total, per_token)
