"""The config of an acoustic model run (``egs/*/<family>.yaml``), and the model it builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.config import from_dict, load_config
from tts_gen.data.features import MelStats
from tts_gen.models.tts import TTSConfig, TTSModel
from tts_gen.text import TextConfig
from tts_gen.train.config import TrainConfig


@dataclass
class ExperimentConfig:
    """Everything that defines an acoustic model run (``egs/*/<family>.yaml``).

    Attributes:
        spine: a trained acoustic run (or checkpoint) whose text encoder and duration predictor this run keeps
            frozen, training its decoder on the durations ``tts-gen align`` stored under it (the shared protocol,
            in which families differ only in their decoders); empty = encoder, aligner and decoder trained
            together (the joint protocol of the papers).
    """

    model: TTSConfig
    audio: AudioConfig = field(default_factory=AudioConfig)
    text: TextConfig = field(default_factory=TextConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    spine: str = ""


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    return load_config(ExperimentConfig, path, overrides)


def build_tts_model(config: ExperimentConfig, num_symbols: int, stats: MelStats | None = None) -> TTSModel:
    return TTSModel(config.model, num_symbols, config.audio.n_mels, stats)


def config_from_checkpoint(payload: dict) -> ExperimentConfig:
    return from_dict(ExperimentConfig, payload["config"])
