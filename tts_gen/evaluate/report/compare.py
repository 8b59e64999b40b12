"""``tts-gen compare``: one report across families, as ``report.md`` (with PNG and WAV files beside it) and a
self-contained ``report.html`` (images and audio embedded as data URIs).

Sections: the corpus; one table of every metric per family (mean and 95% bootstrap interval, the best family in
bold; the recordings and copy-synthesis as ceilings); paired tests between families (Wilcoxon signed-rank on
per-utterance scores, Holm-adjusted); sweeps (quality against steps / temperature and against speed);
robustness; cost; mel spectrograms of one sentence side by side; audio players; training losses; and a
reproducibility block. Run folders with no evaluation contribute their training losses only.
"""

from __future__ import annotations

import itertools
import math
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tts_gen.evaluate.metrics.catalogue import CATALOGUE, metric
from tts_gen.evaluate.metrics.stats import holm, paired_test
from tts_gen.evaluate.pipeline.store import cpu_name, git_state
from tts_gen.evaluate.report import plots
from tts_gen.evaluate.report.entries import Entry, load_entries
from tts_gen.evaluate.report.render import (
    Audio,
    AudioTable,
    Cell,
    Code,
    Document,
    Heading,
    Image,
    Paragraph,
    Table,
    to_html,
    to_markdown,
)
from tts_gen.files import write_text

TESTED = ("mcd_db", "log_f0_rmse", "vuv_error", "mel_l1", "wer", "cer", "dnsmos_ovrl", "nll")
BAR_METRICS = ("mcd_db", "mel_l1", "wer", "dnsmos_ovrl", "rtf_total")
SWEEP_METRICS = ("mcd_db", "mel_l1", "wer", "dnsmos_ovrl")


@dataclass
class ReportPaths:
    markdown: Path
    html: Path


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


def corpus_paragraph(entries: list[Entry]) -> Paragraph:
    """Names the corpus (and split) of every entry, once for all when they share it; warns when they differ."""
    described, corpora = {}, set()
    for entry in entries:
        info = entry.info
        if entry.evaluated:
            corpus = f"{info['corpus']} ({info['split']} split, {info['utterances']} utterances of {info['data_dir']})"
            corpus += f"; trained on {info.get('training_corpus')}"
        else:
            corpus = f"trained on {info.get('training_corpus')} (not evaluated)"
        corpora.add(info.get("corpus") or info.get("training_corpus"))
        described.setdefault(corpus, []).append(entry.label)
    if len(described) == 1:
        text = f"**Corpus.** Every entry: {next(iter(described))}."
    else:
        text = (
            "**Corpus.** " + "; ".join(f"{', '.join(labels)}: {corpus}" for corpus, labels in described.items()) + "."
        )
    if len(corpora) > 1:
        text += " The entries do not share one corpus: their numbers are not comparable."
    return Paragraph(text)


def metric_table(evaluated: list[Entry]) -> Table:
    """Rows = metrics, columns = families (``model`` condition) then the ceilings of the first evaluation."""
    first = evaluated[0]
    ceilings = [(name, first.condition(name)) for name in ("reference", "copy-synthesis") if first.condition(name)]
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


def significance_table(evaluated: list[Entry]) -> Table | None:
    """Paired Wilcoxon signed-rank tests of every pair of families on the tested metrics, Holm-adjusted."""
    if len(evaluated) < 2:
        return None
    rows = []
    for key in TESTED:
        pairs = list(itertools.combinations(evaluated, 2))
        tests = [paired_test(a.scores("model", key), b.scores("model", key)) for a, b in pairs]
        if not any(t.n for t in tests):
            continue
        adjusted = holm([t.p_value for t in tests])
        for (a, b), test, p_holm in zip(pairs, tests, adjusted):
            significant = p_holm is not None and math.isfinite(p_holm) and p_holm < 0.05
            rows.append(
                [
                    Cell(metric(key).label),
                    Cell(f"{a.label} − {b.label}"),
                    Cell(str(test.n)),
                    Cell(f"{fmt(test.mean_difference)} [{fmt(test.low)}, {fmt(test.high)}]"),
                    Cell(fmt(test.p_value)),
                    Cell(fmt(p_holm), bold=significant),
                ]
            )
    caption = (
        "Paired on the sentences both systems have: mean difference [95% bootstrap interval], two-sided Wilcoxon "
        "signed-rank p, and p adjusted with Holm's method over the pairs of each metric (bold: < 0.05)."
    )
    return Table(["metric", "pair", "n", "difference", "p", "p (Holm)"], rows, caption)


def sweep_section(evaluated: list[Entry], out_dir: Path) -> list:
    blocks = []
    options = sorted({o for e in evaluated for o in (e.summary or {}).get("sweeps", {})})
    for option in options:
        rows = []
        for entry in evaluated:
            for point in sorted(entry.summary["sweeps"].get(option, []), key=lambda p: p["value"]):
                metrics = entry.condition(point["condition"])["metrics"]
                value = f"{point['value']:g}" + (" (default)" if point.get("default") else "")
                rows.append(
                    [Cell(entry.label), Cell(value)]
                    + [Cell(estimate_text(metrics.get(k))) for k in SWEEP_METRICS + ("rtf_total",)]
                )
        header = ["family", option] + [metric(k).label for k in SWEEP_METRICS + ("rtf_total",)]
        blocks.append(Table(header, rows, f"Sweep of {option}."))
        image = plots.sweep_curves(evaluated, option, list(SWEEP_METRICS), out_dir / f"sweep_{option}.png")
        blocks.append(
            Image(
                image, f"Quality against {option}, and {metric(SWEEP_METRICS[0]).label} against the real-time factor."
            )
        )
    notes = [f"{e.label}: {note}" for e in evaluated for note in e.summary.get("notes", [])]
    if notes:
        blocks.append(Paragraph("Notes: " + " ".join(notes)))
    return blocks


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


def common_ids(evaluated: list[Entry]) -> list[str]:
    sets = [{r["id"] for r in e.rows if r["condition"] == "model" and r["set"] == "test"} for e in evaluated]
    return sorted(set.intersection(*sets)) if sets else []


def mel_figure(evaluated: list[Entry], utt_id: str, out_dir: Path) -> Image | None:
    mels = {}
    reference = evaluated[0].file(f"mels/reference/{utt_id}.npy")
    if reference.is_file():
        mels["recording"] = np.load(reference)
    for entry in evaluated:
        row = entry.row("model", utt_id)
        if row and row.get("mel") and entry.file(row["mel"]).is_file():
            mels[entry.label] = np.load(entry.file(row["mel"]))
    if len(mels) < 2:
        return None
    path = plots.mel_panels(mels, f"{utt_id}: {evaluated[0].row('model', utt_id)['text']}", out_dir / "mels.png")
    return Image(path, f"Log-mel spectrograms of {utt_id} (recording, then each family's synthesis from text).")


def audio_table(evaluated: list[Entry], ids: list[str]) -> AudioTable:
    first = evaluated[0]
    header = ["sentence", "recording", "copy-synthesis"] + [e.label for e in evaluated]
    rows = []
    for utt_id in ids:
        cells: list = [Cell(f"{utt_id}: {first.row('model', utt_id)['text']}")]
        for condition in ("reference", "copy-synthesis"):
            row = first.row(condition, utt_id)
            path = first.file(row["wav"]) if row else None
            cells.append(Audio(path, f"{utt_id}_{condition}") if path and path.is_file() else None)
        for index, entry in enumerate(evaluated):
            row = entry.row("model", utt_id)
            path = entry.file(row["wav"]) if row else None
            cells.append(Audio(path, f"{utt_id}_{index}_{entry.family}") if path and path.is_file() else None)
        rows.append(cells)
    return AudioTable(header, rows)


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


def _entry_lines(entry: Entry) -> list[str]:
    """What identifies one entry: run, checkpoint, config, seeds, corpus, vocoder, code and hardware."""
    info = entry.info
    lines = [
        f"[{entry.label}] {entry.path.resolve()}",
        f"  family {entry.family}; checkpoint {info.get('checkpoint', '—')} (step {info.get('checkpoint_step', '—')})",
        f"  config hash {info.get('config_hash', '—')}; training seed {info.get('train_seed', '—')}; "
        f"training corpus {info.get('training_corpus', '—')}",
    ]
    if entry.evaluated:
        git, hw = info.get("git", {}), info.get("hardware", {})
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        lines += [
            f"  evaluated on corpus {info['corpus']}, split {info['split']} ({info['utterances']} utterances), "
            f"data {info['data_dir']}",
            f"  evaluation seed {info['seed']}; vocoder {info['vocoder']}; options {info.get('options')}; "
            f"length scale {info.get('length_scale')}",
            f"  git {git.get('commit', 'unknown')}{dirty}; versions {info.get('versions', {})}",
            f"  hardware: device {hw.get('device')}{' (' + hw['gpu'] + ')' if hw.get('gpu') else ''}, "
            f"cpu {hw.get('cpu')} x{hw.get('cpu_count')}, "
            f"torch {hw.get('torch')} ({hw.get('torch_threads')} threads), {hw.get('platform')}",
        ]
    return lines


def reproducibility(entries: list[Entry]) -> Code:
    lines = [line for entry in entries for line in _entry_lines(entry)]
    here = git_state(Path(__file__).parent)
    lines.append(
        f"report made {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with tts_gen git {here['commit']}"
        f"{' (uncommitted changes)' if here['dirty'] else ''} on {cpu_name()}, {platform.platform()}"
    )
    return Code("\n".join(lines))


def build_document(entries: list[Entry], out_dir: Path, audio_sentences: int, title: str) -> Document:
    document = Document(title)
    document.add(corpus_paragraph(entries))
    evaluated = [e for e in entries if e.evaluated]
    if evaluated:
        document.add(Heading("Metrics"), metric_table(evaluated))
        keys = [
            k for k in BAR_METRICS if any((e.condition("model") or {}).get("metrics", {}).get(k) for e in evaluated)
        ]
        if keys:
            document.add(
                Image(
                    plots.metric_bars(evaluated, keys, out_dir / "metrics.png"),
                    "Each family's mean with its 95% interval.",
                )
            )
        significance = significance_table(evaluated)
        if significance is not None:
            document.add(Heading("Paired tests between families"), significance)
        sweeps = sweep_section(evaluated, out_dir)
        if sweeps:
            document.add(Heading("Sweeps: quality against speed"), *sweeps)
        document.add(Heading("Robustness"), robustness_table(evaluated))
        document.add(Heading("Cost"), cost_table(evaluated))
        ids = common_ids(evaluated)
        if ids:
            figure = mel_figure(evaluated, ids[0], out_dir)
            if figure is not None:
                document.add(Heading("Mel spectrograms"), figure)
            document.add(Heading("Listen"), audio_table(evaluated, ids[:audio_sentences]))
    else:
        document.add(
            Paragraph("No entry has been evaluated yet (run `tts-gen evaluate`): only training losses are reported.")
        )
    if any(e.training for e in entries):
        document.add(
            Heading("Training"),
            training_table(entries),
            Image(plots.loss_curves(entries, out_dir / "losses.png"), "Total loss against the step."),
        )
    document.add(Heading("Reproducibility"), reproducibility(entries))
    return document


def build_report(
    inputs: list[str | Path], out_dir: str | Path, audio_sentences: int = 3, title: str = "tts_gen report"
) -> ReportPaths:
    """Writes ``report.md``, ``report.html`` and the PNG / WAV files they use into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = load_entries(list(inputs))
    document = build_document(entries, out_dir, audio_sentences, title)
    paths = ReportPaths(out_dir / "report.md", out_dir / "report.html")
    write_text(paths.markdown, to_markdown(document, out_dir))
    write_text(paths.html, to_html(document))
    return paths
