"""``tts-gen train``: an acoustic model run (shared encoder + aligner + one decoder family), through the one run
lifecycle of :mod:`tts_gen.train.run`."""

from __future__ import annotations

from pathlib import Path

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.data.dataset import TTSDataset, collate_tts
from tts_gen.data.prepared import open_prepared
from tts_gen.experiment import ExperimentConfig, build_tts_model, load_experiment
from tts_gen.text import Tokenizer
from tts_gen.train.run import RunSpec, train_run
from tts_gen.train.trainer import Position, TrainData
from tts_gen.trainable import Sample


def griffin_lim_sample(audio: AudioConfig):
    """The trainer's ``sample_audio`` for acoustic models: the predicted mel through Griffin-Lim."""

    def sample_audio(sample: Sample):
        return griffin_lim(sample.predicted_mel, audio), audio.sample_rate

    return sample_audio


def acoustic_spec(config: ExperimentConfig, data_dir: str | Path) -> RunSpec:
    """The run of ``config`` on a prepared data folder (with the config's audio settings)."""
    prepared = open_prepared(data_dir, config.audio)
    tokenizer = Tokenizer(config.text)
    external = config.model.aligner.kind == "external"
    train = TTSDataset(prepared.manifest("train"), prepared.features, tokenizer, external)
    val = TTSDataset(prepared.manifest("val"), prepared.features, tokenizer, external)
    stats = prepared.features.stats()
    return RunSpec(
        kind="acoustic",
        config=config,
        data=TrainData(train, val, collate_tts, train.lengths, val.lengths),
        build_model=lambda: build_tts_model(config, tokenizer.num_symbols, stats),
        sample_audio=griffin_lim_sample(config.audio),
        metadata={
            "symbols": tokenizer.state_dict(),
            "mel_stats": {"mean": stats.mean, "std": stats.std},
            "data": {"corpus": prepared.info.corpus, "data_dir": str(prepared.root.resolve())},
        },
        check_source=lambda payload: tokenizer.check_compatible(payload["symbols"]),
    )


def train_acoustic(
    config_path: str | Path,
    data_dir: str | Path,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    device: str = "auto",
    until_step: int | None = None,
) -> Position:
    """``tts-gen train``: trains (or resumes) an acoustic model run; returns the final position."""
    spec = acoustic_spec(load_experiment(config_path, overrides), data_dir)
    return train_run(spec, run_dir, device, until_step)
