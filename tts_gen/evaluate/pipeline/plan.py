"""The plan of an evaluation: what ``tts-gen evaluate`` is asked to do and the syntheses it makes of it.

The types of the pipeline live here, so that the synthesis, scoring and summary modules share them without
importing each other.
"""

from __future__ import annotations

import typing
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_gen.evaluate.metrics.world import WorldConfig
from tts_gen.models.decoders.base import parse_option

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
        sweeps: option name -> values as text (converted to the option's type), each value one more condition
            (an option the family lacks is skipped); ``nfe`` sweeps network evaluations through ``steps``.
        sweep_utts: the sweep's conditions synthesize only the first N evaluated sentences (0 = all of them):
            a sweep's low-NFE points are noise that the recognizer is slowest on, and a curve needs fewer sentences
            than the headline does.
        choose: option name -> candidate values (text): before the test split, each candidate is scored on the
            first ``choose_utts`` validation sentences (of those within one standard error of the lowest ASR word
            error rate, the one of lowest mel L1; see :mod:`tts_gen.evaluate.pipeline.choice`) becomes the
            ``model`` condition's value (the operating point; empty = the run's defaults).
        learning_curve: also score every step checkpoint of the run on the first ``curve_utts`` test sentences
            (word error rate and mel L1), against training time and utterance passes.
        diversity_samples: samples per sentence for the diversity of stochastic families (< 2 = none).
        robustness_max: the first N robustness sentences (-1 = all).
        skip: metric groups not to compute, from :data:`SKIPPABLE`.
        transcript_cache: a file of ASR transcripts keyed by the audio's hash, shared by several evaluations
            (the recordings are then recognized once); empty = none.
    """

    checkpoint: str
    data_dir: str
    out_dir: str
    split: str = "test"
    vocoder: str = "griffin-lim"
    device: str = "cpu"
    max_utts: int = 0
    sweeps: dict[str, list[str]] = field(default_factory=dict)
    sweep_utts: int = 0
    seed: int = 1234
    length_scale: float = 1.0
    diversity_samples: int = 4
    robustness_max: int = -1
    skip: list[str] = field(default_factory=list)
    world: WorldConfig = field(default_factory=WorldConfig)
    choose: dict[str, list[str]] = field(default_factory=dict)
    choose_utts: int = 20
    learning_curve: bool = False
    curve_utts: int = 10
    transcript_cache: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.skip) - set(SKIPPABLE))
        if unknown:
            raise ValueError(f"cannot skip {', '.join(unknown)}; choose from: {', '.join(SKIPPABLE)}")
        if len(self.choose) > 1:
            raise ValueError(f"--choose takes one option, got {', '.join(self.choose)}")
        for name in ("max_utts", "sweep_utts", "choose_utts", "curve_utts"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        cache = Path(self.transcript_cache) if self.transcript_cache else None
        if cache is not None and (cache.is_dir() or (cache.exists() and not cache.is_file())):
            raise ValueError(f"--transcript-cache {cache} must be a file (it is created when missing), not a folder")


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


NFE = "nfe"  # the sweep over network evaluations, set through each family's ``steps``


def parse_sweep(options_class: type, family: str, name: str, values: list[str]) -> tuple[list[Any], str | None]:
    """Values of a sweep (text) converted to the option's type, or ([], note) when the family lacks the option."""
    hints = typing.get_type_hints(options_class)
    if name == NFE:
        if "steps" not in hints:
            return [], f"the {family} decoder has no step count; the {NFE} sweep was skipped"
        hints = {NFE: int}
    if name not in hints:
        have = ", ".join(hints) or "none"
        return [], f"the {family} decoder has no option '{name}' (its options: {have}); the {name} sweep was skipped"
    return [parse_option(hints[name], name, value) for value in values], None


def condition_name(name: str, value: Any) -> str:
    return f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
