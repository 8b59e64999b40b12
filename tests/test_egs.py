"""Every config in egs/ loads, builds and takes one training step on the CPU (one short real clip)."""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from tests.conftest import ROOT
from tts_gen.acoustic_run import griffin_lim_sample
from tts_gen.config import to_dict
from tts_gen.data import FeatureStore, TTSDataset, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.text import Tokenizer
from tts_gen.train.trainer import TrainData, Trainer, as_floats

CONFIGS = sorted((ROOT / "egs").glob("*/*.yaml"))


def is_vocoder(path) -> bool:
    return "vocoder" in yaml.safe_load(path.read_text())


SHARED_SECTIONS = ("model.encoder", "model.aligner", "audio", "text")


def section(config: dict, dotted: str):
    for key in dotted.split("."):
        config = config[key]
    return config


@pytest.mark.parametrize("folder", sorted({p.parent for p in CONFIGS}), ids=lambda p: p.name)
def test_the_families_of_one_folder_differ_only_in_the_decoder(folder):
    """Every comparison assumes that two families share encoder, aligner, audio and text settings."""
    configs = {p.stem: to_dict(load_experiment(p)) for p in sorted(folder.glob("*.yaml")) if not is_vocoder(p)}
    assert len(configs) >= 2
    first, reference = next(iter(configs.items()))
    for name, config in configs.items():
        for dotted in SHARED_SECTIONS:
            assert section(config, dotted) == section(reference, dotted), (
                f"{folder.name}/{name}.yaml: {dotted} differs from {first}.yaml"
            )


def one_step(model, train_config, dataset, collate, audio) -> dict[str, float]:
    data = TrainData(dataset, dataset, collate, dataset.lengths, dataset.lengths)
    trainer = Trainer(model, train_config, data, "/nonexistent-run", {}, griffin_lim_sample(audio))
    return as_floats(trainer.train_step(collate([dataset[0]])))


@pytest.mark.parametrize("path", [p for p in CONFIGS if not is_vocoder(p)], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_acoustic_config_trains_one_step(path, prepared_mini):
    config = load_experiment(path, ["train.num_workers=0"])
    tokenizer = Tokenizer(config.text)
    store = FeatureStore(prepared_mini, config.audio)
    rows = sorted(TTSDataset.from_split(prepared_mini, "train", store, tokenizer).utterances, key=lambda u: u.n_frames)
    torch.manual_seed(0)
    model = build_tts_model(config, tokenizer.num_symbols, store.stats())
    logged = one_step(model, config.train, TTSDataset(rows[:1], store, tokenizer), collate_tts, config.audio)
    assert math.isfinite(logged["loss"]), logged


@pytest.mark.parametrize("path", [p for p in CONFIGS if is_vocoder(p)], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_vocoder_config_trains_one_step(path, prepared_mini):
    from tts_gen.vocoders.config import load_vocoder_experiment
    from tts_gen.vocoders.data import MelSource, VocoderDataset, collate_vocoder
    from tts_gen.vocoders.model import HiFiGANModel

    config = load_vocoder_experiment(path, ["train.num_workers=0"])
    mels = MelSource(FeatureStore(prepared_mini, config.audio))
    dataset = VocoderDataset.from_split(prepared_mini, "train", mels, config.audio)
    torch.manual_seed(0)
    model = HiFiGANModel(config.vocoder, config.audio)
    logged = one_step(model, config.train, dataset, collate_vocoder, config.audio)
    assert all(map(math.isfinite, logged.values())), logged
