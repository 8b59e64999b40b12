"""The one log-mel implementation of tts_gen, and its audio settings.

The defaults are the settings of the public HiFi-GAN, Glow-TTS, Grad-TTS and Matcha-TTS LJSpeech models
(Kong et al., 2020): 22,050 Hz, n_fft 1024, window 1024 (Hann), hop 256, 80 Slaney-normalized mel bands over
0-8000 Hz, magnitude (not power) spectrogram, natural log clamped at 1e-5, reflect padding of (n_fft - hop) / 2
on both sides and no centering. With these settings an input of N samples gives exactly N // hop frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
import torchaudio


@dataclass(frozen=True)
class AudioConfig:
    """Audio and feature settings shared by the acoustic model, the vocoder and the feature cache."""

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float = 8000.0
    log_clamp: float = 1e-5

    def __post_init__(self) -> None:
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length ({self.win_length}) must not exceed n_fft ({self.n_fft})")
        if (self.n_fft - self.hop_length) % 2:
            raise ValueError("n_fft - hop_length must be even so that the reflect padding is symmetric")
        if not 0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= f_min < f_max <= sample_rate / 2, got {self.f_min}, {self.f_max}")

    @property
    def padding(self) -> int:
        """Reflect padding on each side of the signal, in samples."""
        return (self.n_fft - self.hop_length) // 2

    def num_frames(self, num_samples: int) -> int:
        """Number of mel frames for a signal of ``num_samples`` samples."""
        return (num_samples + 2 * self.padding - self.n_fft) // self.hop_length + 1

    @property
    def log_floor(self) -> float:
        """The log-mel value of silence."""
        import math

        return math.log(self.log_clamp)


@lru_cache(maxsize=16)
def _mel_basis(config: AudioConfig, device: torch.device) -> torch.Tensor:
    """Slaney mel filter bank, (n_mels, n_fft // 2 + 1)."""
    fbanks = torchaudio.functional.melscale_fbanks(
        n_freqs=config.n_fft // 2 + 1,
        f_min=config.f_min,
        f_max=config.f_max,
        n_mels=config.n_mels,
        sample_rate=config.sample_rate,
        norm="slaney",
        mel_scale="slaney",
    )  # (n_freqs, n_mels)
    return fbanks.T.contiguous().to(device)


@lru_cache(maxsize=16)
def _window(win_length: int, device: torch.device) -> torch.Tensor:
    return torch.hann_window(win_length, device=device)


def mel_filter_bank(config: AudioConfig, device: torch.device | str = "cpu") -> torch.Tensor:
    """The mel filter bank used by :func:`mel_spectrogram`, (n_mels, n_fft // 2 + 1)."""
    return _mel_basis(config, torch.device(device))


def linear_spectrogram(wav: torch.Tensor, config: AudioConfig) -> torch.Tensor:
    """Magnitude spectrogram with the HiFi-GAN framing: (B, T) -> (B, n_fft // 2 + 1, T // hop)."""
    padded = F.pad(wav.unsqueeze(1), (config.padding, config.padding), mode="reflect").squeeze(1)
    spec = torch.stft(
        padded,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window=_window(config.win_length, wav.device),
        center=False,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)


def mel_spectrogram(wav: torch.Tensor, config: AudioConfig = AudioConfig()) -> torch.Tensor:
    """Natural-log mel spectrogram.

    Args:
        wav: waveform in [-1, 1], (T,) or (B, T), on any device.
        config: audio settings.

    Returns:
        log-mel, (n_mels, T // hop) for a 1-D input or (B, n_mels, T // hop) for a batch, float32.
    """
    if wav.dim() not in (1, 2):
        raise ValueError(f"mel_spectrogram expects a (T,) or (B, T) waveform, got shape {tuple(wav.shape)}")
    if wav.shape[-1] <= config.padding:
        raise ValueError(
            f"waveform of {wav.shape[-1]} samples is too short for the mel settings (needs > {config.padding})"
        )
    batch = wav.float().unsqueeze(0) if wav.dim() == 1 else wav.float()
    magnitude = linear_spectrogram(batch, config)  # (B, n_freqs, frames)
    mel = torch.matmul(_mel_basis(config, batch.device), magnitude)  # (n_mels, n_freqs) @ (B, n_freqs, frames)
    log_mel = torch.log(torch.clamp(mel, min=config.log_clamp))
    return log_mel[0] if wav.dim() == 1 else log_mel
