"""Monotonic alignment search against brute force, and the duration arithmetic."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import torch

from tts_gen.models.alignment import (
    align,
    durations_to_path,
    expand,
    gaussian_log_likelihood,
    maximum_path,
    predicted_durations,
)


def brute_force_durations(value: torch.Tensor, t_x: int, t_y: int) -> list[int]:
    """Enumerates every monotonic alignment with >= 1 frame per token and returns the best durations."""
    best, best_durations = None, None
    for cuts in itertools.combinations(range(1, t_y), t_x - 1):
        bounds = (0, *cuts, t_y)
        score = sum(float(value[i, bounds[i] : bounds[i + 1]].sum()) for i in range(t_x))
        if best is None or score > best:
            best, best_durations = score, [bounds[i + 1] - bounds[i] for i in range(t_x)]
    return best_durations


def test_maximum_path_equals_brute_force_on_random_cases():
    generator = torch.Generator().manual_seed(0)
    for _ in range(60):
        t_x = int(torch.randint(1, 6, (1,), generator=generator))
        t_y = int(torch.randint(t_x, 11, (1,), generator=generator))
        value = torch.randn(1, 7, 12, generator=generator, dtype=torch.float64)
        path = maximum_path(value, torch.tensor([t_x]), torch.tensor([t_y]))
        assert path[0].sum(-1)[:t_x].long().tolist() == brute_force_durations(value[0], t_x, t_y)
        assert path[0, t_x:].sum() == 0 and path[0, :, t_y:].sum() == 0
        assert torch.equal(path[0].sum(0)[:t_y], torch.ones(t_y, dtype=path.dtype))  # each frame: one token


def test_batched_items_are_aligned_independently():
    generator = torch.Generator().manual_seed(1)
    value = torch.randn(3, 5, 9, generator=generator)
    x_lengths, y_lengths = torch.tensor([5, 2, 3]), torch.tensor([9, 4, 7])
    batched = maximum_path(value, x_lengths, y_lengths)
    for b in range(3):
        single = maximum_path(value[b : b + 1], x_lengths[b : b + 1], y_lengths[b : b + 1])
        assert torch.equal(batched[b], single[0])


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_the_search_in_threads_equals_the_serial_search(threads):
    generator = torch.Generator().manual_seed(4)
    value = torch.randn(7, 30, 90, generator=generator)
    x_lengths = torch.randint(5, 31, (7,), generator=generator)
    y_lengths = x_lengths + torch.randint(0, 60, (7,), generator=generator)
    serial = maximum_path(value, x_lengths, y_lengths, threads=1)
    assert torch.equal(maximum_path(value, x_lengths, y_lengths, threads=threads), serial)
    mu_x, y = torch.randn(7, 4, 30, generator=generator), torch.randn(7, 4, 90, generator=generator)
    with_threads = align(mu_x, y, x_lengths, y_lengths)  # torch's thread count; durations from the host path
    expected = maximum_path(gaussian_log_likelihood(mu_x, y), x_lengths, y_lengths, threads=1).sum(-1).long()
    assert torch.equal(with_threads, expected)
    assert with_threads.dtype == torch.long and torch.equal(with_threads.sum(-1), y_lengths)


NO_CACHE_FOLDER = """
import numba.core.caching, torch
numba.core.caching.CacheImpl._locator_classes = []  # no folder where numba could write its cache
from tts_gen.models.alignment import maximum_path
value = torch.tensor([[[0.0, 5.0, 0.0], [9.0, 0.0, 1.0]]])
print(maximum_path(value, torch.tensor([2]), torch.tensor([3]))[0].sum(-1).tolist())
"""


def test_the_search_compiles_where_numba_cannot_write_its_cache():
    result = subprocess.run([sys.executable, "-c", NO_CACHE_FOLDER], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[2.0,", "1.0]"]  # token 0 takes frames 0-1, token 1 frame 2


def test_align_recovers_a_planted_alignment():
    mu_x = torch.randn(1, 8, 4, generator=torch.Generator().manual_seed(2)) * 4
    durations = torch.tensor([[3, 1, 5, 2]])
    y = expand(mu_x, durations) + 0.1 * torch.randn(1, 8, 11, generator=torch.Generator().manual_seed(3))
    found = align(mu_x, y, torch.tensor([4]), torch.tensor([11]))
    assert found.tolist() == durations.tolist()


def test_log_likelihood_matches_the_gaussian_density():
    mu = torch.randn(2, 3, 4)
    y = torch.randn(2, 3, 5)
    expected = torch.distributions.Normal(mu.unsqueeze(-1), 1.0).log_prob(y.unsqueeze(2)).sum(1)  # (B, T_x, T_y)
    assert torch.allclose(gaussian_log_likelihood(mu, y), expected, atol=1e-4)


def test_durations_to_path_and_expand():
    durations = torch.tensor([[2, 0, 3], [1, 1, 0]])
    path = durations_to_path(durations)
    assert path.shape == (2, 3, 5)
    assert path[0].argmax(0).tolist() == [0, 0, 2, 2, 2]
    assert path[1].sum() == 2 and path[1, :, 2:].sum() == 0
    h = torch.arange(6.0).view(2, 1, 3)
    assert expand(h, durations).tolist() == [[[0, 0, 2, 2, 2]], [[3, 4, 0, 0, 0]]]


def test_predicted_durations_ceil_scale_and_frame_multiple():
    log_d = torch.log(torch.tensor([[[1.2, 2.0, 0.5, 9.0]]]))
    mask = torch.tensor([[[1.0, 1.0, 1.0, 0.0]]])
    assert predicted_durations(log_d, mask).tolist() == [[2, 2, 1, 0]]
    assert predicted_durations(log_d, mask, length_scale=2.0).tolist() == [[3, 4, 1, 0]]
    assert predicted_durations(log_d, mask, frame_multiple=2).tolist() == [[2, 2, 2, 0]]
    with pytest.raises(ValueError, match="length_scale"):
        predicted_durations(log_d, mask, length_scale=0)
    with pytest.raises(ValueError, match="fewer mel frames than tokens"):
        maximum_path(torch.zeros(1, 3, 2), torch.tensor([3]), torch.tensor([2]))
