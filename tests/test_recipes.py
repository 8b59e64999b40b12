"""The LJSpeech recipe runs end to end on a tiny built-in corpus, and a second run skips every finished stage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tts_gen.runs import checkpoint_step, load_checkpoint, step_checkpoints

pytestmark = pytest.mark.skipif(shutil.which("flite") is None, reason="the built-in corpus needs flite")


def run_recipe(tmp_path: Path, *extra: str) -> str:
    tts = Path(sys.executable).parent / "tts-gen"
    command = [
        "bash",
        str(ROOT / "recipes" / "ljspeech" / "run.sh"),
        "--corpus",
        "ljflite",
        "--max-utts",
        "8",
        "--configs",
        "egs/demo",
        "--families",
        "prior,gan",
        "--steps",
        "2",
        "--spine-steps",
        "2",
        "--vocoder-steps",
        "2",
        "--finetune-steps",
        "1",
        "--eval-utts",
        "1",
        "--device",
        "cpu",
        "--eval-skip",
        "asr dnsmos world diversity robustness copy-synthesis",
        "--exp",
        str(tmp_path / "exp"),
        "--data-root",
        str(tmp_path / "data"),
        *extra,
    ]
    environment = {"TTS": str(tts), "PATH": f"{tts.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_recipe_runs_every_stage_then_skips_them(tmp_path):
    first = run_recipe(tmp_path)
    exp = tmp_path / "exp"
    assert (exp / "report" / "report.html").is_file() and (exp / "report" / "report.md").is_file()
    assert sorted(p.name for p in (exp / "gan" / "test_wavs").iterdir())  # stage 5 wrote the test sentences
    assert (exp / "vocoder-gan" / "checkpoints").is_dir()  # stage 4 fine-tuned the vocoder on gan's mels
    log = (exp / "cmd.log").read_text()
    assert "train egs/demo/gan.yaml" in log and f"spine={exp / 'prior'}" in log  # the shared protocol by default
    assert f"align --checkpoint {exp / 'prior'}" in log and "--allow-mixed-spines" not in log
    assert "Shared spine" in (exp / "report" / "report.md").read_text()
    assert "done before" not in first

    second = run_recipe(tmp_path)
    ran = [line for line in second.splitlines() if line.startswith("-- ") and "skipped" not in line]
    assert not ran, f"a finished stage ran again: {ran}"
    assert second.count("skipped") == len(log.strip().splitlines())


def test_joint_protocol_trains_each_family_its_own_encoder(tmp_path):
    run_recipe(tmp_path, "--protocol", "joint", "--warm-start", "prior", "--stop-stage", "2")
    log = (tmp_path / "exp" / "cmd.log").read_text()
    assert "spine=" not in log and " align " not in log
    assert f"train.init_from={tmp_path / 'exp' / 'prior'}" in log and "train.max_steps=2" in log


def test_a_wall_clock_budget_ends_every_decoder_run_and_copy_synthesis_is_evaluated_once(tmp_path):
    """Minutes alone end each decoder's training and mark its learning curve's checkpoints; in stage 6 the families
    of one vocoder share one copy-synthesis, and the sweep's options reach `tts-gen evaluate`."""
    minutes = ("--steps", "", "--minutes", "0.02", "--curve-minutes", "0.005")
    skips = ("--skip", "3,4,5", "--eval-vocoder", "griffin-lim", "--eval-skip", "asr dnsmos world")
    run_recipe(tmp_path, *minutes, *skips, "--nfe", "2", "--nfe-utts", "1")
    log = (tmp_path / "exp" / "cmd.log").read_text().splitlines()
    gan = next(line for line in log if "train egs/demo/gan.yaml" in line)
    assert "train.max_minutes=0.02" in gan and "train.max_steps=0" in gan  # not the config's step count
    assert "train.keep_every_minutes=0.005" in gan
    checkpoints = step_checkpoints(tmp_path / "exp" / "gan")
    last = load_checkpoint(checkpoints[-1])
    assert last["train_seconds"] >= 0.02 * 60 and last["step"] >= 1
    # the learning curve's checkpoints are those the clock marked, and the last one
    assert last["kept_steps"] and {checkpoint_step(p) for p in checkpoints} == {*last["kept_steps"], last["step"]}

    prior, gan = (next(line for line in log if f"[stage6.{family}]" in line) for family in ("prior", "gan"))
    assert "copy-synthesis" not in prior and "--skip asr dnsmos world copy-synthesis" in gan
    assert "--sweep nfe=2 --sweep-utts 1" in gan and "--learning-curve" in gan  # gan has no steps: a note, no sweep
    report = (tmp_path / "exp" / "report" / "report.md").read_text()
    assert "copy-synthesis (ceiling)" in report, "the report takes copy-synthesis from the evaluation that made it"
