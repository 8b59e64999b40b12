"""The one run lifecycle of tts_gen, for acoustic models and vocoders alike.

``train_run(spec, run_dir)``: refuse to resume a run folder with other settings, join the process group under
``torchrun``, seed, build the model, start it from another run's weights (``train.init_from``) when the folder
holds no checkpoint yet, save the resolved config, and hand everything to the :class:`Trainer`, which resumes
from the folder's latest checkpoint if there is one. What differs between kinds of runs (the datasets, the
model, what a checkpoint carries, how a sample is heard) comes in a :class:`RunSpec`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tts_gen.config import ConfigError, load_yaml, save_config, to_dict
from tts_gen.runs import latest_checkpoint, load_run_checkpoint
from tts_gen.train.distributed import setup_distributed
from tts_gen.train.state import load_submodules
from tts_gen.train.trainer import Position, TrainData, Trainer
from tts_gen.trainable import Sample, Trainable

# Settings that may change when a run is resumed: they do not change what the model learns from.
RESUMABLE_CHANGES = {
    "train.max_steps",
    "train.max_minutes",
    "train.keep_every",
    "train.log_every",
    "train.val_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_last",
    "train.num_workers",
    "train.val_max_batches",
    "train.compile",
    "model.decoder.sampling",  # and the options under it: sampling defaults do not touch training
}


@dataclass
class RunSpec:
    """What one kind of run brings to the lifecycle.

    Attributes:
        kind: ``acoustic`` or ``vocoder``: written into every checkpoint; a warm start must come from the same kind.
        config: the resolved run config (a dataclass with ``train`` and ``audio`` sections).
        data: training and validation datasets.
        build_model: makes the model (called after seeding, so initial weights follow ``train.seed``).
        sample_audio: turns a validation :class:`Sample` into (audio (T,), sample_rate) for the logs.
        metadata: what every checkpoint carries besides its kind, config and training state.
        check_source: further checks of a warm start's checkpoint payload (the audio settings are always checked).
    """

    kind: str
    config: Any
    data: TrainData
    build_model: Callable[[], Trainable]
    sample_audio: Callable[[Sample], tuple[torch.Tensor, int]]
    metadata: dict[str, Any] = field(default_factory=dict)
    check_source: Callable[[dict[str, Any]], None] = lambda payload: None


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


def warm_start(model: torch.nn.Module, spec: RunSpec, verbose: bool = True) -> None:
    """Initialises ``train.init_modules`` of a new run's model (every submodule when empty) from the run or
    checkpoint ``train.init_from``, which must be of the same kind and audio settings; EMA weights when it has them."""
    train = spec.config.train
    payload = load_run_checkpoint(train.init_from, spec.kind)
    if payload["config"].get("audio") != to_dict(spec.config.audio):
        raise ConfigError(f"train.init_from {train.init_from} was trained with other audio settings")
    spec.check_source(payload)
    copied = load_submodules(model, payload["ema"] or payload["model"], train.init_modules)
    if verbose:
        modules = ", ".join(train.init_modules) or "every module"
        print(f"initialised {modules} ({copied} tensors) from {train.init_from} at step {payload['step']}")


def train_run(spec: RunSpec, run_dir: str | Path, device: str = "auto", until_step: int | None = None) -> Position:
    """Trains (or resumes) the run of ``spec`` in ``run_dir``; returns the final position."""
    run_dir = Path(run_dir)
    check_resumable(run_dir, spec.config)
    context = setup_distributed(device)
    torch.manual_seed(spec.config.train.seed)
    model = spec.build_model()
    if spec.config.train.init_from and latest_checkpoint(run_dir) is None:
        warm_start(model, spec, context.is_main)
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(spec.config, run_dir / "config.yaml")
    metadata = {"kind": spec.kind, "config": to_dict(spec.config), **spec.metadata}
    trainer = Trainer(model, spec.config.train, spec.data, run_dir, metadata, spec.sample_audio, context)
    return trainer.fit(until_step)
