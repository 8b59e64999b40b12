"""Spectral distances: mel-cepstral distortion (after the vocoder) and mel-L1 (before it).

* Mel-cepstral distortion (Kubichek, 1993) as ESPnet computes it: WORLD mel-cepstra of the generated and the
  reference recording (:mod:`tts_gen.evaluate.metrics.world`), aligned by DTW, and per aligned frame pair
  ``10 / ln 10 * sqrt(2 * sum_d (c_d - c'_d)^2)`` dB averaged over the path. Like ESPnet, the sum runs over
  every coefficient including c0 (``include_c0=False`` drops the energy term, as some papers do).
* Mel-L1: mean absolute difference between a mel generated with the aligner's (ground-truth) durations and
  the reference mel, in natural-log mel units, over the valid frames: the decoder's error, with no vocoder
  and no duration error in it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)


def mel_cepstral_distortion(
    generated: np.ndarray, reference: np.ndarray, path: tuple[np.ndarray, np.ndarray], include_c0: bool = True
) -> float:
    """MCD in dB between mel-cepstra (Ta, D) and (Tb, D) along a DTW ``path`` (indices into each)."""
    start = 0 if include_c0 else 1
    diff = generated[path[0], start:] - reference[path[1], start:]  # (L, D')
    return float(np.mean(MCD_SCALE * np.sqrt(np.sum(diff**2, axis=1))))


def mel_l1(generated: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean |generated - reference| over valid frames of two log-mels (n_mels, T), natural-log units.

    ``mask`` (1, T) or (T,) marks valid frames (all frames when None); both mels must have the same length.
    """
    if generated.shape != reference.shape:
        raise ValueError(
            f"mel-L1 compares frame-aligned mels; got shapes {tuple(generated.shape)} and {tuple(reference.shape)} "
            "(generate with the aligner's durations: TTSModel.teacher_forced)"
        )
    diff = (generated.float() - reference.float()).abs()
    if mask is None:
        return float(diff.mean())
    mask = mask.float().reshape(1, -1)
    return float((diff * mask).sum() / (mask.sum() * diff.shape[0]).clamp(min=1))
