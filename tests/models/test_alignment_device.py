"""The torch search (for tensors on a device) against the numba search, which it must equal exactly."""

from __future__ import annotations

import pytest
import torch

from tts_gen.models import alignment
from tts_gen.models.alignment import (
    _backtrack,
    _maximum_path_one,
    _path_columns,
    _search_durations_torch,
    _search_method,
    expand,
    gaussian_log_likelihood,
    search_durations,
)


def valid_cells(t_x: int, t_y: int) -> torch.Tensor:
    """(t_x, t_y) bool: the cells the search computes, ``x`` in ``[max(0, t_x + y - t_y), min(t_x, y + 1))``."""
    x, y = torch.arange(t_x).unsqueeze(1), torch.arange(t_y)
    return (x >= t_x + y - t_y) & (x <= y)


def random_batch(
    generator: torch.Generator, batch: int = 6, t_text: int = 12, t_mel: int = 40, junk: float = 1e30
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-likelihoods (B, T_text, T_mel) with random lengths, among them a full item, a t_x == t_y item and a
    one-token item, and random values up to +-``junk`` outside each item's valid cells."""
    x_lengths = torch.randint(1, t_text + 1, (batch,), generator=generator)
    x_lengths[:3] = torch.tensor([t_text, int(torch.randint(1, t_text + 1, (1,), generator=generator)), 1])
    y_lengths = x_lengths + (torch.rand(batch, generator=generator) * (t_mel + 1 - x_lengths)).long()
    y_lengths[0], y_lengths[1] = t_mel, x_lengths[1]  # the longest item; an item with t_x == t_y
    value = torch.randn(batch, t_text, t_mel, generator=generator) * 10
    padding = torch.ones(batch, t_text, t_mel, dtype=torch.bool)  # and the cells of an item the search never reads
    for b in range(batch):
        padding[b, : x_lengths[b], : y_lengths[b]] = ~valid_cells(int(x_lengths[b]), int(y_lengths[b]))
    junk_values = (torch.rand(batch, t_text, t_mel, generator=generator) * 2 - 1) * junk
    return torch.where(padding, junk_values, value), x_lengths, y_lengths


def numba_scores(value: torch.Tensor, t_x: int, t_y: int) -> torch.Tensor:
    """(t_x, t_y) path scores of one item as the numba loop leaves them (valid cells only are meaningful)."""
    scores = value[:t_x, :t_y].float().numpy().copy()
    _maximum_path_one(scores, torch.zeros(t_x, dtype=torch.long).numpy(), t_x, t_y)
    return torch.from_numpy(scores)


def both_searches(value, x_lengths, y_lengths) -> tuple[torch.Tensor, torch.Tensor]:
    numba = search_durations(value, x_lengths, y_lengths, threads=1, method="numba")
    return numba, search_durations(value, x_lengths, y_lengths, method="torch")


@pytest.mark.parametrize("seed", range(6))
def test_torch_search_equals_numba_on_random_batches(seed):
    generator = torch.Generator().manual_seed(seed)
    t_text, t_mel = [(12, 40), (1, 7), (9, 9), (20, 33), (5, 64), (16, 50)][seed]
    value, x_lengths, y_lengths = random_batch(generator, 7, t_text, t_mel, junk=[1e30, 3e38, 1e4][seed % 3])
    numba, torch_ = both_searches(value, x_lengths, y_lengths)
    assert torch.equal(torch_, numba) and torch_.dtype == torch.long
    lengths32 = x_lengths.int(), y_lengths.int()
    assert torch.equal(search_durations(value.double(), *lengths32, method="torch"), numba)  # reads .float()


@pytest.mark.parametrize("scale", [10.0, 1e30])
def test_torch_path_scores_are_the_numba_scores_bit_for_bit(scale):
    """At a scale of 1e30 the best predecessor is often the missing one (-1e30 in float64): the numba loop adds
    in float64 and rounds, which float32 sums do not reproduce."""
    generator = torch.Generator().manual_seed(10)
    value, x_lengths, y_lengths = random_batch(generator, 6, 10, 30)
    value = value * torch.where(value.abs() < 1e29, scale, 1.0)
    numba, torch_ = both_searches(value, x_lengths, y_lengths)
    assert torch.equal(torch_, numba)
    scores = torch.stack([column for column, _ in _path_columns(value)], dim=-1)
    for b, (t_x, t_y) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        valid = valid_cells(t_x, t_y)
        expected = numba_scores(value[b], t_x, t_y)[valid]
        assert torch.equal(scores[b, :t_x, :t_y][valid].view(torch.int32), expected.view(torch.int32))


def tie_heavy_batches() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Constant, 0/1 and small-integer log-likelihoods, where many paths have the same score."""
    generator = torch.Generator().manual_seed(20)
    batches = []
    for kind in ["constant", "binary", "integer"]:
        value, x_lengths, y_lengths = random_batch(generator, 8, 9, 30)
        if kind == "constant":
            ties = torch.full_like(value, -1.0)
        elif kind == "binary":
            ties = torch.randint(0, 2, value.shape, generator=generator).float()
        else:
            ties = torch.randint(-2, 3, value.shape, generator=generator).float()
        batches.append((ties, x_lengths, y_lengths))
    return batches


def test_ties_keep_the_current_token_as_in_numba():
    moving_on_ties_differs = False
    for value, x_lengths, y_lengths in tie_heavy_batches():
        numba, torch_ = both_searches(value, x_lengths, y_lengths)
        assert torch.equal(torch_, numba)
        # the batches do test the tie rule: moving back on ties instead gives other durations
        columns = [column for column, _ in _path_columns(value)]
        advances = [(torch.arange(value.shape[1]) > 0).expand(value.shape[:2])]
        for y in range(1, value.shape[2]):
            previous = columns[y - 1]
            on_ties = torch.cat([torch.zeros(len(value), 1, dtype=torch.bool), previous[:, 1:] <= previous[:, :-1]], 1)
            advances.append(on_ties | (torch.arange(value.shape[1]) >= y))
        moving_on_ties = _backtrack(torch.stack(advances), x_lengths, y_lengths)
        moving_on_ties_differs |= not torch.equal(moving_on_ties, numba)
    assert moving_on_ties_differs


def test_both_searches_recover_a_planted_alignment():
    generator = torch.Generator().manual_seed(30)
    batch, n_mels, t_text = 4, 20, 10
    x_lengths = torch.tensor([10, 7, 1, 4])
    planted = torch.randint(1, 7, (batch, t_text), generator=generator) * (torch.arange(t_text) < x_lengths[:, None])
    y_lengths = planted.sum(-1)
    mu_x = torch.randn(batch, n_mels, t_text, generator=generator) * 3
    y = expand(mu_x, planted) + 0.1 * torch.randn(batch, n_mels, int(y_lengths.max()), generator=generator)
    y = y + 50.0 * (torch.arange(y.shape[-1]) >= y_lengths[:, None, None])  # padded frames far from any token
    log_likelihood = gaussian_log_likelihood(mu_x, y)
    for durations in both_searches(log_likelihood, x_lengths, y_lengths):
        assert torch.equal(durations, planted)


def test_torch_durations_cover_each_item_exactly():
    generator = torch.Generator().manual_seed(40)
    value, x_lengths, y_lengths = random_batch(generator, 8, 15, 45)
    durations = search_durations(value, x_lengths, y_lengths, method="torch")
    tokens = torch.arange(15).unsqueeze(0) < x_lengths.unsqueeze(1)
    assert torch.equal(durations.sum(-1), y_lengths)
    assert bool((durations[tokens] >= 1).all()) and bool((durations[~tokens] == 0).all())


def test_auto_picks_torch_on_cuda_and_numba_elsewhere(monkeypatch):
    assert _search_method(torch.device("cuda", 0), triton=False) == "torch"
    assert _search_method(torch.device("cpu")) == "numba"
    generator = torch.Generator().manual_seed(50)
    value, x_lengths, y_lengths = random_batch(generator, 3, 6, 20)
    numba = search_durations(value, x_lengths, y_lengths, method="numba")

    def not_on_the_cpu(*args):
        raise AssertionError("the torch search ran for a CPU tensor")

    monkeypatch.setattr(alignment, "_search_durations_torch", not_on_the_cpu)
    assert torch.equal(search_durations(value, x_lengths, y_lengths), numba)
    calls = []
    monkeypatch.setattr(alignment, "_search_method", lambda device: "torch")
    monkeypatch.setattr(alignment, "_search_durations_torch", lambda *args: calls.append(args) or numba)
    search_durations(value, x_lengths, y_lengths)
    assert len(calls) == 1 and calls[0][0] is value


def test_torch_search_reads_no_value_on_the_host():
    """On the meta device any read of a value (``.item()``, ``bool()``, ``.tolist()``) raises."""
    value = torch.empty(3, 7, 25, device="meta")
    lengths = torch.empty(3, dtype=torch.long, device="meta")
    durations = _search_durations_torch(value, lengths, lengths)
    assert durations.shape == (3, 7) and durations.dtype == torch.long


def test_the_lengths_and_the_method_are_checked():
    with pytest.raises(ValueError, match="fewer mel frames than tokens"):
        search_durations(torch.zeros(1, 3, 2), torch.tensor([3]), torch.tensor([2]), method="torch")
    with pytest.raises(ValueError, match="unknown search method"):
        search_durations(torch.zeros(1, 2, 2), torch.tensor([2]), torch.tensor([2]), method="cuda")
