"""Training under several processes (torchrun, gloo on the CPU): real processes, compared with one process.

Each test starts ``torchrun`` on tests/train/ddp_worker.py (or on ``tts-gen train``) and reads what every rank wrote.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

from tests.conftest import ROOT, TINY_ENCODER
from tts_gen.runs import load_checkpoint, read_metrics, step_checkpoints

WORKER = Path(__file__).with_name("ddp_worker.py")
TINY_DECODERS = {
    "prior": [],
    "flow": ["model.decoder.hidden_channels=16", "model.decoder.n_blocks=1", "model.decoder.n_layers=1"],
    "ar": [
        "model.decoder.prenet_channels=16",
        "model.decoder.cond_channels=16",
        "model.decoder.lstm_channels=16",
        "model.decoder.postnet_channels=16",
        "model.decoder.postnet_layers=1",
    ],
    "vae": [
        "model.decoder.z_channels=4",
        "model.decoder.posterior.hidden_channels=16",
        "model.decoder.posterior.n_layers=1",
        "model.decoder.prior.hidden_channels=16",
        "model.decoder.prior.n_layers=1",
        "model.decoder.decoder.hidden_channels=16",
        "model.decoder.decoder.n_layers=1",
    ],
    "gan": [
        "model.decoder.hidden_channels=16",
        "model.decoder.n_stacks=1",
        "model.decoder.n_layers=2",
        "model.decoder.discriminator.channels=8",
        "model.decoder.discriminator.n_layers=2",
    ],
}
TINY_UNET = [
    "model.decoder.segment_frames=32",
    "model.decoder.network.channels=[16,16]",
    "model.decoder.network.time_channels=8",
    "model.decoder.network.attention_filter_channels=16",
]
TINY_DECODERS.update({"diffusion": TINY_UNET, "flow_matching": TINY_UNET})
NO_DROPOUT = ["model.encoder.dropout=0", "model.encoder.prenet_dropout=0", "model.encoder.duration_dropout=0"]
QUIET = [
    "train.num_workers=0",
    "train.log_every=1",
    "train.val_every=1000",
    "train.checkpoint_every=1000",
    "train.warmup_steps=1",
    "train.val_max_batches=1",
]


def acoustic_job(name: str, family: str, overrides: list[str], **extra) -> dict:
    """A worker job training the tiny demo config of ``family``."""
    config = f"egs/demo/{family}.yaml"
    return {
        "name": name,
        "kind": "acoustic",
        "config": config,
        "overrides": [*TINY_ENCODER, *TINY_DECODERS[family], *QUIET, *overrides],
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(processes: int, *args, rendezvous: list[str] | None = None) -> list[str]:
    """The torchrun command line starting ``processes`` processes of ``args`` on this machine."""
    rendezvous = rendezvous or ["--standalone"]
    return [sys.executable, "-m", "torch.distributed.run", *rendezvous, "--nproc_per_node", str(processes), *args]


def environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def run_jobs(processes: int, prepared: Path, out: Path, jobs: list[dict]) -> None:
    command = torchrun(processes, WORKER, prepared, out, json.dumps(jobs))
    result = subprocess.run([str(c) for c in command], cwd=ROOT, env=environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def results(out: Path, name: str, processes: int) -> list[dict]:
    """What each rank of job ``name`` wrote, in rank order."""
    return [torch.load(out / name / f"rank{rank}.pt", weights_only=True) for rank in range(processes)]


def assert_equal_states(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} differs"


def max_difference(a: dict, b: dict) -> float:
    return max(float((a[name].double() - b[name].double()).abs().max()) for name in a if a[name].numel())


def test_two_processes_of_half_batches_reach_the_weights_of_one_process(prepared_mini, tmp_path):
    """Two ranks with batches of 2 = one process with batches of 4 on the same 4 utterances, after 2 steps: the
    prior (no noise) and the flow (ActNorm initialised from the data). The utterances are cut to one length, so
    each batch's loss is the mean of its items'; an eps of 1e-3 makes Adam's update follow the gradient's size; in
    float64, as the flow's zero-initialised last layers get gradients that are small differences of large sums.
    Both families' single-process runs share one launch, and their two-rank runs another."""
    families = ("prior", "flow")
    single, two_ranks = [], []
    for family in families:
        same = [
            "train.max_steps=2",
            "train.eps=1e-3",
            *NO_DROPOUT,
            *(["model.decoder.dropout=0"] if family == "flow" else []),
        ]
        halves = acoustic_job(f"{family}-two", family, [*same, "train.batch_size=2"], equal_lengths=4, float64=True)
        whole = acoustic_job(f"{family}-one", family, [*same, "train.batch_size=4"], equal_lengths=4, float64=True)
        two_ranks.append(halves)
        single += [whole, {**halves, "name": f"{family}-alone"}]  # rank 0's batches, no other rank
    run_jobs(1, prepared_mini, tmp_path, single)
    run_jobs(2, prepared_mini, tmp_path, two_ranks)
    for family in families:
        (one,), (rank0, rank1), (alone,) = (
            results(tmp_path, f"{family}-{name}", n) for name, n in [("one", 1), ("two", 2), ("alone", 1)]
        )
        assert rank0["step"] == one["step"] == 2, family
        assert_equal_states(rank0["state"], rank1["state"])
        assert max_difference(rank0["state"], one["state"]) < 1e-10, family
        assert max_difference(alone["state"], one["state"]) > 1e-5, family  # it sees which utterances were used


def test_every_family_trains_under_two_processes_with_identical_weights_and_its_own_noise(prepared_mini, tmp_path):
    """After 3 steps on two ranks every family's weights (a discriminator's too) are identical on both ranks,
    while the families that draw noise drew different noise on each rank; the vocoder trains the same way."""
    steps = ["train.max_steps=3", "train.batch_size=2"]
    jobs = [acoustic_job(family, family, steps, equal_lengths=4) for family in TINY_DECODERS]  # noise of one shape
    from tests.vocoders.conftest import TINY as TINY_VOCODER

    vocoder = [*TINY_VOCODER, *QUIET, "train.max_steps=3", "train.batch_size=1"]
    jobs.append({"name": "hifigan", "kind": "vocoder", "config": "egs/demo/hifigan.yaml", "overrides": vocoder})
    run_jobs(2, prepared_mini, tmp_path, jobs)
    for job in jobs:
        rank0, rank1 = results(tmp_path, job["name"], 2)
        assert rank0["step"] == rank1["step"] == 3, job["name"]
        assert_equal_states(rank0["state"], rank1["state"])
        if job["name"] in ("diffusion", "flow_matching", "vae", "gan"):
            assert rank0["noise"] is not None and not torch.equal(rank0["noise"], rank1["noise"]), job["name"]
        metrics = read_metrics(tmp_path / job["name"] / "run")
        losses = [row["loss"] for row in metrics if row.get("split") == "train"]
        assert len(losses) == 3 and all(map(torch.isfinite, torch.tensor(losses))), job["name"]
    for adversarial in ("gan", "hifigan"):
        assert any("discriminator." in name for name in results(tmp_path, adversarial, 2)[0]["state"])


def test_a_run_stopped_under_two_processes_resumes_to_the_uninterrupted_weights(prepared_mini, tmp_path):
    """Flow matching (noise on each rank, saved and restored per rank) stopped after 2 of 5 steps and resumed in new
    processes ends where a run of 5 steps straight ends, bit for bit."""
    overrides = ["train.max_steps=5", "train.batch_size=1"]
    straight = acoustic_job("straight", "flow_matching", overrides, equal_lengths=4)
    stopped = acoustic_job("resumed", "flow_matching", overrides, equal_lengths=4, until_step=2)
    run_jobs(2, prepared_mini, tmp_path, [straight, stopped])
    assert [r["step"] for r in results(tmp_path, "resumed", 2)] == [2, 2]
    checkpoint = load_checkpoint(step_checkpoints(tmp_path / "resumed" / "run")[-1])
    states = [rng["torch"] for rng in checkpoint["rng_by_rank"]]
    assert len(states) == 2 and not torch.equal(*states)
    run_jobs(2, prepared_mini, tmp_path, [{**stopped, "until_step": None}])
    for a, b in zip(results(tmp_path, "straight", 2), results(tmp_path, "resumed", 2)):
        assert a["step"] == b["step"] == 5
        assert_equal_states(a["state"], b["state"])


def train_command(run_dir: Path, prepared: Path, steps: int) -> list[str]:
    """``tts-gen train`` of the tiny prior config (the arguments after ``-m tts_gen.cli``)."""
    config = ROOT / "egs" / "demo" / "prior.yaml"
    overrides = [*TINY_ENCODER, *QUIET, f"train.max_steps={steps}", "train.batch_size=1", "train.checkpoint_every=1"]
    return [
        "-m",
        "tts_gen.cli",
        "train",
        str(config),
        "--data",
        str(prepared),
        "--out",
        str(run_dir),
        "--device",
        "cpu",
        "--set",
        *overrides,
    ]


def wait_for_step(run_dir: Path, step: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if any(row.get("step", 0) >= step for row in read_metrics(run_dir)):
                return
        except ValueError:  # a row being written
            pass
        time.sleep(0.2)
    raise AssertionError(f"the run did not reach step {step}")


def test_sigterm_to_torchrun_saves_every_rank_and_the_run_resumes(prepared_mini, tmp_path):
    """SIGTERM to torchrun (what a scheduler sends) reaches both ranks, which stop at the same step and save one
    checkpoint holding both ranks' random states; `tts-gen train` under torchrun then resumes it to its end."""
    run_dir = tmp_path / "run"
    command = [str(c) for c in torchrun(2, *train_command(run_dir, prepared_mini, 10_000))]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_step(run_dir, 2, process)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode != 0
    last = step_checkpoints(run_dir)[-1]
    stopped_at = load_checkpoint(last)["step"]
    assert stopped_at >= 2 and "terminated: saving a checkpoint" in output
    assert len(load_checkpoint(last)["rng_by_rank"]) == 2
    resume = [str(c) for c in torchrun(2, *train_command(run_dir, prepared_mini, stopped_at + 2))]
    result = subprocess.run(resume, cwd=ROOT, env=environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"resuming {run_dir} from step {stopped_at}" in result.stdout + result.stderr
    assert load_checkpoint(step_checkpoints(run_dir)[-1])["step"] == stopped_at + 2


def test_two_nodes_on_loopback_train_through_the_c10d_rendezvous(prepared_mini, tmp_path):
    """Two torchrun "nodes" of one process each, meeting at a c10d rendezvous on 127.0.0.1, train 2 steps."""
    run_dir, port = tmp_path / "run", free_port()
    rendezvous = [
        "--nnodes",
        "2",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        f"127.0.0.1:{port}",
        "--rdzv-id",
        "loopback",
    ]
    command = [str(c) for c in torchrun(1, *train_command(run_dir, prepared_mini, 2), rendezvous=rendezvous)]
    nodes = [
        subprocess.Popen(
            command, cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [node.communicate(timeout=300)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(output[-3000:] for output in outputs)
    checkpoint = load_checkpoint(step_checkpoints(run_dir)[-1])
    assert checkpoint["step"] == 2 and len(checkpoint["rng_by_rank"]) == 2
