"""``summary.json`` of an evaluation: per condition, each metric's mean and 95% bootstrap interval."""

from __future__ import annotations

from typing import Any

from tts_gen.evaluate.metrics.catalogue import summarize_rows
from tts_gen.evaluate.pipeline.plan import NFE, condition_name
from tts_gen.evaluate.pipeline.store import RowLog, clean
from tts_gen.files import write_json

FIXED_ORDER = ("reference", "copy-synthesis", "model")


def condition_order(conditions: set[str]) -> list[str]:
    fixed = [c for c in FIXED_ORDER if c in conditions]
    swept = sorted(c for c in conditions if c not in FIXED_ORDER and c != "robustness")
    return fixed + swept + (["robustness"] if "robustness" in conditions else [])


def robustness_totals(rows: list[dict]) -> dict[str, Any]:
    """Counts over the robustness sentences: words, inserted and deleted words, duration outliers."""

    def total(key: str) -> int:
        return int(sum(row.get(key) or 0 for row in rows))

    return {
        "sentences": len(rows),
        "reference_words": total("reference_words"),
        "word_insertions": total("word_insertions"),
        "word_deletions": total("word_deletions"),
        "duration_outliers": total("duration_outlier"),
    }


def condition_summary(group: list[dict], seed: int) -> dict[str, Any]:
    """One condition's entry in the summary: its set, sentence count, options and metric estimates."""
    return {
        "set": group[0]["set"],
        "n": len(group),
        "options": group[0].get("options", {}),
        "metrics": summarize_rows(group, seed=seed),
    }


def _default_point(
    option: str, value: Any, points: list[dict], groups: dict[str, list[dict]], conditions: dict, seed: int
) -> dict[str, Any]:
    """The run's own operating point as one more point of a sweep. It is the ``model`` condition when that covers
    the same sentences as the sweep; when the sweep synthesized fewer (``sweep_utts``), the point is the model's
    rows on the swept sentences alone (added to ``conditions``), so that every point of the curve averages the same
    sentences."""
    swept = {row["id"] for point in points for row in groups.get(point["condition"], [])}
    model = groups.get("model", [])
    rows = [row for row in model if row["id"] in swept]
    if not swept or len(rows) == len(model):
        return {"value": value, "condition": "model", "default": True}
    name = condition_name(option, value)
    conditions[name] = condition_summary(rows, seed)
    return {"value": value, "condition": name, "default": True}


def summarize(rows: list[dict], info: dict, notes: list[str], complete: bool, pending: int) -> dict[str, Any]:
    """The summary of scored ``rows`` of one evaluation described by ``info`` (``eval.json``)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["condition"], []).append(row)
    conditions = {name: condition_summary(groups[name], info.get("seed", 0)) for name in condition_order(set(groups))}
    sweeps = {}
    defaults = {**info.get("options", {}), NFE: info.get("sampling", {}).get("nfe")}
    for option, values in info.get("sweeps", {}).items():
        points = [{"value": value, "condition": condition_name(option, value)} for value in values]
        if defaults.get(option) is not None and defaults[option] not in values:
            points.append(_default_point(option, defaults[option], points, groups, conditions, info.get("seed", 0)))
        sweeps[option] = [p for p in points if p["condition"] in conditions]
    return {
        "eval": info,
        "complete": complete,
        "pending": pending,
        "notes": notes,
        "conditions": conditions,
        "sweeps": sweeps,
        "robustness": robustness_totals(groups.get("robustness", [])),
    }


def write_summary(evaluator, notes: list[str], complete: bool) -> dict[str, Any]:
    """Summarizes what ``utterances.jsonl`` holds now and writes ``summary.json`` atomically."""
    rows = list(RowLog(evaluator.out / "utterances.jsonl").rows.values())
    scored = {(r["condition"], r["set"], r["id"]) for r in rows}
    pending = sum(1 for key in evaluator.synth_log.rows if key not in scored)
    summary = clean(summarize(rows, evaluator.info, notes, complete, pending))
    write_json(evaluator.out / "summary.json", summary)
    return summary


HEADLINE = ("mcd_db", "log_f0_rmse", "mel_l1", "wer", "cer", "dnsmos_ovrl", "nll", "rtf_total")


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A few lines for the terminal: the headline metrics of each condition, then the notes."""
    from tts_gen.evaluate.metrics.catalogue import metric

    info = summary["eval"]
    lines = [
        f"{info['family']} on {info['corpus']} ({info['split']}, {info['utterances']} utterances), "
        f"vocoder {info['vocoder']}"
    ]
    for name, condition in summary["conditions"].items():
        values = [
            f"{metric(key).label} {condition['metrics'][key]['mean']:.3g}"
            for key in HEADLINE
            if condition["metrics"].get(key, {}).get("mean") is not None
        ]
        lines.append(f"  {name:<16} n={condition['n']:<4} " + ", ".join(values))
    totals = summary["robustness"]
    if totals["sentences"]:
        lines.append(
            f"  robustness: {totals['word_insertions']} inserted and {totals['word_deletions']} deleted words of "
            f"{totals['reference_words']}, {totals['duration_outliers']} duration outliers in "
            f"{totals['sentences']} sentences"
        )
    lines += [f"  note: {note}" for note in summary["notes"]]
    if not summary["complete"]:
        lines.append("  the evaluation did not finish: run the same command again to resume it")
    return lines
