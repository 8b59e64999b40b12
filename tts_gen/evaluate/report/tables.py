"""The tables of the comparison report: the headline (quality, speed, cost, sampling), the budgets, the operating
points, every metric, the paired tests, robustness, cost and training losses."""

from __future__ import annotations

import math

from tts_gen.evaluate.metrics.asr import EDGE_WORDS, POSITIONS, errors_by_position
from tts_gen.evaluate.metrics.catalogue import CATALOGUE, metric
from tts_gen.evaluate.report.entries import Entry, ceiling_entry
from tts_gen.evaluate.report.render import Cell, Table
from tts_gen.evaluate.report.verdict import PairResult, ratio_to_recordings, spine_of

HEADLINE = ("wer", "cer", "mel_l1", "mcd_db")


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def estimate_text(value: dict | None) -> str:
    if not value or value.get("mean") is None:
        return "—"
    if value.get("low") is None or value.get("low") == value.get("high"):
        return fmt(value["mean"])
    return f"{fmt(value['mean'])} [{fmt(value['low'])}, {fmt(value['high'])}]"


def metric_table(evaluated: list[Entry]) -> Table:
    """Rows = metrics, columns = families (``model`` condition) then the ceilings (recordings, copy-synthesis)."""
    ceilings = [
        (name, entry.condition(name))
        for name in ("reference", "copy-synthesis")
        if (entry := ceiling_entry(evaluated, name)) is not None
    ]
    keys = [m.key for m in CATALOGUE] + sorted(
        {k for e in evaluated for k in (e.condition("model") or {}).get("metrics", {}) if k.startswith("loss/")}
    )
    names = {"reference": "recordings (ceiling)", "copy-synthesis": "copy-synthesis (ceiling)"}
    header = ["metric"] + [e.label for e in evaluated] + [names[name] for name, _ in ceilings]
    rows = []
    for key in keys:
        values = [(e.condition("model") or {}).get("metrics", {}).get(key) for e in evaluated]
        ceiling_values = [c["metrics"].get(key) for _, c in ceilings]
        if not any(v and v.get("mean") is not None for v in values + ceiling_values):
            continue
        info = metric(key)
        means = [v["mean"] if v and v.get("mean") is not None else None for v in values]
        finite = [m for m in means if m is not None]
        best = (
            (min(finite) if info.better < 0 else max(finite)) if finite and info.better and len(evaluated) > 1 else None
        )
        label = f"{info.label} ({info.unit})" + ("" if info.aggregate == "mean" else f", {info.aggregate}")
        cells = [Cell(label)] + [
            Cell(estimate_text(v), bold=best is not None and m == best) for v, m in zip(values, means)
        ]
        rows.append(cells + [Cell(estimate_text(v)) for v in ceiling_values])
    caption = (
        "Mean [95% bootstrap interval] over the test sentences; best family in bold. Ceilings: the recordings "
        "themselves, and their mels through the same vocoder (the vocoder's share of the error)."
    )
    return Table(header, rows, caption)


def robustness_table(evaluated: list[Entry]) -> Table:
    rows = []
    for entry in evaluated:
        totals = entry.summary.get("robustness", {})
        wer = (entry.condition("robustness") or {}).get("metrics", {}).get("wer")
        rows.append(
            [Cell(entry.label), Cell(str(totals.get("sentences", 0))), Cell(estimate_text(wer))]
            + [
                Cell(str(totals.get(k, 0)))
                for k in ("reference_words", "word_insertions", "word_deletions", "duration_outliers")
            ]
        )
    header = ["family", "sentences", "WER", "words", "inserted (repeats)", "deleted (skips)", "duration outliers"]
    return Table(header, rows, "The shared robustness set (long sentences, numbers, abbreviations, lists, questions).")


def position_errors(entry: Entry, condition: str) -> tuple[dict[str, float], int]:
    """Word error rate of each position of the sentence (:data:`POSITIONS`), pooled over ``condition``'s test
    sentences of at least ``2 * EDGE_WORDS + 1`` words, and how many sentences that is."""
    totals = {position: [0, 0] for position in POSITIONS}
    sentences = 0
    for row in entry.rows:
        if row["condition"] != condition or row["set"] != "test" or row.get("asr_hypothesis") is None:
            continue
        counted = errors_by_position(row["text"], row["asr_hypothesis"])
        sentences += bool(counted)
        for position, (errors, words) in counted.items():
            totals[position][0] += errors
            totals[position][1] += words
    return {position: errors / words for position, (errors, words) in totals.items() if words}, sentences


def position_table(evaluated: list[Entry]) -> Table | None:
    """Where the words are lost: the word error rate of the first words, the words inside and the last words of
    the sentence, for each family and for the recordings (None when no sentence was recognized)."""
    systems = [(entry.label, entry, "model") for entry in evaluated]
    recordings = ceiling_entry(evaluated, "reference")
    if recordings is not None:
        systems.append(("recordings", recordings, "reference"))
    rows, counted = [], 0
    for label, entry, condition in systems:
        rates, sentences = position_errors(entry, condition)
        if rates:
            rows.append([Cell(label)] + [Cell(fmt(rates.get(position))) for position in POSITIONS])
            counted = max(counted, sentences)
    if not rows:
        return None
    caption = (
        f"Word error rate by position in the sentence, pooled over the {counted} test sentences of at least "
        f"{2 * EDGE_WORDS + 1} words: the first {EDGE_WORDS} words, the words between, and the last {EDGE_WORDS}. A "
        "word counts a substitution or deletion of itself and every word inserted just before it. A family far "
        "above the recordings at one end only has a problem there (silence, the first or last phoneme), not "
        "throughout."
    )
    return Table(["system", f"first {EDGE_WORDS} words", "inside", f"last {EDGE_WORDS} words"], rows, caption)


def cost_table(evaluated: list[Entry]) -> Table:
    rows = []
    for entry in evaluated:
        metrics = (entry.condition("model") or {}).get("metrics", {})
        kind = next((r.get("memory_kind") for r in entry.rows if r.get("memory_kind")), "—")
        rows.append(
            [
                Cell(entry.label),
                Cell(f"{entry.info.get('parameters', 0):,}"),
                Cell(f"{entry.info.get('vocoder_parameters', 0):,}"),
            ]
            + [Cell(estimate_text(metrics.get(k))) for k in ("rtf_acoustic", "rtf_vocoder", "rtf_total")]
            + [
                Cell(fmt(metrics.get("peak_memory_mb", {}).get("mean"))),
                Cell(kind),
                Cell(entry.info.get("device", "—")),
            ]
        )
    header = [
        "family",
        "parameters",
        "vocoder parameters",
        "RTF acoustic",
        "RTF vocoder",
        "RTF total",
        "peak memory (MiB)",
        "memory measured",
        "device",
    ]
    return Table(header, rows, "Speed (seconds of computation per second of audio) and memory of one synthesis.")


def training_table(entries: list[Entry]) -> Table:
    rows = []
    for entry in entries:
        train = [r for r in entry.training if r.get("split") == "train"]
        val = [r for r in entry.training if r.get("split") == "val"]
        last_val = val[-1] if val else {}
        terms = ", ".join(f"{k} {fmt(v)}" for k, v in last_val.items() if k not in ("split", "step", "loss"))
        rows.append(
            [
                Cell(entry.label),
                Cell(str(train[-1]["step"]) if train else "—"),
                Cell(fmt(train[-1].get("loss")) if train else "—"),
                Cell(fmt(min(r["loss"] for r in val)) if val else "—"),
                Cell(fmt(last_val.get("loss"))),
                Cell(terms or "—"),
            ]
        )
    return Table(
        ["run", "last step", "last train loss", "best val loss", "last val loss", "last val terms"],
        rows,
        "Training losses from each run's metrics.jsonl.",
    )


def model_metrics(entry: Entry) -> dict:
    return (entry.condition("model") or {}).get("metrics", {})


def sampling_text(entry: Entry) -> str:
    sampling = entry.info.get("sampling", {})
    nfe = sampling.get("nfe")
    evaluations = "one step per r frames" if nfe is None else f"{nfe} NFE"
    return f"{sampling.get('sampler', '—')}, {evaluations}"


def operating_point_text(entry: Entry) -> str:
    chosen = entry.info.get("chosen") or {}
    if chosen:
        return ", ".join(f"{name} {value:g} (chosen on val)" for name, value in chosen.items())
    options = entry.info.get("options", {})
    return f"temperature {options['temperature']:g}" if "temperature" in options else "—"


def headline_table(evaluated: list[Entry], flagged: set[str]) -> Table:
    """One row per family: intelligibility, mel distance, speed, memory, parameters, sampler and NFE (a metric no
    family has, skipped at evaluation, gets no column)."""
    means = {key: [model_metrics(e).get(key, {}).get("mean") for e in evaluated] for key in HEADLINE}
    keys = [key for key in HEADLINE if any(m is not None for m in means[key])]
    best = {key: min(m for m in means[key] if m is not None) for key in keys}
    header = ["family", *[metric(k).label for k in keys], "WER / recordings'", "RTF total", "peak memory (MiB)"]
    header += ["parameters", "sampler", "operating point"]
    rows = []
    for index, entry in enumerate(evaluated):
        metrics = model_metrics(entry)
        ratio = ratio_to_recordings(entry)
        rtf = estimate_text(metrics.get("rtf_total")) + (" (timing unreliable)" if entry.label in flagged else "")
        rows.append(
            [Cell(entry.label)]
            + [
                Cell(estimate_text(metrics.get(k)), bold=means[k][index] == best[k] and len(evaluated) > 1)
                for k in keys
            ]
            + [Cell(f"{ratio:.2f}x" if ratio is not None else "—"), Cell(rtf)]
            + [Cell(fmt(metrics.get("peak_memory_mb", {}).get("mean"))), Cell(f"{entry.info.get('parameters', 0):,}")]
            + [Cell(sampling_text(entry)), Cell(operating_point_text(entry))]
        )
    for name, label in (("reference", "recordings"), ("copy-synthesis", "copy-synthesis")):
        entry = ceiling_entry(evaluated, name)
        metrics = entry.condition(name).get("metrics", {}) if entry else {}
        if metrics:
            cells = [Cell(label)] + [Cell(estimate_text(metrics.get(k))) for k in keys]
            rows.append(cells + [Cell("")] * (len(header) - len(cells)))
    caption = (
        "Mean [95% bootstrap interval] over the test sentences (best family in bold; lower is better). WER / "
        "recordings': the family's word error rate over the recordings' own on the same sentences. RTF: seconds of "
        "computation per second of audio, after a warm-up. NFE: network evaluations of the decoder per sample."
    )
    return Table(header, rows, caption)


def steps_text(budget: dict) -> str:
    """The evaluated checkpoint's step, and the run's budget of steps when it is another number."""
    steps, allowed = budget.get("steps"), budget.get("max_steps")
    if steps is None:
        return "—"
    return f"{steps} of {allowed}" if allowed and allowed != steps else str(steps)  # 0: no step limit


def device_text(device: dict) -> str:
    """Where a run trained, from its checkpoint's hardware record: the GPU, or the CPU, its threads and the
    instruction set of torch's kernels (which decides the last digits of a CPU run)."""
    if not device:
        return "—"
    if device.get("gpu"):
        return device["gpu"]
    kernels = f", {device['cpu_kernels']}" if device.get("cpu_kernels") else ""
    return f"{device.get('cpu', '?')} x{device.get('torch_threads', '?')}{kernels}"


def budget_table(evaluated: list[Entry]) -> Table:
    """What each family spent and how it trained: the budget its row of the headline holds for."""
    header = ["family", "steps", "batch", "utterance passes", "minutes", "trained on", "learning rate"]
    header += ["loss window", "best checkpoint chosen on", "spine"]
    rows = []
    for entry in evaluated:
        budget = entry.info.get("budget", {})
        device = budget.get("device") or {}
        where = device_text(device)
        chosen = budget.get("best_metric")
        best = f"{chosen} = {fmt(budget.get('best_value'))}" if chosen else "—"
        rows.append(
            [Cell(entry.label), Cell(steps_text(budget)), Cell(str(budget.get("batch_size", "—")))]
            + [Cell(f"{budget['utterances']:,}" if budget.get("utterances") else "—"), Cell(fmt(budget.get("minutes")))]
            + [Cell(where), Cell(fmt(budget.get("learning_rate"))), Cell(budget.get("loss_window", "—")), Cell(best)]
            + [Cell(spine_of(entry))]
        )
    caption = (
        "Training budget of each row: optimizer steps of the evaluated checkpoint (of the run's budget) and their "
        "batch, utterances seen, minutes spent training (data loading and steps), where, the learning rate, what "
        "the loss was computed on, and the validation measure best.pt was chosen on (the same for every family)."
    )
    return Table(header, rows, caption)


def choice_table(evaluated: list[Entry]) -> Table | None:
    """The operating points chosen on the validation split, with every candidate's scores."""
    rows = []
    for entry in evaluated:
        choice = entry.info.get("choice")
        if not choice:
            continue
        scores = "; ".join(
            f"{s['value']:g}: WER {fmt(s.get('wer'))}, mel L1 {fmt(s.get('mel_l1'))}" for s in choice["scores"]
        )
        rows.append([Cell(entry.label), Cell(choice["option"]), Cell(scores), Cell(f"{choice['value']:g}", bold=True)])
    if not rows:
        return None
    n = max(entry.info.get("choice", {}).get("utterances", 0) for entry in evaluated)
    caption = (
        f"Operating points chosen on {n} validation sentences (lowest mel L1 of those within one standard error of "
        "the lowest word error rate)."
    )
    return Table(["family", "option", "candidates (scores)", "chosen"], rows, caption)


def significance_table(results: list[PairResult]) -> Table | None:
    """Every paired test, significant pairs first."""
    if not results:
        return None
    ordered = sorted(results, key=lambda r: (not r.significant, r.key, r.test.p_adjusted))
    rows = [
        [
            Cell(metric(r.key).label),
            Cell(f"{r.a.label} − {r.b.label}"),
            Cell(str(r.test.n)),
            Cell(f"{fmt(r.test.mean_difference)} [{fmt(r.test.low)}, {fmt(r.test.high)}]"),
            Cell(fmt(r.test.p_value)),
            Cell(fmt(r.test.p_adjusted), bold=r.significant),
        ]
        for r in ordered
    ]
    caption = (
        "Paired on the sentences both systems have: mean difference [95% bootstrap interval], two-sided Wilcoxon "
        "signed-rank p, and p adjusted with Holm's method over the pairs of each metric (bold: < 0.05); "
        "significant pairs first."
    )
    return Table(["metric", "pair", "n", "difference", "p", "p (Holm)"], rows, caption)
