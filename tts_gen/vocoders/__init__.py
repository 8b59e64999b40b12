"""Vocoders: log-mel -> waveform. Griffin-Lim needs no training; HiFi-GAN is trained by the same trainer."""

from tts_gen.vocoders.base import Vocoder, VocoderMismatchError
from tts_gen.vocoders.griffinlim import GriffinLimVocoder
from tts_gen.vocoders.hifigan import HiFiGAN, HiFiGANGenerator
from tts_gen.vocoders.loading import load_hifigan, load_vocoder

__all__ = [
    "GriffinLimVocoder",
    "HiFiGAN",
    "HiFiGANGenerator",
    "Vocoder",
    "VocoderMismatchError",
    "load_hifigan",
    "load_vocoder",
]
