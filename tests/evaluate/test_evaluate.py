"""``tts-gen evaluate`` on tiny flow runs: the files it writes, the metrics in them, resuming, refusals."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT
from tests.evaluate.conftest import SECOND, evaluate_args
from tts_gen.cli import main
from tts_gen.config import load_yaml
from tts_gen.files import read_json_lines


def test_evaluation_writes_every_condition_and_metric(tiny_evaluations, capsys):
    out = tiny_evaluations[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["pending"] == 0
    assert summary["eval"]["corpus"] == "ljspeech-format" and summary["eval"]["family"] == "flow"
    conditions = summary["conditions"]
    assert list(conditions) == ["reference", "copy-synthesis", "model", "temperature=0.5", "robustness"]
    model = conditions["model"]["metrics"]
    for key in (
        "mcd_db",
        "vuv_error",
        "mel_l1",
        "wer",
        "cer",
        "nll",
        "rtf_acoustic",
        "rtf_vocoder",
        "rtf_total",
        "peak_memory_mb",
        "duration_spread_seconds",
        "loss/flow/nll",
    ):
        assert key in model, key
    assert model["nll"]["mean"] == pytest.approx(model["loss/flow/nll"]["mean"])
    assert model["duration_spread_seconds"]["mean"] == 0.0  # durations come from the deterministic predictor
    assert "mcd_db" not in conditions["reference"]["metrics"] and "wer" in conditions["reference"]["metrics"]
    assert any("no option 'steps'" in note for note in summary["notes"])
    assert summary["robustness"]["sentences"] == 1
    assert [p["condition"] for p in summary["sweeps"]["temperature"]] == ["temperature=0.5", "model"]
    rows = read_json_lines(out / "utterances.jsonl")
    assert {(r["condition"], r["set"]) for r in rows} == {
        ("reference", "test"),
        ("copy-synthesis", "test"),
        ("model", "test"),
        ("temperature=0.5", "test"),
        ("robustness", "robustness"),
    }
    for row in rows:
        if row["condition"] != "reference":
            assert (out / row["wav"]).is_file()
    model_row = next(r for r in rows if r["condition"] == "model")
    assert ("log_f0_rmse" in model) == (model_row["voiced_frames"] > 0)  # F0 error needs frames voiced in both
    chosen = summary["eval"]["choice"]["value"]
    assert model_row["options"] == {"temperature": chosen} and len(model_row["diversity_wavs"]) == 2
    assert model_row["mcd_db"] > 0 and 0 <= model_row["wer"]


def test_evaluation_records_protocol_budget_sampling_and_choice(tiny_evaluations, tiny_runs, spine_run):
    info = json.loads((tiny_evaluations[0] / "eval.json").read_text())
    spine = json.loads((tiny_evaluations[1] / "eval.json").read_text())["spine"]
    assert info["protocol"] == "shared" and info["spine"] == spine and info["spine"]["family"] == "prior"
    budget = info["budget"]
    assert (budget["steps"], budget["batch_size"], budget["loss_window"]) == (2, 2, "172 frames (2.0 s)")
    assert 2 <= budget["utterances"] <= 4 and budget["minutes"] > 0 and budget["best_metric"] == "mel_l1"
    configured = load_yaml(ROOT / "egs" / "demo" / "flow.yaml")["train"]["learning_rate"]
    assert budget["device"]["device"] == "cpu" and budget["learning_rate"] == configured
    assert info["sampling"] == {"sampler": "one pass", "nfe": 1}
    choice = info["choice"]
    assert choice["option"] == "temperature" and [s["value"] for s in choice["scores"]] == [0.0, 0.3]
    assert choice["value"] == info["chosen"]["temperature"]
    assert all(len(s["sentence_wers"]) == choice["utterances"] == 1 for s in choice["scores"])
    # one sentence has no standard error: the candidates of the lowest WER compete on mel L1
    lowest = min(s["wer"] for s in choice["scores"])
    best = min((s for s in choice["scores"] if s["wer"] == lowest), key=lambda s: s["mel_l1"])
    assert choice["value"] == best["value"]
    assert info["load_average"]["before"] >= 0 and info["load_average"]["after"] >= 0
    assert info["crossing"]["labels"] == ["latent z", "cond + f^-1(z)"]


def test_a_choice_takes_the_lowest_mel_l1_among_candidates_within_one_standard_error_of_the_lowest_wer():
    from tts_gen.evaluate.pipeline.choice import chosen_value

    def scores(sentence_wers, mel_l1):
        return {"wer": sum(sentence_wers) / len(sentence_wers), "sentence_wers": sentence_wers, "mel_l1": mel_l1}

    # 0.667 is better on every sentence: its lower word error rate is beyond noise and wins over a lower mel L1
    consistent = {0.0: scores([0.5, 0.4, 0.6, 0.5], 0.45), 0.667: scores([0.4, 0.4, 0.5, 0.45], 0.6)}
    assert chosen_value(consistent, use_asr=True) == 0.667
    # 0.667's mean is lower by less than the standard error of the paired differences: mel L1 decides
    noisy = {0.0: scores([0.9, 0.1, 0.5, 0.5], 0.45), 0.667: scores([0.2, 0.5, 0.4, 0.6], 0.6)}
    assert chosen_value(noisy, use_asr=True) == 0.0
    assert chosen_value({0.0: scores([0.5], 0.5), 0.3: scores([0.5], 0.5)}, use_asr=True) == 0.0  # a tie: the first
    assert chosen_value(consistent, use_asr=False) == 0.0  # without ASR, mel L1 alone


def test_learning_curve_scores_every_kept_checkpoint(tiny_evaluations):
    rows = read_json_lines(tiny_evaluations[0] / "curve.jsonl")
    assert [row["step"] for row in sorted(rows, key=lambda r: r["step"])] == [1, 2]
    for row in rows:
        assert row["n"] == 1 and row["mel_l1"] > 0 and 0 <= row["wer"] and row["minutes"] > 0
    seen = [row["utterances"] for row in sorted(rows, key=lambda r: r["step"])]
    assert 0 < seen[0] < seen[1] <= 4


def test_the_curve_point_of_the_evaluated_checkpoint_repeats_its_test_rows(tiny_runs, evaluation_data, tmp_path):
    out = tmp_path / "eval"
    extra = ["--skip", "robustness", "world", "copy-synthesis", "--diversity-samples", "0", "--learning-curve"]
    noisy = ["--choose", "temperature=0.5", "--choose-utts", "1"]  # the one candidate becomes the test's temperature
    assert main(evaluate_args(tiny_runs[1], evaluation_data, out, *extra, *noisy, "--curve-utts", "1")) == 0
    step = json.loads((out / "eval.json").read_text())["budget"]["steps"]
    (point,) = [row for row in read_json_lines(out / "curve.jsonl") if row["step"] == step]
    (model,) = [row for row in read_json_lines(out / "utterances.jsonl") if row["condition"] == "model"]
    assert model["options"]["temperature"] > 0, "the sample must depend on its noise for the check to mean anything"
    assert point["n"] == 1 and point["mel_l1"] == model["mel_l1"] and point["wer"] == model["wer"]


def test_rerun_resumes_without_redoing_work(tiny_runs, tiny_evaluations, evaluation_data):
    out = tiny_evaluations[1]
    synth_before = (out / "synth.jsonl").read_text()
    lines = (out / "utterances.jsonl").read_text().splitlines()
    (out / "utterances.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])  # torn write
    assert main(evaluate_args(tiny_runs[1], evaluation_data, out, *SECOND)) == 0
    assert (out / "synth.jsonl").read_text() == synth_before  # nothing synthesized again
    rescored = read_json_lines(out / "utterances.jsonl")
    assert len({(r["condition"], r["id"]) for r in rescored}) == len(lines)
    assert json.loads((out / "summary.json").read_text())["complete"]


def test_an_evaluation_folder_refuses_other_settings(tiny_runs, tiny_evaluations, evaluation_data, capsys):
    args = evaluate_args(tiny_runs[0], evaluation_data, tiny_evaluations[1], "--seed", "99")
    assert main(args) == 2
    assert "other settings" in capsys.readouterr().err


def test_sweep_values_take_the_type_of_their_option():
    from tts_gen.evaluate.pipeline.plan import parse_sweep
    from tts_gen.models.decoders.ar import AROptions
    from tts_gen.models.decoders.diffusion import DiffusionOptions

    assert parse_sweep(DiffusionOptions, "diffusion", "sampler", ["ode", "sde"]) == (["ode", "sde"], None)
    assert parse_sweep(DiffusionOptions, "diffusion", "steps", ["2", "10"]) == ([2, 10], None)
    assert parse_sweep(AROptions, "ar", "prenet_dropout", ["false", "true"]) == ([False, True], None)
    values, note = parse_sweep(AROptions, "ar", "steps", ["2"])
    assert values == [] and "has no option 'steps'" in note
    with pytest.raises(ValueError, match="option steps needs a whole number, got '2.5'"):
        parse_sweep(DiffusionOptions, "diffusion", "steps", ["2.5"])


def test_bad_sweep_and_skip_are_one_line_errors(tiny_runs, evaluation_data, tmp_path, capsys):
    assert main(evaluate_args(tiny_runs[0], evaluation_data, tmp_path / "x", "--sweep", "steps")) == 2
    assert "OPTION=V1,V2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(evaluate_args(tiny_runs[0], evaluation_data, tmp_path / "y", "--skip", "everything"))
    capsys.readouterr()
    assert main(evaluate_args(tiny_runs[0], evaluation_data, tmp_path / "z", "--sweep-utts", "-1")) == 2
    error = capsys.readouterr().err.strip()
    assert "sweep_utts must be >= 0, got -1" in error and "\n" not in error
    assert not (tmp_path / "z").exists()


def test_a_transcript_cache_that_is_a_folder_is_a_one_line_error(tiny_runs, evaluation_data, tmp_path, capsys):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    args = evaluate_args(tiny_runs[0], evaluation_data, tmp_path / "x", "--transcript-cache", str(folder))
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert f"--transcript-cache {folder} must be a file" in error and "\n" not in error
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_a_sweep_on_fewer_sentences_compares_its_points_on_the_same_ones(tiny_runs, evaluation_data, tmp_path):
    out = tmp_path / "eval"
    sweep = ["--split", "train", "--max-utts", "3", "--sweep", "temperature=0.5", "--sweep-utts", "1"]
    assert main(evaluate_args(tiny_runs[1], evaluation_data, out, *SECOND, *sweep)) == 0
    rows = read_json_lines(out / "utterances.jsonl")
    model = [row for row in rows if row["condition"] == "model"]
    (swept,) = [row for row in rows if row["condition"] == "temperature=0.5"]
    assert len(model) == 3 and swept["id"] == model[0]["id"]
    summary = json.loads((out / "summary.json").read_text())
    default, point = sorted(summary["sweeps"]["temperature"], key=lambda p: p["value"])
    assert default["default"] and default["condition"] != "model"  # the run's point on the swept sentence only
    condition = summary["conditions"][default["condition"]]
    assert condition["n"] == 1 and summary["conditions"]["model"]["n"] == 3
    assert condition["metrics"]["mel_l1"]["mean"] == pytest.approx(model[0]["mel_l1"])
