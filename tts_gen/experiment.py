"""Acoustic-model experiments: the config of a run and ``tts-gen train``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.config import ConfigError, from_dict, load_config, load_yaml, save_config, to_dict
from tts_gen.data.dataset import TTSDataset, collate_tts
from tts_gen.data.features import FeatureStore, feature_key
from tts_gen.data.manifest import read_prepared_info
from tts_gen.models.tts import TTSConfig, TTSModel
from tts_gen.text import TextConfig, Tokenizer
from tts_gen.train.checkpoint import latest_checkpoint, load_checkpoint, load_submodules, resolve_checkpoint
from tts_gen.train.config import TrainConfig
from tts_gen.train.interface import Sample

# Settings that may change when a run is resumed: they do not change what the model learns from.
RESUMABLE_CHANGES = {
    "train.max_steps",
    "train.log_every",
    "train.val_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_last",
    "train.num_workers",
    "train.val_max_batches",
    "model.decoder.sampling",  # and the options under it: sampling defaults do not touch training
}


@dataclass
class ExperimentConfig:
    """Everything that defines an acoustic model run (``egs/*/<family>.yaml``)."""

    model: TTSConfig
    audio: AudioConfig = field(default_factory=AudioConfig)
    text: TextConfig = field(default_factory=TextConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    return load_config(ExperimentConfig, path, overrides)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {"a.b.c": value}."""
    if not isinstance(data, dict):
        return {prefix: data}
    flat = {}
    for key, value in data.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return flat


def check_resumable(run_dir: Path, config: Any) -> None:
    """A run folder that already holds a config may only be resumed with the same settings."""
    saved_path = run_dir / "config.yaml"
    if not saved_path.is_file():
        return
    saved, current = flatten(load_yaml(saved_path)), flatten(to_dict(config))
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    changed = [k for k in changed if not any(k == r or k.startswith(f"{r}.") for r in RESUMABLE_CHANGES)]
    if changed:
        raise ConfigError(
            f"{run_dir} holds a run with other settings ({', '.join(changed[:5])}); "
            "resume it with the same config or choose a new --out folder"
        )


def build_tts_model(config: ExperimentConfig, num_symbols: int, stats=None) -> TTSModel:
    return TTSModel(config.model, num_symbols, config.audio.n_mels, stats)


def griffin_lim_sample(audio: AudioConfig):
    def sample_audio(sample: Sample):
        return griffin_lim(sample.predicted_mel, audio), audio.sample_rate

    return sample_audio


def acoustic_datasets(config: ExperimentConfig, data_dir: Path, tokenizer: Tokenizer):
    """Train and validation datasets of a prepared data folder, checked against the experiment's audio."""
    from tts_gen.train.trainer import TrainData

    info = read_prepared_info(data_dir)
    if info.feature_key != feature_key(config.audio):
        raise ConfigError(
            f"{data_dir} was prepared with other audio settings than the config's; run "
            f"`tts-gen data prepare --config CONFIG.yaml` into a new data folder"
        )
    store = FeatureStore(data_dir, config.audio)
    external = config.model.aligner.kind == "external"
    train = TTSDataset.from_split(data_dir, "train", store, tokenizer, external)
    val = TTSDataset.from_split(data_dir, "val", store, tokenizer, external)
    return TrainData(train, val, collate_tts, train.lengths, val.lengths), store.stats(), info


def train_acoustic(
    config_path: str | Path,
    data_dir: str | Path,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    device: str = "auto",
    until_step: int | None = None,
):
    """``tts-gen train``: trains (or resumes) an acoustic model run; returns the final position."""
    import torch

    from tts_gen.train.distributed import setup_distributed
    from tts_gen.train.trainer import Trainer

    config = load_experiment(config_path, overrides)
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    check_resumable(run_dir, config)
    context = setup_distributed(device)
    tokenizer = Tokenizer(config.text)
    data, stats, info = acoustic_datasets(config, data_dir, tokenizer)
    torch.manual_seed(config.train.seed)
    model = build_tts_model(config, tokenizer.num_symbols, stats)
    if config.train.init_from and latest_checkpoint(run_dir) is None:
        warm_start(model, config, tokenizer, context.is_main)
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
    metadata = {
        "kind": "acoustic",
        "config": to_dict(config),
        "symbols": tokenizer.state_dict(),
        "mel_stats": {"mean": stats.mean, "std": stats.std},
        "data": {"corpus": info.corpus, "data_dir": str(data_dir.resolve())},
    }
    trainer = Trainer(model, config.train, data, run_dir, metadata, griffin_lim_sample(config.audio), context)
    return trainer.fit(until_step)


def warm_start(model: TTSModel, config: ExperimentConfig, tokenizer: Tokenizer, verbose: bool = True) -> None:
    """Initialises ``train.init_modules`` of a new run from ``train.init_from`` (same symbols and audio)."""
    payload = load_checkpoint(resolve_checkpoint(config.train.init_from))
    source = config_from_checkpoint(payload)
    if source.audio != config.audio:
        raise ConfigError(f"train.init_from {config.train.init_from} was trained with other audio settings")
    tokenizer.check_compatible(payload["symbols"])
    weights = payload["ema"] or payload["model"]
    copied = load_submodules(model, weights, config.train.init_modules)
    if verbose:
        modules = ", ".join(config.train.init_modules) or "every module"
        print(f"initialised {modules} ({copied} tensors) from {config.train.init_from} at step {payload['step']}")


def config_from_checkpoint(payload: dict) -> ExperimentConfig:
    return from_dict(ExperimentConfig, payload["config"])
