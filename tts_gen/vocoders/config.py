"""The config of a vocoder run (``egs/*/hifigan*.yaml``): sections ``vocoder``, ``audio``, ``train``, ``data``.

A config with a top-level ``vocoder:`` key is a vocoder config; ``tts-gen train`` sends it to
``tts-gen train-vocoder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tts_gen.audio import AudioConfig
from tts_gen.config import load_config
from tts_gen.train.config import TrainConfig
from tts_gen.vocoders.discriminators import DiscriminatorConfig
from tts_gen.vocoders.hifigan import HiFiGANGeneratorConfig


@dataclass
class HiFiGANConfig:
    """The HiFi-GAN vocoder and how it is trained.

    Attributes:
        kind: the vocoder (``hifigan``).
        generator / discriminator: their sizes.
        segment_samples: length of the random audio segments of training (HiFi-GAN: 8192); a multiple of
            the hop length.
        loss_f_max: upper frequency (Hz) of the mel of the mel-L1 loss; 0 = half the sample rate, as in the
            published HiFi-GAN (the generator's input mel keeps ``audio.f_max``).
    """

    kind: Literal["hifigan"] = "hifigan"
    generator: HiFiGANGeneratorConfig = field(default_factory=HiFiGANGeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    segment_samples: int = 8192
    loss_f_max: float = 0.0

    def __post_init__(self) -> None:
        if self.segment_samples < 1:
            raise ValueError(f"vocoder.segment_samples must be positive, got {self.segment_samples}")
        if self.loss_f_max < 0:
            raise ValueError(f"vocoder.loss_f_max must be >= 0, got {self.loss_f_max}")


@dataclass
class VocoderDataConfig:
    """Training data besides the prepared data folder.

    Attributes:
        mels_dir: folder of mels written by ``tts-gen dump-mels`` (an acoustic model's teacher-forced
            output) to train on instead of the ground-truth mels; empty = ground truth.
    """

    mels_dir: str = ""


@dataclass
class VocoderExperimentConfig:
    """Everything that defines a vocoder run. Fine-tuning starts from a trained vocoder with ``train.init_from``."""

    vocoder: HiFiGANConfig = field(default_factory=HiFiGANConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: VocoderDataConfig = field(default_factory=VocoderDataConfig)

    def __post_init__(self) -> None:
        hop, generator = self.audio.hop_length, self.vocoder.generator
        if generator.hop_length != hop:
            raise ValueError(
                f"the product of vocoder.generator.upsample_rates is {generator.hop_length} but audio.hop_length "
                f"is {hop}; choose upsample rates whose product is the hop length"
            )
        if self.vocoder.segment_samples % hop:
            raise ValueError(
                f"vocoder.segment_samples ({self.vocoder.segment_samples}) must be a multiple of the hop ({hop})"
            )
        if self.vocoder.loss_f_max > self.audio.sample_rate / 2:
            raise ValueError(f"vocoder.loss_f_max must not exceed half the sample rate ({self.audio.sample_rate / 2})")


def load_vocoder_experiment(path: str | Path, overrides: list[str] | None = None) -> VocoderExperimentConfig:
    """Loads a vocoder config strictly (an unknown key or a wrong type is a ConfigError)."""
    return load_config(VocoderExperimentConfig, path, overrides)
