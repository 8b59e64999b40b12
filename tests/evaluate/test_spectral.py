"""Mel-cepstrum, MCD, mel-L1 and the F0 metrics on signals whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.evaluate.signals import SAMPLE_RATE, harmonic_tone
from tts_gen.evaluate.metrics.f0 import SEMITONE, pitch_scores
from tts_gen.evaluate.metrics.mcd import MCD_SCALE, mel_cepstral_distortion, mel_l1
from tts_gen.evaluate.metrics.world import WorldConfig, analyze, dtw_path, mc2sp, mcep_params, sp2mc


def test_sp2mc_inverts_mc2sp():
    rng = np.random.default_rng(0)
    mcep = rng.normal(size=(4, 35)) * np.exp(-np.arange(35) / 5)  # decaying, like real mel-cepstra
    recovered = sp2mc(mc2sp(mcep, 0.45, 1024), 34, 0.45)
    np.testing.assert_allclose(recovered, mcep, atol=2e-3)


def test_espnet_mcep_settings_and_unknown_rate():
    assert mcep_params(22050, WorldConfig()) == (34, 0.45)
    assert mcep_params(16000, WorldConfig()) == (23, 0.42)
    assert mcep_params(8000, WorldConfig(mcep_order=12, mcep_alpha=0.31)) == (12, 0.31)
    with pytest.raises(ValueError, match="mcep_order"):
        mcep_params(8000, WorldConfig())


def _distortion(a: np.ndarray, b: np.ndarray) -> tuple[float, object, object, tuple]:
    fa, fb = analyze(a, SAMPLE_RATE), analyze(b, SAMPLE_RATE)
    path = dtw_path(fa.mcep, fb.mcep)
    return mel_cepstral_distortion(fa.mcep, fb.mcep, path), fa, fb, path


def test_identical_signals_have_zero_distortion_and_pitch_error():
    tone = harmonic_tone(150.0)
    mcd, fa, fb, path = _distortion(tone, tone)
    assert mcd == 0.0
    pitch = pitch_scores(fa.f0, fb.f0, path)
    assert pitch.log_f0_rmse == 0.0 and pitch.vuv_error == 0.0 and pitch.voiced_frames > 0


def test_a_gain_change_moves_only_c0():
    """Scaling a signal by g adds ln g to c0 only: MCD = 10/ln10 * sqrt(2) * ln g (c0 included, as ESPnet)."""
    tone = harmonic_tone(150.0)
    mcd, fa, fb, path = _distortion(1.5 * tone, tone)
    assert mcd == pytest.approx(MCD_SCALE * math.log(1.5), rel=0.02)
    without_c0 = mel_cepstral_distortion(fa.mcep, fb.mcep, path, include_c0=False)
    assert without_c0 < 0.05 * mcd


def test_a_semitone_shift_gives_its_log_f0_rmse():
    """F0 x 2^(1/12) everywhere: every voiced frame differs by ln 2 / 12 = 0.0578 in ln F0."""
    shifted = harmonic_tone(150.0 * 2 ** (1 / 12))
    mcd, fa, fb, path = _distortion(shifted, harmonic_tone(150.0))
    pitch = pitch_scores(fa.f0, fb.f0, path)
    assert pitch.log_f0_rmse == pytest.approx(SEMITONE, rel=0.05)
    assert pitch.vuv_error == 0.0
    assert mcd > 0.1


def test_voicing_errors_are_counted():
    f0_ref = np.array([100.0] * 10)
    f0_gen = np.array([100.0] * 5 + [0.0] * 5)
    path = (np.arange(10), np.arange(10))
    scores = pitch_scores(f0_gen, f0_ref, path)
    assert scores.vuv_error == pytest.approx(0.5)
    assert scores.voiced_frames == 5 and scores.log_f0_rmse == 0.0
    silent = pitch_scores(np.zeros(10), f0_ref, path)
    assert math.isnan(silent.log_f0_rmse) and silent.vuv_error == 1.0


def test_mel_l1_on_known_offsets():
    reference = torch.randn(80, 30)
    assert mel_l1(reference, reference) == 0.0
    assert mel_l1(reference + 0.5, reference) == pytest.approx(0.5)
    mask = torch.zeros(1, 30)
    mask[:, :10] = 1
    shifted = reference.clone()
    shifted[:, 10:] += 100.0  # errors past the mask are not counted
    shifted[:, :10] += 0.25
    assert mel_l1(shifted, reference, mask) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="teacher_forced"):
        mel_l1(reference[:, :20], reference)
