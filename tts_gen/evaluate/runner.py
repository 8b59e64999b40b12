"""``tts-gen evaluate``: synthesize a split's sentences with a trained model and score them.

Conditions (one row per condition and utterance in ``utterances.jsonl``):

* ``reference``: the recordings themselves (ASR and DNSMOS ceilings);
* ``copy-synthesis``: the recordings' mels through the same vocoder (the vocoder's own error);
* ``model``: text -> mel -> vocoder with the family's default options; plus per test sentence the mel-L1 of a
  mel generated with the aligner's durations, the model's loss terms (likelihood where it has one) and, for
  families with a ``temperature``, the diversity of several samples;
* one condition per sweep value (``steps=4``, ``temperature=0.3``...): quality against speed;
* ``robustness``: the shared robustness sentences (no recordings): ASR insertions/deletions, duration outliers.

Work happens in two resumable phases: synthesis (model and vocoder only, so timings and memory are not
disturbed by the metric models), then scoring. See :mod:`tts_gen.evaluate.store` for the folder layout.
"""

from __future__ import annotations

import typing
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tts_gen.evaluate.world import WorldConfig

SKIPPABLE = ("asr", "dnsmos", "world", "diversity", "likelihood", "robustness", "copy-synthesis")


@dataclass
class EvaluationConfig:
    """What ``tts-gen evaluate`` does.

    Attributes:
        checkpoint: run folder (its best checkpoint) or checkpoint file of an acoustic model.
        data_dir: prepared data folder; split: its manifest to evaluate (``test``).
        out_dir: the evaluation folder (an existing one is resumed).
        vocoder: ``griffin-lim`` or a vocoder run folder / checkpoint.
        max_utts: the first N utterances of the split (0 = all).
        sweeps: option name -> values, each value one more condition (an option the family lacks is skipped).
        diversity_samples: samples per sentence for the diversity of stochastic families (< 2 = none).
        robustness_max: the first N robustness sentences (-1 = all).
        skip: metric groups not to compute, from :data:`SKIPPABLE`.
    """

    checkpoint: str
    data_dir: str
    out_dir: str
    split: str = "test"
    vocoder: str = "griffin-lim"
    device: str = "cpu"
    max_utts: int = 0
    sweeps: dict[str, list[float]] = field(default_factory=dict)
    seed: int = 1234
    length_scale: float = 1.0
    diversity_samples: int = 4
    robustness_max: int = -1
    skip: list[str] = field(default_factory=list)
    world: WorldConfig = field(default_factory=WorldConfig)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.skip) - set(SKIPPABLE))
        if unknown:
            raise ValueError(f"cannot skip {', '.join(unknown)}; choose from: {', '.join(SKIPPABLE)}")


@dataclass
class Job:
    """One synthesis to do: ``condition`` x ``set`` x utterance ``id``, with its tokens and decoder options."""

    condition: str
    set: str
    id: str
    text: str
    tokens: list[int]
    options: dict[str, Any]
    index: int = -1  # position in the evaluated split (test set), -1 for robustness sentences

    @property
    def key(self) -> tuple[str, str, str]:
        return self.condition, self.set, self.id


def seed_for(seed: int, *parts: Any) -> int:
    """A stable seed for one synthesis, independent of the order in which jobs run."""
    return zlib.crc32("|".join(str(p) for p in (seed, *parts)).encode()) & 0x7FFFFFFF


def parse_sweep(options_class: type, family: str, name: str, values: list[float]) -> tuple[list[Any], str | None]:
    """Values of a sweep converted to the option's type, or ([], note) when the family lacks the option."""
    hints = typing.get_type_hints(options_class)
    if name not in hints:
        have = ", ".join(hints) or "none"
        return [], f"the {family} decoder has no option '{name}' (its options: {have}); the {name} sweep was skipped"
    kind = hints[name]
    converted = []
    for value in values:
        if kind is int and float(value) != int(value):
            raise ValueError(f"the {name} sweep needs whole numbers, got {value}")
        converted.append(int(value) if kind is int else float(value))
    return converted, None


def condition_name(name: str, value: Any) -> str:
    return f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"


def checkpoint_run_dir(checkpoint: Path) -> str | None:
    """The run folder a checkpoint belongs to (for its training metrics), if it has one."""
    if checkpoint.parent.name == "checkpoints" and (checkpoint.parent.parent / "config.yaml").is_file():
        return str(checkpoint.parent.parent.resolve())
    return None


def evaluate(config: EvaluationConfig, progress: bool = True) -> dict:
    """Runs (or resumes) an evaluation; returns the summary also written to ``summary.json``."""
    from tts_gen.evaluate.scoring import Scorer
    from tts_gen.evaluate.summary import write_summary
    from tts_gen.evaluate.synthesis import Evaluator

    evaluator = Evaluator(config)
    notes = list(evaluator.notes)
    complete = False
    try:
        evaluator.run_synthesis(progress)
        Scorer(evaluator).run(progress)
        complete = True
    finally:
        summary = write_summary(evaluator, notes, complete)
    return summary
