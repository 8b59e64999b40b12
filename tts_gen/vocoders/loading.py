"""Vocoders by name or path: ``griffin-lim`` (no training) or a trained HiFi-GAN run folder, checkpoint or
release folder (safetensors)."""

from __future__ import annotations

from pathlib import Path

import torch

from tts_gen.audio import AudioConfig
from tts_gen.config import from_dict
from tts_gen.releases import load_weights
from tts_gen.vocoders.base import Vocoder
from tts_gen.vocoders.config import VocoderExperimentConfig
from tts_gen.vocoders.griffinlim import GriffinLimVocoder
from tts_gen.vocoders.hifigan import HiFiGAN, HiFiGANGenerator


def load_hifigan_generator(spec: str | Path, use_ema: bool = True) -> tuple[HiFiGANGenerator, AudioConfig]:
    """The trained generator (in its training form, on the CPU) of a vocoder run folder (its best checkpoint),
    checkpoint file or release folder, and its audio settings.

    Raises:
        CheckpointError: a missing or corrupt checkpoint, or one that is not a vocoder.
    """
    payload = load_weights(spec, "vocoder")
    config = from_dict(VocoderExperimentConfig, payload["config"])
    weights = payload["ema"] if use_ema and payload.get("ema") else payload["model"]
    generator = HiFiGANGenerator(config.vocoder.generator, config.audio.n_mels)
    prefix = "generator."
    generator.load_state_dict({k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)})
    return generator.eval(), config.audio


def load_hifigan(spec: str | Path, device: str | torch.device = "cpu", use_ema: bool = True) -> HiFiGAN:
    """A trained HiFi-GAN, in its inference form, from a vocoder run folder (its best checkpoint), checkpoint
    file or release folder.

    Raises:
        CheckpointError: a missing or corrupt checkpoint, or one that is not a vocoder.
    """
    generator, audio = load_hifigan_generator(spec, use_ema)
    return HiFiGAN(generator, audio).to(device).eval()


def load_vocoder(spec: str | Path | None, audio: AudioConfig, device: str | torch.device = "cpu") -> Vocoder:
    """``None`` or ``griffin-lim`` -> Griffin-Lim for ``audio``; otherwise a trained vocoder's run folder,
    checkpoint or release folder, which must have been trained with the same audio settings."""
    if spec is None or str(spec) == "griffin-lim":
        return GriffinLimVocoder(audio).to(device)
    vocoder = load_hifigan(spec, device)
    vocoder.check_audio(audio)
    return vocoder
