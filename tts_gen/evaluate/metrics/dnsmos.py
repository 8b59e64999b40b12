"""DNSMOS P.835 (Reddy et al., 2022) as a reference-free naturalness proxy.

The ONNX models ship inside the ``speechmos`` package (no download) and run with onnxruntime on the CPU.
Audio is resampled to 16 kHz; as in Microsoft's reference script, a clip shorter than 9.01 s is repeated until
it is long enough and the scores are averaged over 9.01 s windows taken every second. Returned: the P.835
overall quality (OVRL), speech signal quality (SIG), background quality (BAK) and the P.808 MOS, each on a
1-5 scale (higher is better). DNSMOS was trained on noisy and enhanced speech, not TTS: a proxy to compare
systems on the same sentences, never an absolute MOS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

DNSMOS_SAMPLE_RATE = 16000


@dataclass
class DnsmosScores:
    ovrl: float
    sig: float
    bak: float
    p808: float


class Dnsmos:
    """The DNSMOS P.835 and P.808 models of ``speechmos``, loaded once."""

    def __init__(self):
        try:
            import onnxruntime  # noqa: F401  (speechmos needs it; fail with the install hint first)
            from speechmos import dnsmos
        except ImportError as error:
            raise ImportError(
                f"DNSMOS needs speechmos and onnxruntime ({error}); install the evaluation extra: "
                "pip install -e '.[eval]'"
            ) from None
        from pathlib import Path

        models = Path(dnsmos.__file__).parent
        self.model = dnsmos.DNSMOS(
            str(models / "dnsmos_models" / "sig_bak_ovr.onnx"), str(models / "dnsmos_models" / "model_v8.onnx")
        )

    def score(self, wav: torch.Tensor | np.ndarray, sample_rate: int) -> DnsmosScores:
        """Waveform (T,) in [-1, 1] at ``sample_rate`` -> DNSMOS scores (1-5); NaN for digital silence."""
        from tts_gen.audio import resample

        wav = torch.as_tensor(np.asarray(wav, dtype=np.float32)).reshape(-1)
        if wav.numel() == 0 or not bool(wav.abs().max() > 0):
            return DnsmosScores(math.nan, math.nan, math.nan, math.nan)  # digital silence has no quality score
        audio = resample(wav, sample_rate, DNSMOS_SAMPLE_RATE).clamp(-1, 1).numpy().astype(np.float32)
        result = self.model(audio, DNSMOS_SAMPLE_RATE, False)
        return DnsmosScores(
            ovrl=float(result["ovrl_mos"]),
            sig=float(result["sig_mos"]),
            bak=float(result["bak_mos"]),
            p808=float(result["p808_mos"]),
        )
