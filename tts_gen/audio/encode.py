"""Waveforms as bytes: WAV, FLAC and MP3 files in memory, raw PCM, and WAV streams of unknown length.

``pcm`` is 16-bit signed little-endian mono at the model's sample rate, with no header. A streamed WAV starts
with a header whose sizes are the largest a WAV can state (0xFFFFFFFF), as streaming servers write it: players
read it to the end of the stream.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf
import torch

# response format -> (soundfile format, subtype); "pcm" is written by :func:`pcm16`.
FILE_FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III")}
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "pcm": "audio/pcm"}
STREAMABLE = ("wav", "pcm")
UNKNOWN_SIZE = 0xFFFFFFFF


def audio_formats() -> tuple[str, ...]:
    """The formats this installation can write (MP3 needs libsndfile >= 1.1)."""
    available = sf.available_formats()
    return tuple(name for name, (kind, _) in FILE_FORMATS.items() if kind in available) + ("pcm",)


def _samples(wav: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(wav, torch.Tensor):
        wav = wav.detach().float().cpu().numpy()
    return np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0)


def pcm16(wav: torch.Tensor | np.ndarray) -> bytes:
    """Samples in [-1, 1] (T,) -> 16-bit signed little-endian PCM bytes."""
    return (np.round(_samples(wav) * 32767.0)).astype("<i2").tobytes()


def wav_header(sample_rate: int, num_samples: int | None = None) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV of ``num_samples`` samples (unknown: the largest sizes)."""
    data = UNKNOWN_SIZE if num_samples is None else 2 * num_samples
    riff = UNKNOWN_SIZE if num_samples is None else 36 + data
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, 2 * sample_rate, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data)
    )


def encode_audio(wav: torch.Tensor | np.ndarray, sample_rate: int, audio_format: str) -> bytes:
    """A whole waveform (T,) in [-1, 1] as the bytes of ``audio_format`` (wav, flac, mp3 or pcm)."""
    if audio_format == "pcm":
        return pcm16(wav)
    if audio_format not in audio_formats():
        raise ValueError(f"unknown audio format {audio_format!r}; choose one of: {', '.join(audio_formats())}")
    kind, subtype = FILE_FORMATS[audio_format]
    buffer = io.BytesIO()
    sf.write(buffer, _samples(wav), sample_rate, format=kind, subtype=subtype)
    return buffer.getvalue()
