"""WORLD analysis shared by the spectral and pitch metrics: F0, mel-cepstra and the DTW path between them.

The settings follow ESPnet's TTS evaluation scripts (``evaluate_mcd.py`` / ``evaluate_f0.py`` of ESPnet2):
F0 by WORLD Harvest between 40 and 800 Hz at a frame shift of 256 samples, the spectral envelope by WORLD
CheapTrick with a 1024-point FFT, converted to a mel-cepstrum whose order and all-pass constant depend on the
sample rate (34 and 0.45 at 22.05 kHz), and one dynamic-time-warping path over the mel-cepstra (Euclidean
distance) that both the mel-cepstral distortion and the F0 errors are read along.

Differences from ESPnet, all deliberate: the mel-cepstrum is computed here by warping the frequency axis of
the log envelope with the first-order all-pass map and taking its cosine series (the quantity SPTK's
``sp2mc`` computes, evaluated on a dense grid rather than by the ``freqt`` recursion), and the DTW is exact
(librosa) where ESPnet uses the ``fastdtw`` approximation.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

# ESPnet's mel-cepstrum (order, all-pass constant) per sample rate.
MCEP_PARAMS: dict[int, tuple[int, float]] = {
    16000: (23, 0.42),
    22050: (34, 0.45),
    24000: (34, 0.46),
    44100: (39, 0.53),
    48000: (39, 0.55),
}


@dataclass
class WorldConfig:
    """WORLD analysis settings; ``mcep_order`` / ``mcep_alpha`` of 0 pick ESPnet's values for the rate."""

    f0_floor: float = 40.0
    f0_ceil: float = 800.0
    hop_samples: int = 256
    fft_size: int = 1024
    mcep_order: int = 0
    mcep_alpha: float = 0.0


@dataclass
class WorldFeatures:
    """f0: (T,) Hz, 0 where unvoiced; mcep: (T, order + 1) mel-cepstrum of the envelope (SPTK convention:
    ``log|H| = c_0 + sum_{m>=1} c_m cos(m beta)``)."""

    f0: np.ndarray
    mcep: np.ndarray


def pyworld():
    """The pyworld module (its import needs ``pkg_resources``, shipped by setuptools < 81)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyworld as module
    except ImportError as error:
        raise ImportError(
            f"the WORLD metrics need pyworld ({error}); install the evaluation extra: pip install -e '.[eval]'"
        ) from None
    return module


def mcep_params(sample_rate: int, config: WorldConfig) -> tuple[int, float]:
    """(order, alpha) of the mel-cepstrum: the config's if set, else ESPnet's for ``sample_rate``."""
    if config.mcep_order > 0 and config.mcep_alpha > 0:
        return config.mcep_order, config.mcep_alpha
    if sample_rate not in MCEP_PARAMS:
        raise ValueError(
            f"no mel-cepstrum setting for {sample_rate} Hz (known: {sorted(MCEP_PARAMS)}); "
            "set WorldConfig.mcep_order and mcep_alpha"
        )
    return MCEP_PARAMS[sample_rate]


def warp_frequency(omega: np.ndarray, alpha: float) -> np.ndarray:
    """Phase response of the first-order all-pass ``(z^-1 - alpha) / (1 - alpha z^-1)``: radians -> radians."""
    return np.arctan2((1 - alpha**2) * np.sin(omega), (1 + alpha**2) * np.cos(omega) - 2 * alpha)


@functools.lru_cache(maxsize=8)
def _mcep_matrix(n_bins: int, order: int, alpha: float, oversample: int = 8) -> np.ndarray:
    """Linear map (order + 1, n_bins): log amplitude on the FFT grid -> mel-cepstrum.

    SPTK's convention (a causal, minimum-phase cepstrum): with the warped frequency
    ``beta = warp(omega, alpha)``, ``log|H(omega)| = c_0 + sum_{m>=1} c_m cos(m beta)``, so
    ``c_0 = (1/pi) int_0^pi log|H| dbeta`` and ``c_m = (2/pi) int_0^pi log|H| cos(m beta) dbeta``. The
    integrals are taken by the trapezoid rule on a uniform beta grid, ``oversample`` times finer than the FFT
    grid, with ``log|H|`` linearly interpolated at ``omega = warp(beta, -alpha)``.
    """
    n_grid = oversample * (n_bins - 1) + 1
    beta = np.linspace(0.0, np.pi, n_grid)
    omega = np.clip(warp_frequency(beta, -alpha), 0.0, np.pi)
    position = omega / np.pi * (n_bins - 1)
    left = np.clip(np.floor(position).astype(int), 0, n_bins - 2)
    frac = position - left
    interp = np.zeros((n_grid, n_bins))  # (grid, bins): grid values = interp @ FFT-grid values
    interp[np.arange(n_grid), left] = 1 - frac
    interp[np.arange(n_grid), left + 1] += frac
    weights = np.full(n_grid, np.pi / (n_grid - 1))
    weights[[0, -1]] /= 2
    cosines = np.cos(np.arange(order + 1)[:, None] * beta[None, :])  # (order + 1, grid)
    cosines[1:] *= 2
    return (cosines * weights / np.pi) @ interp  # (order + 1, grid) @ (grid, bins) -> (order + 1, bins)


def sp2mc(power_spectrum: np.ndarray, order: int, alpha: float) -> np.ndarray:
    """Power spectral envelope (T, fft_size // 2 + 1) -> mel-cepstrum (T, order + 1) of the log amplitude."""
    log_amplitude = 0.5 * np.log(np.maximum(power_spectrum, 1e-300))
    return log_amplitude @ _mcep_matrix(power_spectrum.shape[1], order, alpha).T  # (T, bins) @ (bins, M + 1)


def mc2sp(mcep: np.ndarray, alpha: float, fft_size: int) -> np.ndarray:
    """Inverse of :func:`sp2mc` (for tests and plots): mel-cepstrum (T, M + 1) -> power spectrum (T, bins)."""
    omega = np.linspace(0.0, np.pi, fft_size // 2 + 1)
    beta = warp_frequency(omega, alpha)
    order = mcep.shape[1] - 1
    cosines = np.cos(np.arange(order + 1)[:, None] * beta[None, :])  # (M + 1, bins)
    return np.exp(2 * mcep @ cosines)  # (T, M + 1) @ (M + 1, bins) -> (T, bins)


def analyze(wav: np.ndarray, sample_rate: int, config: WorldConfig = WorldConfig()) -> WorldFeatures:
    """WORLD analysis of a waveform (T,) in [-1, 1]: Harvest F0 and the CheapTrick envelope's mel-cepstrum
    (SPTK convention, as ``pysptk.sp2mc`` returns it)."""
    world = pyworld()
    x = np.ascontiguousarray(np.asarray(wav, dtype=np.float64).reshape(-1))
    if x.size < config.fft_size:
        x = np.pad(x, (0, config.fft_size - x.size))
    period_ms = config.hop_samples / sample_rate * 1000.0
    f0, times = world.harvest(x, sample_rate, f0_floor=config.f0_floor, f0_ceil=config.f0_ceil, frame_period=period_ms)
    envelope = world.cheaptrick(x, f0, times, sample_rate, fft_size=config.fft_size)
    order, alpha = mcep_params(sample_rate, config)
    return WorldFeatures(f0=f0, mcep=sp2mc(envelope, order, alpha))


def dtw_path(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact DTW between feature sequences a (Ta, D) and b (Tb, D) with Euclidean frame distance.

    Returns:
        (indices into a, indices into b), both (L,), in time order.
    """
    import librosa

    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")  # path (L, 2), end to start
    path = path[::-1]
    return path[:, 0], path[:, 1]
