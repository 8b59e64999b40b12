"""Reading and writing audio with soundfile; resampling with torchaudio."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

from tts_gen.files import atomic_write
from tts_gen.validation import NonFiniteOutputError


class AudioFileError(ValueError):
    """An audio file is missing, unreadable, empty or holds non-finite samples."""


def resample(wav: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Band-limited (windowed sinc) resampling along the last dimension; a no-op when the rates are equal."""
    if orig_rate == new_rate:
        return wav
    return torchaudio.functional.resample(wav, orig_rate, new_rate)


def load_wav(path: str | Path, sample_rate: int) -> torch.Tensor:
    """Loads any file soundfile reads (WAV, FLAC, OGG...), mixed to mono and resampled.

    Args:
        path: audio file.
        sample_rate: the rate to return, in Hz.

    Returns:
        float32 waveform (T,) in [-1, 1].

    Raises:
        AudioFileError: naming the file, if it is missing, unreadable, empty or not finite.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"audio file {path} does not exist")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)  # (T, channels)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioFileError(f"cannot read audio file {path}: {error}") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"audio file {path} is empty")
    if not np.isfinite(data).all():
        raise AudioFileError(f"audio file {path} holds non-finite samples (NaN or inf)")
    wav = torch.from_numpy(data.mean(axis=1))
    wav = resample(wav, file_rate, sample_rate)
    return wav.clamp(-1.0, 1.0).contiguous()


def save_wav(path: str | Path, wav: torch.Tensor | np.ndarray, sample_rate: int) -> None:
    """Writes a mono waveform in [-1, 1] as 16-bit PCM WAV, atomically (temporary file, then rename).

    A waveform with NaN or infinite samples is a :class:`NonFiniteOutputError` and writes nothing.
    """
    path = Path(path)
    wav = clipped_samples(wav, f"the waveform for {path}", "; nothing was written")
    with atomic_write(path, "wb", sync=False) as handle:
        sf.write(handle, wav, sample_rate, subtype="PCM_16", format="WAV")


def clipped_samples(wav: torch.Tensor | np.ndarray, what: str, consequence: str = "") -> np.ndarray:
    """A mono waveform as float32 samples (T,) clipped to [-1, 1]; NaN or infinite samples are a
    :class:`NonFiniteOutputError` naming ``what`` (and ending with ``consequence``)."""
    if isinstance(wav, torch.Tensor):
        wav = wav.detach().float().cpu().numpy()
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if not np.isfinite(wav).all():
        raise NonFiniteOutputError(f"{what} holds NaN or infinite samples{consequence}")
    return np.clip(wav, -1.0, 1.0)


def as_saved(wav: torch.Tensor | np.ndarray) -> np.ndarray:
    """A mono waveform (T,) as :func:`save_wav` stores it and :func:`load_wav` reads it back at its own rate
    (clipped, 16-bit PCM, float32), so that a metric of a waveform kept in memory sees what it sees of the saved
    file."""
    buffer = io.BytesIO()
    sf.write(buffer, clipped_samples(wav, "the waveform"), 16000, subtype="PCM_16", format="WAV")
    buffer.seek(0)
    return sf.read(buffer, dtype="float32")[0]
