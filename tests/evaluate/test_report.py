"""``tts-gen compare`` on tiny evaluations and plain run folders, and the HTML in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import torch

from tts_gen.cli import main


@pytest.fixture(scope="module")
def report(tiny_evaluations, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["compare", *map(str, tiny_evaluations), "--out", str(out), "--audio-sentences", "1"]) == 0
    return out


def test_report_has_every_section(report, tiny_evaluations):
    text = (report / "report.md").read_text()
    assert "ljspeech-format" in text  # the corpus is named
    headings = [line for line in text.splitlines() if line.startswith("## ") or line.startswith("### ")]
    expected = [
        "## Verdict",
        "## Headline",
        "## Learning curves",
        "## The crossing from noise to mel, family by family",
        "## Quality against network evaluations and speed",
        "## Robustness",
        "## Mel spectrograms",
        "## Listen",
        "## Appendix",
        "### Every metric",
        "### Paired tests",
        "### Cost",
        "### Training losses",
        "## Reproducibility",
    ]
    assert headings == expected  # read top down: the verdict first, the details in the appendix
    labels = [f"flow ({path.name})" for path in tiny_evaluations]
    assert all(label in text for label in labels)
    assert re.search(r"\| NLL \(family units\) \|.*\*\*", text)  # one family is best, in bold
    assert "Wilcoxon" in text and "config hash" in text and "git " in text
    sweep = text.split("## Quality against network evaluations and speed")[1].split("## Robustness")[0]
    header = next(line for line in sweep.splitlines() if line.startswith("| family |"))
    assert "| WER |" in header and "DNSMOS" not in header  # only what was measured: DNSMOS was skipped
    assert "WER against the real-time factor" in sweep
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (report / image).is_file() and (report / image).read_bytes()[:4] == b"\x89PNG"
    audio = re.findall(r"\]\((audio/[^)]+\.wav)\)", text)
    assert audio and all((report / a).is_file() for a in audio)
    html = (report / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4 and "data:audio/wav;base64," in html
    assert 'src="audio/' not in html and '.png"' not in html  # self-contained


def test_report_states_protocol_verdict_budget_sampling_and_choice(report, tiny_evaluations):
    import json

    text = (report / "report.md").read_text()
    spine = json.loads((tiny_evaluations[0] / "eval.json").read_text())["spine"]
    assert f"Shared spine {spine['id']}" in text
    verdict = text.split("## Verdict")[1].split("## Headline")[0]
    assert "test sentences" in verdict and "an equal budget of 2 steps of training, batches of 2 utterances" in verdict
    assert "no pair of families differs significantly" in verdict or "beats" in verdict
    assert re.search(r"the recordings' own on the same sentences: [0-9.]+\): flow \(\S+\) [0-9.]+", verdict)
    for column in ("utterance passes", "minutes", "learning rate", "loss window", "best checkpoint chosen on"):
        assert column in text, column
    assert "one pass, 1 NFE" in text and "mel_l1 =" in text and "172 frames (2.0 s)" in text
    kernels = torch.backends.cpu.get_cpu_capability()
    assert f"x{torch.get_num_threads()}, {kernels} |" in text  # trained on: CPU, threads, torch's kernels
    assert f"({kernels}), torch" in text  # and in the reproducibility lines
    assert "(chosen on val)" in text and "Operating points chosen on 1 validation sentences" in text
    assert (report / "learning_curves.png").is_file() and (report / "quality_speed.png").is_file()
    assert len(list(report.glob("crossing_*.png"))) == 2


def test_the_ceilings_come_from_whichever_evaluation_computed_them(tiny_evaluations, tmp_path):
    out = tmp_path / "report"
    second_first = [str(path) for path in reversed(tiny_evaluations)]  # the second skipped copy-synthesis
    assert main(["compare", *second_first, "--out", str(out), "--audio-sentences", "1"]) == 0
    text = (out / "report.md").read_text()
    assert "| copy-synthesis |" in text and "copy-synthesis (ceiling)" in text
    assert re.search(r"\(audio/[^)]*copy-synthesis[^)]*\.wav\)", text), "its audio is in the listening table"


def test_runs_of_different_spines_are_refused_unless_allowed(tiny_evaluations, evaluation_data, tmp_path, capsys):
    from tests.conftest import ROOT
    from tests.evaluate.conftest import TINY
    from tts_gen.acoustic_run import train_acoustic

    joint = tmp_path / "joint"
    train_acoustic(
        ROOT / "egs" / "demo" / "flow.yaml", evaluation_data, joint, [*TINY, "train.max_steps=1"], device="cpu"
    )
    assert main(["compare", str(tiny_evaluations[0]), str(joint), "--out", str(tmp_path / "r")]) == 2
    assert "do not share one spine" in capsys.readouterr().err and not (tmp_path / "r").exists()
    out = tmp_path / "mixed"
    assert main(["compare", str(tiny_evaluations[0]), str(joint), "--out", str(out), "--allow-mixed-spines"]) == 0
    assert "Protocol: mixed spines." in (out / "report.md").read_text()


def test_plain_run_folders_report_training_losses(tiny_runs, tmp_path):
    assert main(["compare", *map(str, tiny_runs), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "No entry has been evaluated yet" in text and "### Training losses" in text
    assert "ljspeech-format" in text and (tmp_path / "losses.png").is_file()
    last_val = [
        r for r in map(json.loads, (tiny_runs[0] / "metrics.jsonl").read_text().splitlines()) if r["split"] == "val"
    ][-1]
    assert f"{last_val['loss']:.3g}" in text


def test_compare_refuses_a_folder_it_cannot_read(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "neither an evaluation folder" in capsys.readouterr().err


CHECK_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const audios = Array.from(document.querySelectorAll("audio"));
  const settle = audios.map(a => a.readyState >= 1 ? Promise.resolve() : new Promise(done => {
    a.addEventListener("loadedmetadata", done); a.addEventListener("error", done); a.load(); }));
  Promise.all(settle).then(() => {
    const images = Array.from(document.images);
    const result = document.createElement("pre");
    result.id = "load-check";
    result.textContent = JSON.stringify({
      images: images.length, images_ok: images.filter(i => i.complete && i.naturalWidth > 0).length,
      audio: audios.length, audio_ok: audios.filter(a => a.readyState >= 1 && a.duration > 0).length });
    document.body.appendChild(result);
  });
});
</script>
"""


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium_binary() is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_loads_its_images_and_audio_in_chromium(report, tmp_path):
    page = tmp_path / "checked.html"
    page.write_text((report / "report.html").read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.as_uri(),
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="load-check">([^<]*)</pre>', dom)
    assert found, "the check script did not run: " + dom[-500:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result["images"] >= 4 and result["images_ok"] == result["images"]
    assert result["audio"] >= 3 and result["audio_ok"] == result["audio"]


def test_corpus_is_named_once_when_shared_and_a_mismatch_is_flagged(tmp_path):
    from tts_gen.evaluate.report.compare import corpus_paragraph
    from tts_gen.evaluate.report.entries import Entry

    def entry(label, corpus):
        info = {"corpus": corpus, "split": "test", "utterances": 6, "data_dir": "prepared", "training_corpus": corpus}
        return Entry(label, label, tmp_path, {"conditions": {}}, [], info)

    shared = corpus_paragraph([entry("flow", "ljflite"), entry("gan", "ljflite")]).text
    assert shared.count("ljflite (test split") == 1 and "Every entry" in shared and "not comparable" not in shared
    mixed = corpus_paragraph([entry("flow", "ljflite"), entry("gan", "ljspeech")]).text
    assert "flow: ljflite" in mixed and "gan: ljspeech" in mixed and "not comparable" in mixed


def test_the_report_names_data_inside_the_working_folder_by_its_relative_path(tmp_path, monkeypatch):
    from tts_gen.evaluate.report.compare import corpus_paragraph
    from tts_gen.evaluate.report.entries import Entry

    info = {"corpus": "ljflite", "split": "test", "utterances": 6, "training_corpus": "ljflite"}
    inside = Entry("flow", "flow", tmp_path, {"conditions": {}}, [], {**info, "data_dir": str(tmp_path / "data" / "p")})
    monkeypatch.chdir(tmp_path)
    text = corpus_paragraph([inside]).text
    assert "6 utterances of data/p)" in text and str(tmp_path) not in text
    outside = Entry("flow", "flow", tmp_path, {"conditions": {}}, [], {**info, "data_dir": "/elsewhere/prepared"})
    assert "6 utterances of /elsewhere/prepared)" in corpus_paragraph([outside]).text


def constructed(tmp_path, label, sampling=None, rtf_vocoder=0.05, scores=None):
    """An evaluated entry made by hand: its sampling, vocoder speed and per-sentence word error rates."""
    from tts_gen.evaluate.report.entries import Entry

    metrics = {"rtf_vocoder": {"mean": rtf_vocoder}}
    info = {"vocoder": "griffin-lim", "sampling": sampling or {"sampler": "one pass", "nfe": 1}, "spine": {"id": "s1"}}
    info.update(corpus="ljflite", utterances=len(scores or {}), load_average={"before": 1.0, "after": 1.0})
    rows = [{"condition": "model", "set": "test", "id": k, "wer": v} for k, v in (scores or {}).items()]
    return Entry(label, label, tmp_path, {"conditions": {"model": {"metrics": metrics}}}, rows, info)


def test_verdict_names_significant_pairs_solver_parity_and_timing_artefacts(tmp_path):
    from tts_gen.evaluate.report.verdict import pairwise, verdict

    ids = [f"u{i}" for i in range(30)]
    good = {k: 0.1 + 0.001 * i for i, k in enumerate(ids)}
    bad = {k: 0.6 + 0.002 * i for i, k in enumerate(ids)}
    entries = [
        constructed(tmp_path, "flow_matching", {"sampler": "midpoint", "nfe": 10}, 0.05, good),
        constructed(tmp_path, "diffusion", {"sampler": "euler", "nfe": 4}, 0.05, bad),
        constructed(
            tmp_path, "gan", None, 0.5, {k: v + (0.01 if i % 2 else -0.01) for i, (k, v) in enumerate(good.items())}
        ),
    ]
    text = "\n".join(verdict(entries, pairwise(entries)))
    assert "flow_matching beats diffusion on WER" in text and "gan beats diffusion on WER" in text
    assert "flow_matching beats gan" not in text and "gan beats flow_matching" not in text
    assert "**are not compared** at equal network evaluations and solver order" in text
    assert "Timing warning" in text and "for gan:" in text  # one vocoder, ten times slower for one family
    same = [constructed(tmp_path, n, {"sampler": "midpoint", "nfe": 10}, 0.05, good) for n in ("a", "b")]
    text = "\n".join(verdict(same, pairwise(same)))
    assert "no pair of families differs significantly" in text and "are compared at equal" in text
    assert "Timing warning" not in text


def test_likelihoods_are_compared_within_one_family_only(tmp_path):
    from dataclasses import replace

    from tts_gen.evaluate.report.verdict import pairwise

    ids = [f"u{i}" for i in range(30)]

    def with_nll(label, family, offset):
        entry = constructed(tmp_path, label, scores={k: 0.2 + 0.01 * i for i, k in enumerate(ids)})
        for i, row in enumerate(entry.rows):
            row["nll"] = offset + 0.01 * i
        return replace(entry, family=family)

    entries = [with_nll("flow (a)", "flow", 1.0), with_nll("flow (b)", "flow", 2.0), with_nll("vae", "vae", -3.0)]
    results = pairwise(entries)
    assert {(r.a.label, r.b.label) for r in results if r.key == "nll"} == {("flow (a)", "flow (b)")}
    assert len([r for r in results if r.key == "wer"]) == 3  # every other measure compares every pair


def test_headline_leaves_out_a_metric_no_family_has_and_bolds_only_values(tmp_path):
    from tts_gen.evaluate.report.tables import headline_table

    entries = [constructed(tmp_path, label) for label in ("ar", "gan")]
    for entry, (wer, mel_l1) in zip(entries, [(0.4, 0.6), (0.5, None)]):
        metrics = entry.summary["conditions"]["model"]["metrics"]
        metrics["wer"] = {"mean": wer, "low": wer, "high": wer}
        if mel_l1 is not None:
            metrics["mel_l1"] = {"mean": mel_l1, "low": mel_l1, "high": mel_l1}
    entries[0].summary["conditions"]["reference"] = {"metrics": {"wer": {"mean": 0.2, "low": 0.2, "high": 0.2}}}
    table = headline_table(entries, set())
    assert table.header[:3] == ["family", "WER", "mel L1, true durations"]  # no CER or MCD column: none was scored
    assert all(len(row) == len(table.header) for row in table.rows)  # the recordings' row too
    bold = {(row[0].text, table.header[i]) for row in table.rows for i, cell in enumerate(row) if cell.bold}
    assert bold == {("ar", "WER"), ("ar", "mel L1, true durations")}  # gan's missing mel L1 is not "best"


def test_where_a_run_trained_names_the_gpu_or_the_cpu_threads_and_kernels():
    from tts_gen.evaluate.report.tables import device_text

    cpu = {"cpu": "AMD EPYC", "torch_threads": 2, "cpu_kernels": "AVX512"}
    assert device_text(cpu) == "AMD EPYC x2, AVX512"
    assert device_text({k: v for k, v in cpu.items() if k != "cpu_kernels"}) == "AMD EPYC x2"  # recorded before
    assert device_text({**cpu, "gpu": "NVIDIA H100"}) == "NVIDIA H100"
    assert device_text({}) == "—"


def test_a_budget_is_stated_in_the_limits_the_run_had():
    from tts_gen.evaluate.report.verdict import allowed_budget

    assert allowed_budget({"max_steps": 0, "max_minutes": 3, "batch_size": 16}) == (
        "3 minutes of training, batches of 16 utterances"  # no step limit: the minutes alone
    )
    both = allowed_budget({"max_steps": 300, "max_minutes": 2.5, "batch_size": 16})
    assert both == "300 steps or 2.5 minutes of training, batches of 16 utterances"


def test_word_errors_by_position_show_a_family_that_loses_its_opening_words(tmp_path):
    from tts_gen.evaluate.report.tables import position_table

    sentences = {
        "u1": "the quick brown fox jumps over the lazy old dog",
        "u2": "a stitch in time saves nine when the cloth is torn",
    }

    def recognized(entry, condition, hypotheses):
        entry.rows = [
            {"condition": condition, "set": "test", "id": k, "text": sentences[k], "asr_hypothesis": hypotheses[k]}
            for k in sentences
        ]
        return entry

    lost_opening = recognized(
        constructed(tmp_path, "ar"), "model", {k: " ".join(v.split()[2:]) for k, v in sentences.items()}
    )
    clean = recognized(constructed(tmp_path, "gan"), "model", sentences)
    clean.rows += recognized(constructed(tmp_path, "gan"), "reference", sentences).rows
    clean.summary["conditions"]["reference"] = {"metrics": {}}
    table = position_table([lost_opening, clean])
    assert table.header == ["system", "first 3 words", "inside", "last 3 words"]
    rates = {row[0].text: [cell.text for cell in row[1:]] for row in table.rows}
    assert rates == {"ar": ["0.667", "0", "0"], "gan": ["0", "0", "0"], "recordings": ["0", "0", "0"]}
    assert "2 test sentences of at least 7 words" in table.caption
    assert position_table([constructed(tmp_path, "vae")]) is None  # nothing recognized: no table
