"""DNSMOS runs offline on the models speechmos ships, and ranks clean speech above the same speech in noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import MINI_CORPUS
from tts_gen.audio import load_wav


def test_clean_speech_scores_above_noisy_speech():
    pytest.importorskip("onnxruntime", reason="the eval extra is not installed: pip install -e '.[eval]'")
    pytest.importorskip("speechmos", reason="the eval extra is not installed: pip install -e '.[eval]'")
    from tts_gen.evaluate.metrics.dnsmos import Dnsmos

    # 4.8 s: repeated once to reach DNSMOS's 9.01 s window, so each score is a single model pass
    clean = load_wav(MINI_CORPUS / "wavs" / "LJ001-0004.wav", 16000)[: int(4.8 * 16000)].numpy()
    noise = np.random.default_rng(0).normal(size=clean.size).astype(np.float32)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2))  # 0 dB SNR
    noisy = np.clip(clean + noise, -1, 1)
    model = Dnsmos()
    clean_scores, noisy_scores = model.score(clean, 16000), model.score(noisy, 16000)
    assert 1.0 <= clean_scores.ovrl <= 5.0
    assert clean_scores.ovrl > noisy_scores.ovrl + 0.5
    assert clean_scores.bak > noisy_scores.bak + 0.5
    assert all(math.isnan(v) for v in vars(model.score(np.zeros(16000, dtype=np.float32), 16000)).values())
