"""Vocoders: log-mel -> waveform. Griffin-Lim needs no training; HiFi-GAN is trained by the same trainer."""

from tts_gen.vocoders.base import Vocoder, load_vocoder
from tts_gen.vocoders.griffinlim import GriffinLimVocoder

__all__ = ["GriffinLimVocoder", "Vocoder", "load_vocoder"]
