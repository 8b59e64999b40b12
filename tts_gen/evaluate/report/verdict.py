"""What a comparison found, in words: which families differ significantly on which measure, and which do not.

Every pair of families is compared on the sentences both have (paired Wilcoxon signed-rank test, Holm's
adjustment over the pairs of each measure). The verdict names each significant difference with its size and
interval, says plainly when a measure separates no pair, and states the budget and corpus it holds for. It also
refuses to compare runs of different spines unless asked to, and flags timings that disagree with the others'.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

from tts_gen.errors import TTSGenError
from tts_gen.evaluate.metrics.catalogue import metric
from tts_gen.evaluate.metrics.stats import PairedTest, holm, paired_test
from tts_gen.evaluate.report.entries import Entry

TESTED = ("wer", "cer", "mel_l1", "mcd_db", "log_f0_rmse", "vuv_error", "dnsmos_ovrl", "nll")
ALPHA = 0.05


class MixedSpines(TTSGenError):
    """Runs trained on different spines (or in the joint protocol) were put in one table without being allowed."""


@dataclass
class PairResult:
    """One metric, one pair of families (a minus b)."""

    key: str
    a: Entry
    b: Entry
    test: PairedTest

    @property
    def significant(self) -> bool:
        return math.isfinite(self.test.p_adjusted) and self.test.p_adjusted < ALPHA


def pairwise(evaluated: list[Entry]) -> list[PairResult]:
    """Every pair on every tested metric that both have, with Holm-adjusted p-values per metric; a metric in its
    family's own units (the likelihood) only between runs of one family."""
    results = []
    for key in TESTED:
        pairs = [pair for pair in itertools.combinations(evaluated, 2) if comparable(key, *pair)]
        if not pairs:
            continue
        tests = [paired_test(a.scores("model", key), b.scores("model", key)) for a, b in pairs]
        if not any(test.n for test in tests):
            continue
        for (a, b), test, adjusted in zip(pairs, tests, holm([t.p_value for t in tests])):
            test.p_adjusted = adjusted
            results.append(PairResult(key, a, b, test))
    return results


def comparable(key: str, a: Entry, b: Entry) -> bool:
    """Whether ``key`` can be compared between ``a`` and ``b``: a likelihood's units are its family's own (a flow's
    exact NLL and a VAE's bound are different quantities)."""
    return metric(key).unit != "family units" or a.family == b.family


def spine_of(entry: Entry) -> str:
    """The id of the spine a run used: the one it trained on, or its own encoder (the spine run itself, or a run
    of the joint protocol)."""
    spine = entry.info.get("spine")
    return spine["id"] if spine else f"unknown ({entry.label})"


def check_spines(entries: list[Entry], allow_mixed: bool) -> None:
    """All runs of one report share one spine, unless ``allow_mixed``."""
    spines = {spine_of(entry) for entry in entries}
    if len(spines) > 1 and not allow_mixed:
        listed = "; ".join(f"{entry.label}: {spine_of(entry)}" for entry in entries)
        raise MixedSpines(
            f"these runs do not share one spine ({listed}), so their differences are not their decoders' alone; "
            "compare runs of one spine, or pass --allow-mixed-spines to put them in one marked table"
        )


def protocol_text(entries: list[Entry], mixed: bool) -> str:
    spines = {spine_of(entry) for entry in entries}
    shared = [e.info["spine"] for e in entries if e.info.get("spine") and not e.info["spine"].get("own")]
    if len(spines) == 1 and shared:
        spine = shared[0]
        return (
            f"**Protocol.** Shared spine {spine['id']} ({spine.get('family')} run, step {spine.get('step')}): every "
            "family trained its decoder alone on the same frozen text encoder, duration predictor and stored "
            "durations, so that for the same text they all get the same durations and condition, and their "
            "differences are their decoders'."
        )
    return (
        "**Protocol: mixed spines.** These runs do not share one spine (each family trained its own encoder and "
        "durations, or they come from different spines): differences between them are not their decoders' alone."
        + (" (Shown because --allow-mixed-spines was given.)" if mixed else "")
    )


def allowed_budget(budget: dict) -> str:
    """The training budget a run was given, in words (older evaluations: the steps of the evaluated checkpoint)."""
    steps, minutes = budget.get("max_steps", budget.get("steps")), budget.get("max_minutes") or 0
    limits = ([f"{steps} steps"] if steps else []) + ([f"{minutes:g} minutes"] if minutes else [])
    return f"{' or '.join(limits)} of training, batches of {budget.get('batch_size')} utterances"


def budget_text(evaluated: list[Entry]) -> str:
    """The budgets, stated: the decoders' (equal or not), then the spine run's own when it is in the table."""
    spines = [e for e in evaluated if (e.info.get("spine") or {}).get("own")]
    decoders = [e for e in evaluated if e not in spines] or spines
    budgets = {allowed_budget(e.info.get("budget", {})) for e in decoders}
    if len(budgets) == 1:
        text = f"an equal budget of {next(iter(budgets))}"
    else:
        text = "unequal budgets (see the table)"
    if spines and decoders is not spines:
        own = spines[0].info.get("budget", {})
        text += (
            f" for each decoder on the spine ({spines[0].label}: {own.get('steps')} steps of {own.get('batch_size')})"
        )
    return text


def ratio_to_recordings(entry: Entry, key: str = "wer") -> float | None:
    """The entry's mean ``key`` over the recordings' own on the same sentences."""
    model, reference = mean_of(entry, "model", key), mean_of(entry, "reference", key)
    if model is None or not reference:
        return None
    return model / reference


def mean_of(entry: Entry, condition: str, key: str = "wer") -> float | None:
    return (entry.condition(condition) or {}).get("metrics", {}).get(key, {}).get("mean")


def intelligibility(evaluated: list[Entry]) -> list[str]:
    """The word error rate of each family beside the recordings' own on the same sentences (and their ratio when
    the recordings' is above zero), most intelligible first."""
    rates = [(entry, mean_of(entry, "model")) for entry in evaluated]
    rates = sorted(((entry, rate) for entry, rate in rates if rate is not None), key=lambda pair: pair[1])
    if not rates:
        return []
    recordings = mean_of(rates[0][0], "reference")
    listed = ", ".join(
        f"{entry.label} {rate:.3f}" + (f" ({ratio:.2f}x)" if (ratio := ratio_to_recordings(entry)) is not None else "")
        for entry, rate in rates
    )
    own = f"{recordings:.3f}" if recordings is not None else "not measured"
    return [f"word error rate (the recordings' own on the same sentences: {own}): {listed}; "
            f"the most intelligible is {rates[0][0].label}."]  # fmt: skip


def describe_difference(result: PairResult) -> str:
    info, test = metric(result.key), result.test
    a_better = (test.mean_difference < 0) == (info.better < 0)
    better, worse = (result.a, result.b) if a_better else (result.b, result.a)
    low, high = sorted((abs(test.low), abs(test.high)))  # the interval of |difference|: both ends share its sign
    return (
        f"{better.label} beats {worse.label} on {info.label} by {abs(test.mean_difference):.3g} {info.unit} "
        f"(95% interval [{low:.3g}, {high:.3g}], p = {test.p_adjusted:.2g} after Holm)"
    )


def verdict(evaluated: list[Entry], results: list[PairResult]) -> list[str]:
    """The verdict's sentences (Markdown)."""
    corpora = sorted({entry.info.get("corpus", "?") for entry in evaluated})
    n = min((entry.info.get("utterances", 0) for entry in evaluated), default=0)
    lines = [
        f"On {', '.join(corpora)} ({n} test sentences), after {budget_text(evaluated)} per family:",
    ]
    lines += intelligibility(evaluated)
    significant = [r for r in results if r.significant]
    if len(evaluated) < 2:
        lines.append("one family only: nothing to compare.")
    elif not significant:
        tested = sorted({metric(r.key).label for r in results})
        lines.append(
            f"**no pair of families differs significantly** on any measure ({', '.join(tested)}): with these "
            "sentences and this budget the comparison does not separate them."
        )
    else:
        lines += [f"- {describe_difference(result)};" for result in significant]
        quiet = sorted({metric(r.key).label for r in results} - {metric(r.key).label for r in significant})
        if quiet:
            lines.append(f"no pair differs significantly on {', '.join(quiet)}.")
    lines += solver_parity(evaluated) + timing_warnings(evaluated)
    return lines


SOLVER_ORDER = {"euler": 1, "midpoint": 2, "dpm_solver_2m": 2, "sde": 1}


def solver_parity(evaluated: list[Entry]) -> list[str]:
    """The families that sample step by step (diffusion, flow matching) compare fairly only at equal network
    evaluations and equal solver order: say whether they do."""
    iterative = {
        entry.label: (SOLVER_ORDER.get(sampling.get("sampler")), sampling.get("nfe"), sampling.get("sampler"))
        for entry in evaluated
        if (sampling := entry.info.get("sampling", {})).get("nfe") not in (None, 1)
    }
    if len(iterative) < 2:
        return []
    described = ", ".join(f"{label} {sampler} at {nfe} NFE" for label, (_, nfe, sampler) in iterative.items())
    equal = len({(order, nfe) for order, nfe, _ in iterative.values()}) == 1
    claim = "are compared" if equal else "**are not compared**"
    return [
        f"the families that sample step by step {claim} at equal network evaluations and solver order ({described})."
    ]


def vocoder_rtf(entry: Entry) -> float | None:
    return (entry.condition("model") or {}).get("metrics", {}).get("rtf_vocoder", {}).get("mean")


def unreliable_timings(evaluated: list[Entry], factor: float = 2.0) -> set[str]:
    """Labels of entries whose vocoder timing is ``factor`` away from the median of the others with the same
    vocoder: the vocoder is the same, so the difference is the machine's, not the family's."""
    flagged = set()
    by_vocoder: dict[str, list[Entry]] = {}
    for entry in evaluated:
        by_vocoder.setdefault(entry.info.get("vocoder", ""), []).append(entry)
    for group in by_vocoder.values():
        rtfs = {entry.label: vocoder_rtf(entry) for entry in group if vocoder_rtf(entry)}
        if len(rtfs) < 3:
            continue
        median = statistics.median(rtfs.values())
        flagged |= {label for label, rtf in rtfs.items() if not median / factor <= rtf <= median * factor}
    return flagged


def timing_warnings(evaluated: list[Entry]) -> list[str]:
    flagged = unreliable_timings(evaluated)
    if not flagged:
        return []
    loads = [
        f"{entry.label} {entry.info.get('load_average', {}).get('before', float('nan')):.1f}" for entry in evaluated
    ]
    return [
        f"**Timing warning:** the same vocoder ran at very different speeds for {', '.join(sorted(flagged))}: those "
        f"speed figures reflect the machine's load at the time (load averages when timing began: {', '.join(loads)}), "
        "not the families; time them again on a quiet machine."
    ]
