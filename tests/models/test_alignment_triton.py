"""The Triton search against the numba search, which it must equal exactly, and the choice of search.

Without a GPU the kernel runs in Triton's interpreter (``TRITON_INTERPRET=1``, read when the kernel is defined, on
importing :mod:`tts_gen.models.alignment_triton`) on CPU tensors, in a subprocess that searches every batch below once.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT
from tests.models.test_alignment_device import numba_scores, random_batch, tie_heavy_batches, valid_cells
from tts_gen.models import alignment, alignment_triton
from tts_gen.models.alignment import _search_method, expand, gaussian_log_likelihood, search_durations

pytest.importorskip("triton")

INTERPRET = """
import sys, torch
from tts_gen.models.alignment_triton import _run_kernel, search_durations_triton
batches = torch.load(sys.argv[1])
results = {}
for name, (value, x_lengths, y_lengths) in batches.items():
    results[name] = search_durations_triton(value, x_lengths, y_lengths)
    if name.startswith("scores"):
        durations = torch.zeros(value.shape[:2], dtype=torch.long)
        results[name + "/scores"] = _run_kernel(value, x_lengths, y_lengths, durations)[0]
torch.save(results, sys.argv[2])
"""


def planted_batch() -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """Gaussian log-likelihoods of a target made from known durations, and those durations (B, T_text)."""
    generator = torch.Generator().manual_seed(30)
    batch, n_mels, t_text = 4, 20, 10
    x_lengths = torch.tensor([10, 7, 1, 4])
    planted = torch.randint(1, 7, (batch, t_text), generator=generator) * (torch.arange(t_text) < x_lengths[:, None])
    y_lengths = planted.sum(-1)
    mu_x = torch.randn(batch, n_mels, t_text, generator=generator) * 3
    y = expand(mu_x, planted) + 0.1 * torch.randn(batch, n_mels, int(y_lengths.max()), generator=generator)
    y = y + 50.0 * (torch.arange(y.shape[-1]) >= y_lengths[:, None, None])  # padded frames far from any token
    return (gaussian_log_likelihood(mu_x, y), x_lengths, y_lengths), planted


def batches() -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Every batch the interpreter searches, by name; ``scores*`` ones also give their path scores."""
    found = {}
    shapes = [(12, 40), (1, 7), (9, 9), (17, 33), (5, 60), (20, 24)]
    for seed, (t_text, t_mel) in enumerate(shapes):
        generator = torch.Generator().manual_seed(seed)
        found[f"random/{seed}"] = random_batch(generator, 5, t_text, t_mel, junk=[1e30, 3e38, 1e4][seed % 3])
    for scale in [10.0, 1e30]:  # at 1e30 the best predecessor is often the missing one, the float64 -1e30
        value, x_lengths, y_lengths = random_batch(torch.Generator().manual_seed(10), 5, 10, 30)
        found[f"scores/{scale:g}"] = value * torch.where(value.abs() < 1e29, scale, 1.0), x_lengths, y_lengths
    for kind, batch in zip(["constant", "binary", "integer"], tie_heavy_batches()):
        found[f"ties/{kind}"] = batch
    found["planted"] = planted_batch()[0]
    value, x_lengths, y_lengths = random_batch(torch.Generator().manual_seed(60), 4, 8, 20)
    found["strided/double/int32"] = (
        value.double().transpose(1, 2).contiguous().transpose(1, 2),
        *(lengths.int() for lengths in (x_lengths, y_lengths)),
    )
    found["empty"] = torch.zeros(0, 3, 5), torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    return found


@pytest.fixture(scope="module")
def interpreted(tmp_path_factory) -> dict[str, torch.Tensor]:
    """The Triton kernel's results on :func:`batches`, run by the interpreter in a subprocess."""
    folder = tmp_path_factory.mktemp("triton")
    torch.save(batches(), folder / "batches.pt")
    result = subprocess.run(
        [sys.executable, "-c", INTERPRET, str(folder / "batches.pt"), str(folder / "results.pt")],
        cwd=ROOT,
        env={**os.environ, "TRITON_INTERPRET": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return torch.load(folder / "results.pt")


def numba_durations(value: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> torch.Tensor:
    return search_durations(value, x_lengths, y_lengths, threads=1, method="numba")


def assert_numba_scores(scores: torch.Tensor, value: torch.Tensor, x_lengths, y_lengths) -> None:
    """The kernel's path scores (B, T_mel, T_text) are the numba loop's in each item's valid cells, bit for bit."""
    scores = scores.transpose(1, 2)  # (B, T_text, T_mel)
    for b, (t_x, t_y) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        valid = valid_cells(t_x, t_y)
        expected = numba_scores(value[b], t_x, t_y)[valid]
        assert torch.equal(scores[b, :t_x, :t_y][valid].view(torch.int32), expected.view(torch.int32))


@pytest.mark.parametrize("seed", range(6))
def test_triton_search_equals_numba_on_random_batches(interpreted, seed):
    value, x_lengths, y_lengths = batches()[f"random/{seed}"]
    durations = interpreted[f"random/{seed}"]
    assert durations.dtype == torch.long and torch.equal(durations, numba_durations(value, x_lengths, y_lengths))


@pytest.mark.parametrize("scale", ["10", "1e+30"])
def test_triton_path_scores_are_the_numba_scores_bit_for_bit(interpreted, scale):
    value, x_lengths, y_lengths = batches()[f"scores/{scale}"]
    assert torch.equal(interpreted[f"scores/{scale}"], numba_durations(value, x_lengths, y_lengths))
    assert_numba_scores(interpreted[f"scores/{scale}/scores"], value, x_lengths, y_lengths)


@pytest.mark.parametrize("kind", ["constant", "binary", "integer"])
def test_triton_ties_keep_the_current_token_as_in_numba(interpreted, kind):
    value, x_lengths, y_lengths = batches()[f"ties/{kind}"]
    assert torch.equal(interpreted[f"ties/{kind}"], numba_durations(value, x_lengths, y_lengths))


def test_triton_search_recovers_a_planted_alignment(interpreted):
    assert torch.equal(interpreted["planted"], planted_batch()[1])


def test_triton_search_reads_any_layout_dtype_and_length_type(interpreted):
    value, x_lengths, y_lengths = batches()["strided/double/int32"]
    durations = interpreted["strided/double/int32"]
    assert torch.equal(durations, numba_durations(value, x_lengths, y_lengths))
    assert torch.equal(durations.sum(-1), y_lengths.long())
    assert interpreted["empty"].shape == (0, 3) and interpreted["empty"].dtype == torch.long


def test_a_text_too_long_for_the_kernel_is_searched_by_torch_ops(monkeypatch):
    value, x_lengths, y_lengths = random_batch(torch.Generator().manual_seed(70), 3, 6, 20)
    monkeypatch.setattr(alignment_triton, "MAX_TOKENS", 4)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)  # the kernel cannot run on these CPU tensors
    durations = alignment_triton.search_durations_triton(value, x_lengths, y_lengths)
    assert torch.equal(durations, numba_durations(value, x_lengths, y_lengths))


def test_the_kernel_refuses_a_cpu_tensor_outside_the_interpreter(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    value, x_lengths, y_lengths = random_batch(torch.Generator().manual_seed(80), 3, 4, 10)
    with pytest.raises(ValueError, match="CUDA"):
        search_durations(value, x_lengths, y_lengths, method="triton")


def test_auto_picks_triton_on_cuda_when_available_then_torch_then_numba(monkeypatch):
    cuda, cpu = torch.device("cuda", 0), torch.device("cpu")
    assert _search_method(cuda, triton=True) == "triton"
    assert _search_method(cuda, triton=False) == "torch"
    assert _search_method(cpu, triton=True) == _search_method(cpu, triton=False) == "numba"
    monkeypatch.setattr(alignment, "triton_agrees", lambda device: True)  # checked in the next test
    for available, method in [(True, "triton"), (False, "torch")]:
        monkeypatch.setattr(alignment_triton, "triton_available", lambda device, answer=available: answer)
        assert _search_method(cuda) == method
    assert _search_method(cpu) == "numba"


def test_triton_is_available_only_on_a_cuda_device_with_triton(monkeypatch):
    assert not alignment_triton.triton_available("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert alignment_triton.triton_available("cuda") and alignment_triton.triton_available(torch.device("cuda", 1))
    assert not alignment_triton.triton_available("cpu")
    monkeypatch.setattr(alignment_triton, "triton", None)
    assert not alignment_triton.triton_available("cuda")


def test_method_triton_runs_the_kernel(monkeypatch):
    value, x_lengths, y_lengths = random_batch(torch.Generator().manual_seed(90), 3, 4, 10)
    calls = []

    def kernel(*args):
        calls.append(args)
        return torch.zeros(3, 4, dtype=torch.long)

    monkeypatch.setattr(alignment_triton, "search_durations_triton", kernel)
    search_durations(value, x_lengths, y_lengths, method="triton")
    monkeypatch.setattr(alignment, "_search_method", lambda device: "triton")
    search_durations(value, x_lengths, y_lengths)
    assert len(calls) == 2 and calls[0][0] is value
    with pytest.raises(ValueError, match="'triton'"):
        search_durations(value, x_lengths, y_lengths, method="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the compiled kernel needs a CUDA device")
def test_compiled_kernel_equals_numba_on_the_gpu():
    large = {
        f"large/{seed}": random_batch(torch.Generator().manual_seed(100 + seed), 16, t_text, t_mel, junk=3e38)
        for seed, (t_text, t_mel) in enumerate([(200, 900), (37, 450), (1, 64), (600, 700)])
    }
    for name, (value, x_lengths, y_lengths) in {**batches(), **large}.items():
        durations = search_durations(value.cuda(), x_lengths.cuda(), y_lengths.cuda(), method="triton")
        assert durations.is_cuda and torch.equal(durations.cpu(), numba_durations(value, x_lengths, y_lengths)), name
    value, x_lengths, y_lengths = batches()["scores/1e+30"]
    durations = torch.zeros(value.shape[:2], dtype=torch.long).cuda()
    scores = alignment_triton._run_kernel(value.cuda(), x_lengths.cuda(), y_lengths.cuda(), durations)[0]
    assert_numba_scores(scores.cpu(), value, x_lengths, y_lengths)


def test_auto_checks_the_triton_kernel_once_and_keeps_to_torch_if_it_disagrees(monkeypatch):
    """On first use per device the kernel is compared with the torch search; a kernel that disagrees (here, one that
    moves a frame from the last token to the first) is not used, with a warning."""

    def off_by_one(value, x_lengths, y_lengths):
        durations = alignment._search_durations_torch(value, x_lengths, y_lengths)
        last = (x_lengths - 1).clamp(min=0)
        durations[torch.arange(len(durations)), last] -= (x_lengths > 1).long()
        durations[:, 0] += (x_lengths > 1).long()
        return durations

    alignment.triton_agrees.cache_clear()
    monkeypatch.setattr(alignment_triton, "search_durations_triton", alignment._search_durations_torch)
    assert alignment.triton_agrees("cpu")
    alignment.triton_agrees.cache_clear()
    monkeypatch.setattr(alignment_triton, "search_durations_triton", off_by_one)
    with pytest.warns(UserWarning, match="disagrees with the torch search"):
        assert not alignment.triton_agrees("cpu")
    alignment.triton_agrees.cache_clear()
    monkeypatch.setattr(alignment_triton, "triton_available", lambda device: True)
    for agrees, method in [(True, "triton"), (False, "torch")]:
        monkeypatch.setattr(alignment, "triton_agrees", lambda device, agrees=agrees: agrees)
        assert alignment._search_method(torch.device("cuda", 0)) == method
