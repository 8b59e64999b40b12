"""The robustness set: sentences every family is tested on for skips, repeats and duration failures.

``data/robustness.txt`` (shipped with the package) holds long sentences, numbers, dates, money, times,
abbreviations, lists, questions, one-word and repeated-word sentences. They have no recordings: each is scored
by the recognizer (insertions = repeated or babbled words, deletions = skipped words) and by its durations,
flagged as an outlier when its speaking rate is more than ``rate_factor`` away from the median rate of the
reference recordings of the evaluated split, or when one token lasts longer than ``max_token_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


def robustness_sentences() -> list[str]:
    """The sentences of the robustness set, in file order."""
    text = resources.files("tts_gen.evaluate").joinpath("data/robustness.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class DurationCheck:
    """Speaking rate (tokens per second) and longest token (seconds) of one synthesis; ``outlier`` 0 or 1."""

    tokens_per_second: float
    max_token_seconds: float
    outlier: int


def duration_check(
    durations: list[int],
    frame_seconds: float,
    reference_rate: float,
    rate_factor: float = 2.0,
    max_token_seconds: float = 1.0,
) -> DurationCheck:
    """Checks token durations (frames) against the reference speaking rate (tokens per second)."""
    seconds = sum(durations) * frame_seconds
    rate = len(durations) / seconds if seconds > 0 else float("inf")
    longest = max(durations, default=0) * frame_seconds
    too_fast_or_slow = not (reference_rate / rate_factor <= rate <= reference_rate * rate_factor)
    return DurationCheck(rate, longest, int(too_fast_or_slow or longest > max_token_seconds))
