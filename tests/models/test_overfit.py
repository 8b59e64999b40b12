"""Every registered family, at its CPU-size config, overfits two real LJSpeech clips through the trainer."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import ROOT
from tts_gen.acoustic_run import griffin_lim_sample
from tts_gen.data.dataset import TTSDataset, collate_tts
from tts_gen.data.features import FeatureStore
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runs import read_metrics
from tts_gen.text import Tokenizer
from tts_gen.train.trainer import TrainData, Trainer

STEPS = 80


def teacher_forced_error(model, batch) -> float:
    """Mean absolute log-mel error of the mel generated with the aligner's durations, over valid frames."""
    model.eval()
    torch.manual_seed(0)
    synthesis = model.teacher_forced(batch)
    frames = synthesis.mel.shape[-1]
    mask = synthesis.mel.abs().sum(1, keepdim=True) > 0
    return float(((synthesis.mel - batch.y[..., :frames]).abs() * mask).sum() / (mask.sum() * batch.y.shape[1]))


@pytest.mark.parametrize("family", sorted(DECODERS))
def test_family_overfits_two_clips(family, prepared_mini, tmp_path):
    config = load_experiment(
        ROOT / "egs" / "demo" / f"{family}.yaml",
        [
            "train.batch_size=2",
            "train.log_every=1",
            "train.val_every=1000",
            "train.checkpoint_every=1000",
            f"train.max_steps={STEPS}",
            "train.warmup_steps=10",
            "train.num_workers=0",
            "train.schedule=constant",
        ],
    )
    tokenizer = Tokenizer(config.text)
    store = FeatureStore(prepared_mini, config.audio)
    shortest = sorted(
        TTSDataset.from_split(prepared_mini, "train", store, tokenizer).utterances, key=lambda u: u.n_frames
    )
    train = TTSDataset(shortest[:2], store, tokenizer)
    data = TrainData(train, train, collate_tts, train.lengths, train.lengths)
    torch.manual_seed(0)
    model = build_tts_model(config, tokenizer.num_symbols, store.stats())
    batch = collate_tts([train[0], train[1]])
    model.train()
    model(batch)  # data-dependent initialisation (if any) before measuring the untrained model
    error_at_init = teacher_forced_error(model, batch)

    trainer = Trainer(model, config.train, data, tmp_path, {"kind": "test"}, griffin_lim_sample(config.audio))
    trainer.fit()

    losses = [row["loss"] for row in read_metrics(tmp_path) if row["split"] == "train"]
    start, end = losses[0], sum(losses[-5:]) / 5
    assert end < start - 0.3 * abs(start), f"{family}: loss {start:.3f} -> {end:.3f} did not fall enough"
    error_trained = teacher_forced_error(trainer.model, batch)
    print(f"{family}: loss {start:.3f} -> {end:.3f}, mel error {error_at_init:.3f} -> {error_trained:.3f}")
    assert error_trained < 0.8 * error_at_init, f"{family}: mel error {error_at_init:.3f} -> {error_trained:.3f}"
