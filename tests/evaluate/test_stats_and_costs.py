"""Bootstrap intervals, paired tests, Holm's correction, cost meters, diversity and robustness helpers."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
from torch import nn

from tts_gen.evaluate.metrics.catalogue import summarize_rows
from tts_gen.evaluate.metrics.diversity import diversity_scores
from tts_gen.evaluate.metrics.likelihood import is_likelihood, likelihood_terms
from tts_gen.evaluate.metrics.robustness import duration_check, robustness_sentences
from tts_gen.evaluate.metrics.speed import PeakMemory, parameter_count, real_time_factor
from tts_gen.evaluate.metrics.stats import bootstrap_mean, holm, paired_test


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_data():
    rng = np.random.default_rng(1)
    small, large = rng.normal(3.0, 1.0, 10), rng.normal(3.0, 1.0, 400)
    a, b = bootstrap_mean(small), bootstrap_mean(large)
    assert a.low < a.mean < a.high and b.low < b.mean < b.high
    assert (b.high - b.low) < (a.high - a.low)
    assert b.low < 3.0 < b.high
    assert bootstrap_mean([2.0, math.nan, None]).n == 1
    assert math.isnan(bootstrap_mean([]).mean)


def test_paired_test_detects_a_consistent_difference():
    a = {f"u{i}": float(i) for i in range(10)}
    b = {key: value - 1.0 for key, value in a.items()}
    test = paired_test(a, b)
    assert test.mean_difference == pytest.approx(1.0) and test.n == 10
    assert test.p_value == pytest.approx(2 / 2**10)  # exact two-sided Wilcoxon: all ten signs agree
    assert paired_test(a, a).p_value == 1.0
    assert paired_test(a, {"other": 1.0}).n == 0


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(holm([math.nan, 0.5])[0])


def test_summaries_aggregate_by_metric_kind():
    rows = [
        {"mcd_db": 5.0, "peak_memory_mb": 10.0, "word_deletions": 2},
        {"mcd_db": 7.0, "peak_memory_mb": 30.0, "word_deletions": 1, "loss/flow/nll": 1.5},
    ]
    summary = summarize_rows(rows)
    assert summary["mcd_db"]["mean"] == 6.0 and summary["mcd_db"]["n"] == 2
    assert summary["peak_memory_mb"]["mean"] == 30.0
    assert summary["word_deletions"]["mean"] == 3
    assert summary["loss/flow/nll"]["mean"] == 1.5


def test_parameter_count_and_real_time_factor():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert parameter_count(model) == 16 + 10
    assert parameter_count(model, exclude=model[1]) == 16
    assert real_time_factor(0.5, 2.0) == 0.25


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak RSS reset is Linux-only")
def test_peak_memory_sees_a_large_allocation():
    meter = PeakMemory(torch.device("cpu"))
    with meter:
        block = torch.ones(25_000_000)  # 95 MiB
        del block
    assert meter.last.peak_mb > 80
    with meter:
        small = torch.ones(10)
    assert meter.last.peak_mb < 50 and small.sum() == 10


def test_diversity_of_known_tracks():
    base = np.full(50, 100.0)
    same = diversity_scores([base, base.copy()], [[2, 3], [2, 3]], 0.01)
    assert same.f0_spread_semitones == 0.0 and same.f0_frame_spread_semitones == 0.0
    assert same.duration_spread_seconds == 0.0
    higher = base * 2 ** (1 / 12)  # one semitone up
    spread = diversity_scores([base, higher], [[2, 3], [4, 3]], 0.01)
    assert spread.f0_spread_semitones == pytest.approx(np.std([0, 1], ddof=1))
    assert spread.duration_spread_seconds == pytest.approx(np.std([0.05, 0.07], ddof=1))
    assert spread.token_duration_spread_frames == pytest.approx(np.std([2, 4], ddof=1) / 2)


def test_likelihood_terms_are_found_by_name():
    terms = {"encoder/prior": 1.0, "flow/nll": 2.0, "vae/kl": 0.1}
    assert likelihood_terms(terms) == {"flow/nll": 2.0}
    assert is_likelihood("ar/nll") and not is_likelihood("gan/feature_matching")


def test_robustness_set_and_duration_checks():
    sentences = robustness_sentences()
    assert len(sentences) >= 12 and any(s.endswith("?") for s in sentences)
    assert any(char.isdigit() for s in sentences for char in s)
    normal = duration_check([5] * 20, 0.0116, reference_rate=15.0)
    assert normal.outlier == 0 and normal.tokens_per_second == pytest.approx(20 / (100 * 0.0116))
    assert duration_check([5] * 19 + [200], 0.0116, reference_rate=15.0).outlier == 1  # one 2.3 s token
    assert duration_check([1] * 20, 0.0116, reference_rate=15.0).outlier == 1  # six times too fast
