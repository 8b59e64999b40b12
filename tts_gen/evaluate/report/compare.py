"""``tts-gen compare``: one report across families, as ``report.md`` (with PNG and WAV files beside it) and a
self-contained ``report.html`` (images and audio embedded as data URIs), read top down:

the corpus and the protocol (which spine every run used; runs of different spines are refused unless allowed);
the verdict in words (which families differ significantly on which measure, and which do not; timing warnings);
quality against speed with intervals, the recordings and copy-synthesis as lines; the headline table
(intelligibility, mel distance, speed, memory, parameters, sampler and NFE, operating point) and the budget of
every row; the operating points chosen on the validation split; learning curves; each family's crossing from
noise to mel; sweeps of network evaluations; robustness; where in the sentence the words are lost; mel
spectrograms; audio players; and, in an appendix, every metric, every paired test (significant first), cost,
training losses and a reproducibility block.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tts_gen.evaluate.metrics.catalogue import metric
from tts_gen.evaluate.pipeline.store import git_state
from tts_gen.evaluate.report import plots
from tts_gen.evaluate.report.entries import Entry, ceiling_entry, load_entries
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
from tts_gen.evaluate.report.tables import (
    budget_table,
    choice_table,
    cost_table,
    estimate_text,
    headline_table,
    metric_table,
    model_metrics,
    position_table,
    robustness_table,
    significance_table,
    training_table,
)
from tts_gen.evaluate.report.verdict import check_spines, pairwise, protocol_text, unreliable_timings, verdict
from tts_gen.files import write_text
from tts_gen.runtime import cpu_name

SWEEP_METRICS = ("wer", "mel_l1", "mcd_db", "dnsmos_ovrl")  # the first one measured is drawn against speed


@dataclass
class ReportPaths:
    markdown: Path
    html: Path


def shown_path(path: str | Path) -> str:
    """A path as a report shows it: relative to the working folder when inside it (the report then names no folder
    of the machine it was made on), else as recorded."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def corpus_paragraph(entries: list[Entry]) -> Paragraph:
    """Names the corpus (and split) of every entry, once for all when they share it; warns when they differ."""
    described, corpora = {}, set()
    for entry in entries:
        info = entry.info
        if entry.evaluated:
            data = shown_path(info["data_dir"])
            corpus = f"{info['corpus']} ({info['split']} split, {info['utterances']} utterances of {data})"
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


def swept_metrics(evaluated: list[Entry], option: str) -> list[str]:
    """The measures of :data:`SWEEP_METRICS` that some point of the sweep of ``option`` has (an evaluation can skip
    some: the demo skips WORLD and DNSMOS)."""
    points = [(e, p) for e in evaluated for p in (e.summary or {}).get("sweeps", {}).get(option, [])]
    return [k for k in SWEEP_METRICS if any(k in e.condition(p["condition"])["metrics"] for e, p in points)]


def sweep_section(evaluated: list[Entry], out_dir: Path) -> list:
    blocks = []
    options = sorted({o for e in evaluated for o in (e.summary or {}).get("sweeps", {})})
    for option in options:
        keys = swept_metrics(evaluated, option)
        if not keys:
            continue
        rows, sentences = [], set()
        for entry in evaluated:
            for point in sorted(entry.summary["sweeps"].get(option, []), key=lambda p: p["value"]):
                condition = entry.condition(point["condition"])
                metrics = condition["metrics"]
                sentences.add(condition["n"])
                value = f"{point['value']:g}" + (" (default)" if point.get("default") else "")
                rows.append(
                    [Cell(entry.label), Cell(value)]
                    + [Cell(estimate_text(metrics.get(k))) for k in (*keys, "rtf_total")]
                )
        header = ["family", option] + [metric(k).label for k in (*keys, "rtf_total")]
        counted = ", ".join(str(n) for n in sorted(sentences))
        blocks.append(Table(header, rows, f"Sweep of {option}, each point on {counted} test sentences."))
        image = plots.sweep_curves(evaluated, option, keys, out_dir / f"sweep_{option}.png")
        caption = f"Quality against {option}, and {metric(keys[0]).label} against the real-time factor."
        blocks.append(Image(image, caption))
    notes = [f"{e.label}: {note}" for e in evaluated for note in e.summary.get("notes", [])]
    if notes:
        blocks.append(Paragraph("Notes: " + " ".join(notes)))
    return blocks


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
            ceiling = ceiling_entry(evaluated, condition)
            row = ceiling.row(condition, utt_id) if ceiling else None
            path = ceiling.file(row["wav"]) if row else None
            cells.append(Audio(path, f"{utt_id}_{condition}") if path and path.is_file() else None)
        for index, entry in enumerate(evaluated):
            row = entry.row("model", utt_id)
            path = entry.file(row["wav"]) if row else None
            cells.append(Audio(path, f"{utt_id}_{index}_{entry.family}") if path and path.is_file() else None)
        rows.append(cells)
    return AudioTable(header, rows)


def _entry_lines(entry: Entry) -> list[str]:
    """What identifies one entry: run, checkpoint, config, seeds, corpus, vocoder, code and hardware."""
    info = entry.info
    lines = [
        f"[{entry.label}] {shown_path(entry.path)}",
        f"  family {entry.family}; checkpoint {shown_path(info.get('checkpoint', '—'))} "
        f"(step {info.get('checkpoint_step', '—')})",
        f"  config hash {info.get('config_hash', '—')}; training seed {info.get('train_seed', '—')}; "
        f"training corpus {info.get('training_corpus', '—')}",
    ]
    if entry.evaluated:
        git, hw = info.get("git", {}), info.get("hardware", {})
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        lines += [
            f"  evaluated on corpus {info['corpus']}, split {info['split']} ({info['utterances']} utterances), "
            f"data {shown_path(info['data_dir'])}",
            f"  evaluation seed {info['seed']}; vocoder {info['vocoder']}; options {info.get('options')}; "
            f"length scale {info.get('length_scale')}",
            f"  git {git.get('commit', 'unknown')}{dirty}; versions {info.get('versions', {})}",
            f"  hardware: device {hw.get('device')}{' (' + hw['gpu'] + ')' if hw.get('gpu') else ''}, "
            f"cpu {hw.get('cpu')} x{hw.get('cpu_count')} ({hw.get('cpu_kernels', 'kernels unrecorded')}), "
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


def curve_section(evaluated: list[Entry], out_dir: Path) -> list:
    with_curves = [entry for entry in evaluated if entry.curve]
    if not with_curves:
        return []
    keys = [key for key in ("wer", "mel_l1") if any(row.get(key) is not None for e in with_curves for row in e.curve)]
    n = max(row.get("n", 0) for entry in with_curves for row in entry.curve)
    image = plots.learning_curves(with_curves, keys, out_dir / "learning_curves.png")
    caption = (
        f"Learning curves: each kept checkpoint scored on the first {n} test sentences, against minutes of training "
        "(left) and utterance passes (right)."
    )
    return [Heading("Learning curves"), Image(image, caption)]


def crossing_section(evaluated: list[Entry], out_dir: Path) -> list:
    blocks = []
    for index, entry in enumerate(evaluated):
        states = entry.crossing()
        if states:
            utterance = entry.info["crossing"]["id"]
            path = plots.crossing(
                states, f"{entry.label}: {utterance}", out_dir / f"crossing_{index}_{entry.family}.png"
            )
            blocks.append(Image(path, f"{entry.label}: how one sample goes from its starting point to the mel."))
    return [Heading("The crossing from noise to mel, family by family"), *blocks] if blocks else []


def build_document(
    entries: list[Entry], out_dir: Path, audio_sentences: int, title: str, mixed_spines: bool = False
) -> Document:
    """The report, top down: verdict, quality against speed, headline and budgets, learning curves, crossings,
    sweeps, robustness, word errors by position, listening; the appendix holds every metric, every paired test and
    the training losses."""
    check_spines(entries, mixed_spines)
    document = Document(title)
    document.add(corpus_paragraph(entries), Paragraph(protocol_text(entries, mixed_spines)))
    evaluated = [e for e in entries if e.evaluated]
    if not evaluated:
        document.add(
            Paragraph("No entry has been evaluated yet (run `tts-gen evaluate`): only training losses are reported.")
        )
    else:
        results = pairwise(evaluated)
        flagged = unreliable_timings(evaluated)
        key = "wer" if any(model_metrics(e).get("wer") for e in evaluated) else "mel_l1"
        document.add(Heading("Verdict"), *[Paragraph(line) for line in verdict(evaluated, results)])
        image = plots.quality_speed(evaluated, key, out_dir / "quality_speed.png")
        document.add(Image(image, f"{metric(key).label} against speed, each with its 95% interval."))
        document.add(Heading("Headline"), headline_table(evaluated, flagged), budget_table(evaluated))
        choices = choice_table(evaluated)
        if choices is not None:
            document.add(choices)
        document.add(*curve_section(evaluated, out_dir), *crossing_section(evaluated, out_dir))
        sweeps = sweep_section(evaluated, out_dir)
        if sweeps:
            document.add(Heading("Quality against network evaluations and speed"), *sweeps)
        document.add(Heading("Robustness"), robustness_table(evaluated))
        positions = position_table(evaluated)
        if positions is not None:
            document.add(Heading("Where the words are lost"), positions)
        ids = common_ids(evaluated)
        if ids:
            figure = mel_figure(evaluated, ids[0], out_dir)
            if figure is not None:
                document.add(Heading("Mel spectrograms"), figure)
            document.add(Heading("Listen"), audio_table(evaluated, ids[:audio_sentences]))
        document.add(Heading("Appendix"), Heading("Every metric", 3), metric_table(evaluated))
        significance = significance_table(results)
        if significance is not None:
            document.add(Heading("Paired tests", 3), significance)
        document.add(Heading("Cost", 3), cost_table(evaluated))
    if any(e.training for e in entries):
        document.add(
            Heading("Training losses", 3),
            training_table(entries),
            Image(plots.loss_curves(entries, out_dir / "losses.png"), "Total loss against the step."),
        )
    document.add(Heading("Reproducibility"), reproducibility(entries))
    return document


def build_report(
    inputs: list[str | Path],
    out_dir: str | Path,
    audio_sentences: int = 3,
    title: str = "tts_gen report",
    mixed_spines: bool = False,
) -> ReportPaths:
    """Writes ``report.md``, ``report.html`` and the PNG / WAV files they use into ``out_dir``; runs of different
    spines are refused unless ``mixed_spines``."""
    out_dir = Path(out_dir)
    entries = load_entries(list(inputs))
    check_spines(entries, mixed_spines)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = build_document(entries, out_dir, audio_sentences, title, mixed_spines)
    paths = ReportPaths(out_dir / "report.md", out_dir / "report.html")
    write_text(paths.markdown, to_markdown(document, out_dir))
    write_text(paths.html, to_html(document))
    return paths
