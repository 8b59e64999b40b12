"""``tts-gen train``: an acoustic model run (shared encoder + aligner + one decoder family), through the one run
lifecycle of :mod:`tts_gen.train.run`."""

from __future__ import annotations

from pathlib import Path

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.config import ConfigError
from tts_gen.data.dataset import TTSDataset, collate_tts, manifest_durations
from tts_gen.data.features import MelStats
from tts_gen.data.prepared import PreparedData, open_prepared
from tts_gen.experiment import ExperimentConfig, build_tts_model, load_experiment
from tts_gen.models.tts import TTSModel
from tts_gen.spine import Spine, load_spine
from tts_gen.text import Tokenizer
from tts_gen.train.run import RunSpec, train_run
from tts_gen.train.trainer import Position, TrainData
from tts_gen.trainable import Sample


def griffin_lim_sample(audio: AudioConfig):
    """The trainer's ``sample_audio`` for acoustic models: the predicted mel through Griffin-Lim."""

    def sample_audio(sample: Sample):
        return griffin_lim(sample.predicted_mel, audio), audio.sample_rate

    return sample_audio


def check_spine(spine: Spine, config: ExperimentConfig) -> None:
    """A family trains on a spine whose encoder, audio and text settings equal its config's."""
    for name in ("model.encoder", "audio", "text"):
        ours, theirs = config, spine.config
        for part in name.split("."):
            ours, theirs = getattr(ours, part), getattr(theirs, part)
        if ours != theirs:
            raise ConfigError(f"the spine {spine.checkpoint} was trained with other {name} settings than this config")
    init = config.train
    if init.init_from and (not init.init_modules or "encoder" in init.init_modules):
        raise ConfigError("with a spine, train.init_from may only start the decoder (train.init_modules=[decoder])")


def stored_durations(
    config: ExperimentConfig, prepared: PreparedData, spine: Spine | None, tokenizer: Tokenizer
) -> dict | None:
    """Durations by utterance id: stored under the spine, external ones from the manifest, or none (MAS)."""
    if spine is not None:
        return prepared.stored_durations(spine.id)
    if config.model.aligner.kind == "external":
        return manifest_durations(prepared.manifest("train") + prepared.manifest("val"), tokenizer)
    return None


def acoustic_spec(config: ExperimentConfig, data_dir: str | Path) -> RunSpec:
    """The run of ``config`` on a prepared data folder (with the config's audio settings); with ``config.spine``,
    the decoder alone trains on the frozen spine and its stored durations."""
    prepared = open_prepared(data_dir, config.audio)
    tokenizer = Tokenizer(config.text)
    spine = load_spine(config.spine) if config.spine else None
    if spine is not None:
        check_spine(spine, config)
        tokenizer.check_compatible(spine.tokenizer.state_dict())
    durations = stored_durations(config, prepared, spine, tokenizer)
    train = TTSDataset(prepared.manifest("train"), prepared.features, tokenizer, durations)
    val = TTSDataset(prepared.manifest("val"), prepared.features, tokenizer, durations)
    stats = MelStats(**spine.payload["mel_stats"]) if spine else prepared.features.stats()

    def build_model() -> TTSModel:
        model = build_tts_model(config, tokenizer.num_symbols, stats)
        if spine is not None:
            model.encoder.load_state_dict(spine.model.encoder.state_dict())
            model.freeze_encoder()
        return model

    return RunSpec(
        kind="acoustic",
        config=config,
        data=TrainData(train, val, collate_tts, train.lengths, val.lengths),
        build_model=build_model,
        sample_audio=griffin_lim_sample(config.audio),
        metadata={
            "symbols": tokenizer.state_dict(),
            "mel_stats": {"mean": stats.mean, "std": stats.std},
            "data": {"corpus": prepared.info.corpus, "data_dir": str(prepared.root.resolve())},
            "spine": spine.describe() if spine else None,
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
