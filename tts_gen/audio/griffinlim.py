"""Griffin-Lim inversion of a log-mel spectrogram: the vocoder that needs no training.

Fast Griffin-Lim (Perraudin et al., 2013) with momentum, on the magnitude recovered from the mel by the
pseudo-inverse of the filter bank.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from tts_gen.audio.features import AudioConfig, mel_filter_bank


@lru_cache(maxsize=8)
def _inverse_basis(config: AudioConfig, device: torch.device) -> torch.Tensor:
    return torch.linalg.pinv(mel_filter_bank(config, device))  # (n_freqs, n_mels)


def mel_to_magnitude(log_mel: torch.Tensor, config: AudioConfig) -> torch.Tensor:
    """(…, n_mels, frames) log-mel -> (…, n_fft // 2 + 1, frames) non-negative magnitude."""
    mel = torch.exp(log_mel.float())
    magnitude = torch.matmul(_inverse_basis(config, log_mel.device), mel)
    return magnitude.clamp(min=config.log_clamp)


def pad_to_min_frames(log_mel: torch.Tensor, config: AudioConfig) -> torch.Tensor:
    """(B, n_mels, frames) -> at least the frames that the STFT's reflection padding needs (``n_fft // 2``
    samples on each side), padded at the end with silence (the clamped log floor)."""
    min_frames = config.n_fft // (2 * config.hop_length) + 1
    missing = min_frames - log_mel.shape[-1]
    if missing <= 0:
        return log_mel
    return torch.nn.functional.pad(log_mel, (0, missing), value=config.log_floor)


def griffin_lim(
    log_mel: torch.Tensor,
    config: AudioConfig = AudioConfig(),
    n_iter: int = 32,
    momentum: float = 0.99,
    power: float = 1.3,
    seed: int = 0,
) -> torch.Tensor:
    """Inverts a log-mel spectrogram to a waveform.

    Args:
        log_mel: (n_mels, frames) or (B, n_mels, frames) natural-log mel.
        n_iter: Griffin-Lim iterations.
        momentum: fast Griffin-Lim momentum (0 gives the classic algorithm).
        power: the magnitude is raised to this power before phase recovery (values above 1 reduce the
            reverberant sound of Griffin-Lim, as in Tacotron).
        seed: seed of the random initial phase, so that the output is deterministic.

    Returns:
        waveform (frames * hop,) or (B, frames * hop) in [-1, 1]; a mel shorter than the STFT window is padded
        with silence for the inversion and the waveform cut back to its length.
    """
    single = log_mel.dim() == 2
    mel = log_mel.unsqueeze(0) if single else log_mel
    length = mel.shape[-1] * config.hop_length
    mel = pad_to_min_frames(mel, config)
    magnitude = mel_to_magnitude(mel, config).pow(power)  # (B, n_freqs, frames)
    window = torch.hann_window(config.win_length, device=mel.device)
    stft_args = dict(n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length, window=window)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    phase = torch.rand(magnitude.shape, generator=generator).to(mel.device) * 2 * torch.pi
    # torch.stft with center=True gives one frame more than the HiFi-GAN framing: repeat the last frame.
    magnitude = torch.cat([magnitude, magnitude[..., -1:]], dim=-1)
    phase = torch.cat([phase, phase[..., -1:]], dim=-1)
    angles = torch.polar(torch.ones_like(magnitude), phase)
    previous = torch.zeros_like(angles)
    padded_length = mel.shape[-1] * config.hop_length
    for _ in range(n_iter):
        wav = torch.istft(magnitude * angles, length=padded_length, **stft_args)
        rebuilt = torch.stft(wav, return_complex=True, **stft_args)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles = accelerated / accelerated.abs().clamp(min=1e-8)
        previous = rebuilt
    wav = torch.istft(magnitude * angles, length=padded_length, **stft_args)[..., :length]
    wav = wav / wav.abs().amax(dim=-1, keepdim=True).clamp(min=1.0)
    return wav[0] if single else wav
