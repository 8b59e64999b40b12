"""The length-bucketed sampler, collation and the dataset of a prepared folder."""

from __future__ import annotations

import random

import pytest
import torch

from tts_gen.data import LengthBucketSampler, TTSDataset, collate_tts, pad_sequences
from tts_gen.data.dataset import manifest_durations
from tts_gen.data.features import FeatureStore
from tts_gen.audio import AudioConfig
from tts_gen.text import TextConfig, Tokenizer

LENGTHS = [random.Random(0).randint(20, 900) for _ in range(203)]


def test_sampler_is_deterministic_per_seed_and_epoch_and_covers_everything():
    sampler = LengthBucketSampler(LENGTHS, batch_size=8, seed=3)
    epoch0 = list(sampler)
    assert epoch0 == list(LengthBucketSampler(LENGTHS, batch_size=8, seed=3))
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    assert sorted(i for batch in epoch0 for i in batch) == list(range(len(LENGTHS)))
    assert max(len(batch) for batch in epoch0) == 8


def test_batches_group_similar_lengths_and_respect_max_frames():
    batches = list(LengthBucketSampler(LENGTHS, batch_size=64, max_frames=3000, seed=0))
    for batch in batches:
        assert max(LENGTHS[i] for i in batch) * len(batch) <= 3000
    spread = sum(max(LENGTHS[i] for i in b) - min(LENGTHS[i] for i in b) for b in batches) / len(batches)
    assert spread < 200  # random batches would spread over ~800 frames
    with pytest.raises(ValueError, match="exceeds max_frames"):
        LengthBucketSampler(LENGTHS, batch_size=4, max_frames=100)


def test_distributed_ranks_are_disjoint_with_equal_counts():
    ranks = [list(LengthBucketSampler(LENGTHS, 8, seed=1, num_replicas=3, rank=r)) for r in range(3)]
    assert len({len(r) for r in ranks}) == 1
    seen = [i for rank in ranks for batch in rank for i in batch]
    assert len(seen) == len(set(seen))


def test_start_batch_resumes_inside_an_epoch():
    sampler = LengthBucketSampler(LENGTHS, 8, seed=5)
    sampler.set_epoch(2)
    full = list(sampler)
    sampler.set_epoch(2, start_batch=4)
    assert list(sampler) == full[4:] and len(sampler) == len(full) - 4


def test_pad_sequences_zero_pads():
    batch, lengths = pad_sequences([torch.ones(2, 3), torch.ones(2, 5)])
    assert batch.shape == (2, 2, 5) and lengths.tolist() == [3, 5]
    assert batch[0, :, 3:].abs().sum() == 0 and batch[0, :, :3].sum() == 6


def test_dataset_and_collate_on_prepared_clips(prepared_mini):
    dataset = TTSDataset.from_split(
        prepared_mini, "train", FeatureStore(prepared_mini, AudioConfig()), Tokenizer(TextConfig())
    )
    items = [dataset[i] for i in range(3)]
    batch = collate_tts(items)
    assert batch.x.shape == (3, int(batch.x_lengths.max())) and batch.y.shape[:2] == (3, 80)
    for i, item in enumerate(items):
        assert torch.equal(batch.y[i, :, : item["mel"].shape[-1]], item["mel"])
        assert batch.y[i, :, item["mel"].shape[-1] :].abs().sum() == 0
        assert batch.x[i, int(batch.x_lengths[i]) :].abs().sum() == 0
    assert dataset.lengths == [u.n_frames for u in dataset.utterances]
    with pytest.raises(ValueError, match="manifest has no durations"):
        TTSDataset(
            dataset.utterances,
            dataset.features,
            Tokenizer(TextConfig()),
            manifest_durations(dataset.utterances, Tokenizer(TextConfig())),
        )
