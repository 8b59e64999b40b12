"""PNG figures of the comparison report (matplotlib, Agg backend): metric bars with their 95% intervals,
quality against sampling steps / temperature and against real-time factor, mel spectrograms side by side, and
training loss curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tts_gen.evaluate.metrics.catalogue import metric
from tts_gen.evaluate.report.entries import Entry


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
    for entry in entries:
        points = sorted((entry.summary or {}).get("sweeps", {}).get(option, []), key=lambda p: p["value"])
        if not points:
            continue
        metrics = [entry.condition(p["condition"])["metrics"] for p in points]
        values = [p["value"] for p in points]
        for axis, key in zip(axes[0], keys):
            ys = [m.get(key, {}).get("mean", np.nan) for m in metrics]
            axis.plot(values, [np.nan if y is None else y for y in ys], marker="o", label=entry.label)
        rtf = [m.get("rtf_total", {}).get("mean", np.nan) for m in metrics]
        quality = [m.get(keys[0], {}).get("mean", np.nan) for m in metrics]
        axes[0][-1].plot(rtf, [np.nan if q is None else q for q in quality], marker="o", label=entry.label)
    for axis, key in zip(axes[0], keys):
        axis.set_xlabel(option, fontsize=8)
        axis.set_title(metric(key).label, fontsize=9)
        if option == "steps":
            axis.set_xscale("log")
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
