"""PNG figures of the comparison report (matplotlib, Agg backend): metric bars with their 95% intervals,
quality against sampling steps / temperature and against real-time factor, mel spectrograms side by side, and
training loss curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tts_gen.evaluate.metrics.catalogue import metric
from tts_gen.evaluate.report.entries import Entry, ceiling_entry


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def metric_bars(entries: list[Entry], keys: list[str], path: Path) -> Path:
    """One panel per metric: each family's ``model`` mean with its 95% bootstrap interval."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for axis, key in zip(axes[0], keys):
        labels, means, errors = [], [], [[], []]
        for entry in entries:
            value = (entry.condition("model") or {}).get("metrics", {}).get(key)
            if not value or value.get("mean") is None:
                continue
            labels.append(entry.label)
            means.append(value["mean"])
            low, high = value.get("low"), value.get("high")
            errors[0].append(value["mean"] - low if low is not None else 0.0)
            errors[1].append(high - value["mean"] if high is not None else 0.0)
        axis.bar(range(len(means)), means, yerr=errors, capsize=4, color="tab:blue")
        axis.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
        info = metric(key)
        direction = {-1: " (lower is better)", 1: " (higher is better)"}.get(info.better, "")
        axis.set_title(f"{info.label}{direction}", fontsize=9)
        axis.set_ylabel(info.unit, fontsize=8)
    return _save(figure, path)


def sweep_curves(entries: list[Entry], option: str, keys: list[str], path: Path) -> Path:
    """Quality against the value of ``option`` (one line per family) and against the total real-time factor."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(keys) + 1, figsize=(3.4 * (len(keys) + 1), 3.2), squeeze=False)
    swept = set()
    for entry in entries:
        points = sorted((entry.summary or {}).get("sweeps", {}).get(option, []), key=lambda p: p["value"])
        if not points:
            continue
        metrics = [entry.condition(p["condition"])["metrics"] for p in points]
        values = [p["value"] for p in points]
        swept.update(v for v in values if isinstance(v, (int, float)))
        for axis, key in zip(axes[0], keys):
            ys = [m.get(key, {}).get("mean", np.nan) for m in metrics]
            axis.plot(values, [np.nan if y is None else y for y in ys], marker="o", label=entry.label)
        rtf = [m.get("rtf_total", {}).get("mean", np.nan) for m in metrics]
        quality = [m.get(keys[0], {}).get("mean", np.nan) for m in metrics]
        axes[0][-1].plot(rtf, [np.nan if q is None else q for q in quality], marker="o", label=entry.label)
    for axis, key in zip(axes[0], keys):
        axis.set_xlabel(option, fontsize=8)
        axis.set_title(metric(key).label, fontsize=9)
        if option in ("steps", "nfe"):
            axis.set_xscale("log")
            axis.set_xticks(sorted(swept), [f"{v:g}" for v in sorted(swept)])  # the swept counts, not powers of 10
            axis.minorticks_off()
    axes[0][-1].set_xlabel("real-time factor (total)", fontsize=8)
    axes[0][-1].set_title(f"{metric(keys[0]).label} against speed", fontsize=9)
    axes[0][-1].legend(fontsize=7)
    return _save(figure, path)


def mel_panels(mels: dict[str, np.ndarray], title: str, path: Path) -> Path:
    """Log-mels (n_mels, T) side by side, one column each, on a shared colour scale."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(mels), figsize=(3.2 * len(mels), 3.0), squeeze=False)
    low = min(float(np.min(m)) for m in mels.values())
    high = max(float(np.max(m)) for m in mels.values())
    for axis, (name, mel) in zip(axes[0], mels.items()):
        axis.imshow(mel, origin="lower", aspect="auto", interpolation="none", vmin=low, vmax=high)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("frame", fontsize=8)
    axes[0][0].set_ylabel("mel bin", fontsize=8)
    figure.suptitle(title, fontsize=9)
    return _save(figure, path)


def loss_curves(entries: list[Entry], path: Path) -> Path:
    """Training (thin) and validation (marked) total loss against the step, one colour per run."""
    plt = _pyplot()
    figure, axis = plt.subplots(1, 1, figsize=(7, 3.4))
    for index, entry in enumerate(e for e in entries if e.training):
        colour = f"C{index % 10}"
        for split, style in (("train", {"linewidth": 0.8}), ("val", {"marker": "o", "linewidth": 1.5})):
            rows = [r for r in entry.training if r.get("split") == split and "loss" in r]
            if rows:
                axis.plot(
                    [r["step"] for r in rows],
                    [r["loss"] for r in rows],
                    color=colour,
                    label=f"{entry.label} {split}",
                    **style,
                )
    axis.set_xlabel("step")
    axis.set_ylabel("weighted loss")
    axis.legend(fontsize=7)
    return _save(figure, path)


def _interval(value: dict | None) -> tuple[float, float, float]:
    """(mean, distance down to the low end, distance up to the high end) of a summary estimate."""
    if not value or value.get("mean") is None:
        return np.nan, 0.0, 0.0
    mean = value["mean"]
    low, high = value.get("low"), value.get("high")
    return mean, mean - low if low is not None else 0.0, high - mean if high is not None else 0.0


def quality_speed(entries: list[Entry], key: str, path: Path) -> Path:
    """One point per family: ``key`` (with its 95% interval) against the total real-time factor (with its
    interval, log scale); the recordings' and copy-synthesis' ``key`` as horizontal lines."""
    plt = _pyplot()
    figure, axis = plt.subplots(1, 1, figsize=(6.4, 4.0))
    for index, entry in enumerate(entries):
        metrics = (entry.condition("model") or {}).get("metrics", {})
        y, y_low, y_high = _interval(metrics.get(key))
        x, x_low, x_high = _interval(metrics.get("rtf_total"))
        axis.errorbar(
            x, y, xerr=[[x_low], [x_high]], yerr=[[y_low], [y_high]], fmt="o", capsize=3, color=f"C{index % 10}"
        )
        axis.annotate(entry.label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    for name, style in (("reference", "-"), ("copy-synthesis", "--")):
        ceiling = ceiling_entry(entries, name)
        value = ceiling.condition(name).get("metrics", {}).get(key, {}).get("mean") if ceiling else None
        if value is not None:
            label = "recordings" if name == "reference" else "copy-synthesis (recordings' mels through the vocoder)"
            axis.axhline(value, linestyle=style, color="grey", linewidth=1, label=label)
    info = metric(key)
    axis.set_xscale("log")
    axis.set_xlabel("real-time factor, acoustic model + vocoder (log scale; lower is faster)", fontsize=8)
    axis.set_ylabel(f"{info.label} ({info.unit})", fontsize=8)
    axis.legend(fontsize=7)
    return _save(figure, path)


def learning_curves(entries: list[Entry], keys: list[str], path: Path) -> Path:
    """Each family's ``keys`` (word error rate, mel L1) over its kept checkpoints, against minutes of training
    and against utterance passes."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(keys), 2, figsize=(9.6, 3.0 * len(keys)), squeeze=False)
    for index, entry in enumerate(e for e in entries if e.curve):
        for row, key in enumerate(keys):
            points = [r for r in entry.curve if r.get(key) is not None]
            for column, axis_key in enumerate(("minutes", "utterances")):
                axes[row][column].plot(
                    [r[axis_key] for r in points], [r[key] for r in points], marker="o", color=f"C{index % 10}",
                    label=entry.label,
                )  # fmt: skip
    for row, key in enumerate(keys):
        for column, label in enumerate(("minutes of training", "utterance passes (utterances seen)")):
            axes[row][column].set_xlabel(label, fontsize=8)
            axes[row][column].set_ylabel(metric(key).label, fontsize=8)
    axes[0][0].legend(fontsize=7)
    return _save(figure, path)


def crossing(states: list[tuple[str, np.ndarray]], title: str, path: Path) -> Path:
    """The states of one sample's crossing from the family's starting point to the mel, left to right."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(states), figsize=(2.6 * len(states), 2.4), squeeze=False)
    for axis, (label, state) in zip(axes[0], states):
        axis.imshow(state, origin="lower", aspect="auto", interpolation="none")
        axis.set_title(label, fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(title, fontsize=9)
    return _save(figure, path)
