"""The catalogue of evaluation metrics (label, unit, which direction is better) and their aggregation."""

from __future__ import annotations

from dataclasses import dataclass

from tts_gen.evaluate.metrics.stats import bootstrap_mean


@dataclass(frozen=True)
class Metric:
    """``better``: -1 lower is better, +1 higher is better, 0 neither; ``aggregate``: mean or max."""

    key: str
    label: str
    unit: str
    better: int
    aggregate: str = "mean"
    group: str = "quality"


CATALOGUE: tuple[Metric, ...] = (
    Metric("mcd_db", "MCD", "dB", -1),
    Metric("log_f0_rmse", "log-F0 RMSE", "ln Hz", -1),
    Metric("vuv_error", "V/UV error", "fraction", -1),
    Metric("mel_l1", "mel L1, true durations", "ln mel", -1),
    Metric("wer", "WER", "fraction", -1, group="intelligibility"),
    Metric("cer", "CER", "fraction", -1, group="intelligibility"),
    Metric("dnsmos_ovrl", "DNSMOS OVRL", "1-5", +1, group="naturalness"),
    Metric("dnsmos_sig", "DNSMOS SIG", "1-5", +1, group="naturalness"),
    Metric("dnsmos_bak", "DNSMOS BAK", "1-5", +1, group="naturalness"),
    Metric("dnsmos_p808", "DNSMOS P.808", "1-5", +1, group="naturalness"),
    Metric("nll", "NLL", "family units", -1, group="likelihood"),
    Metric("f0_spread_semitones", "F0 spread across samples", "semitones", 0, group="diversity"),
    Metric("f0_frame_spread_semitones", "F0 contour spread", "semitones", 0, group="diversity"),
    Metric("duration_spread_seconds", "duration spread", "s", 0, group="diversity"),
    Metric("rtf_acoustic", "RTF acoustic", "s/s", -1, group="cost"),
    Metric("rtf_vocoder", "RTF vocoder", "s/s", -1, group="cost"),
    Metric("rtf_total", "RTF total", "s/s", -1, group="cost"),
    Metric("peak_memory_mb", "peak memory", "MiB", -1, aggregate="max", group="cost"),
    Metric("word_insertions", "inserted words", "count", -1, aggregate="sum", group="robustness"),
    Metric("word_deletions", "deleted words", "count", -1, aggregate="sum", group="robustness"),
    Metric("duration_outlier", "duration outliers", "fraction", -1, group="robustness"),
)
BY_KEY = {metric.key: metric for metric in CATALOGUE}


def metric(key: str) -> Metric:
    """The catalogue entry of ``key``; loss terms (``loss/...``) get a generic lower-is-better entry."""
    if key in BY_KEY:
        return BY_KEY[key]
    if key.startswith("loss/"):
        return Metric(key, key[len("loss/") :], "loss", -1, group="loss")
    raise KeyError(f"unknown metric {key!r}")


def summarize_rows(rows: list[dict], seed: int = 0) -> dict[str, dict]:
    """Per metric present in ``rows``: mean with its 95% bootstrap interval (or max / sum), and n."""
    keys = [m.key for m in CATALOGUE] + sorted({k for row in rows for k in row if k.startswith("loss/")})
    summary = {}
    for key in keys:
        values = [row[key] for row in rows if isinstance(row.get(key), (int, float))]
        if not values:
            continue
        entry = metric(key)
        if entry.aggregate == "mean":
            estimate = bootstrap_mean(values, seed=seed)
            summary[key] = {"mean": estimate.mean, "low": estimate.low, "high": estimate.high, "n": estimate.n}
        else:
            total = max(values) if entry.aggregate == "max" else sum(values)
            summary[key] = {
                "mean": float(total),
                "low": None,
                "high": None,
                "n": len(values),
                "aggregate": entry.aggregate,
            }
    return summary
