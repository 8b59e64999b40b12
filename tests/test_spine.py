"""The shared protocol: a frozen spine, durations stored once under it, and families that differ only in decoders."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tests.conftest import TINY_ENCODER, cli
from tts_gen.acoustic_run import acoustic_spec, train_acoustic
from tts_gen.config import ConfigError
from tts_gen.data.dataset import TTSDataset, collate_tts
from tts_gen.data.prepared import MissingAlignments, open_prepared
from tts_gen.experiment import load_experiment
from tts_gen.models.alignment import align, gaussian_log_likelihood
from tts_gen.models.layers.masks import sequence_mask
from tts_gen.runs import load_checkpoint, load_run_checkpoint, resolve_checkpoint
from tts_gen.spine import load_spine
from tts_gen.synthesize import load_acoustic_model
from tts_gen.train.trainer import Trainer

TRAIN = [
    "train.batch_size=4",
    "train.num_workers=0",
    "train.val_every=100",
    "train.warmup_steps=1",
    "train.log_every=1",
]
DECODERS = {
    "flow": ["model.decoder.hidden_channels=16", "model.decoder.n_blocks=1", "model.decoder.n_layers=1"],
    "gan": ["model.decoder.hidden_channels=16", "model.decoder.n_stacks=1", "model.decoder.n_layers=2"],
}


def config_path(family: str):
    from tests.conftest import ROOT

    return ROOT / "egs" / "demo" / f"{family}.yaml"


@pytest.fixture(scope="module")
def data(prepared_mini, tmp_path_factory):
    """A copy of the prepared mini corpus (alignments are stored inside it)."""
    copy = tmp_path_factory.mktemp("spine-data") / "prepared"
    shutil.copytree(prepared_mini, copy)
    return copy


@pytest.fixture(scope="module")
def spine(data, tmp_path_factory):
    """A tiny prior run (the spine), trained 3 steps, with its durations stored by `tts-gen align`."""
    run = tmp_path_factory.mktemp("spine") / "prior"
    train_acoustic(config_path("prior"), data, run, [*TINY_ENCODER, *TRAIN, "train.max_steps=3"], device="cpu")
    assert cli("align", "--checkpoint", run, "--data", data, "--batch-size", "3") == 0
    return run


def family_run(family, data, spine, run_dir, steps=2):
    overrides = [*TINY_ENCODER, *DECODERS[family], *TRAIN, f"train.max_steps={steps}", f"spine={spine}"]
    train_acoustic(config_path(family), data, run_dir, overrides, device="cpu")
    return run_dir


def test_stored_durations_equal_a_fresh_alignment_under_the_spine(spine, data):
    loaded = load_spine(spine)
    prepared = open_prepared(data, loaded.config.audio)
    stored = prepared.stored_durations(loaded.id)
    file = json.loads(prepared.alignments_path(loaded.id).read_text())
    assert file["spine"]["id"] == loaded.id and file["spine"]["step"] == 3
    for split in ("train", "val", "test"):
        dataset = TTSDataset(prepared.manifest(split), prepared.features, loaded.tokenizer)
        batch = collate_tts([dataset[i] for i in range(len(dataset))])
        fresh = loaded.model.align_durations(batch)
        for row, utt in enumerate(dataset.utterances):
            assert stored[utt.id] == fresh[row, : len(dataset.tokens[row])].tolist()
            assert sum(stored[utt.id]) == utt.n_frames


def test_alignment_is_fp32_under_bf16_autocast(spine, data):
    loaded = load_spine(spine)
    prepared = open_prepared(data, loaded.config.audio)
    dataset = TTSDataset(prepared.manifest("train"), prepared.features, loaded.tokenizer)
    batch = collate_tts([dataset[i] for i in range(len(dataset))])
    model = loaded.model
    with torch.no_grad():
        mu_x = model.encoder(batch.x, batch.x_lengths).mu_x
    y = model.normalize(batch.y) * sequence_mask(batch.y_lengths, batch.y.shape[-1])
    plain = align(mu_x, y, batch.x_lengths, batch.y_lengths)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert gaussian_log_likelihood(mu_x, y).dtype == torch.bfloat16  # what autocast would do unasked
        assert torch.equal(align(mu_x, y, batch.x_lengths, batch.y_lengths), plain)


def test_frozen_spine_gets_no_gradient_and_does_not_change(spine, data, tmp_path):
    config = load_experiment(
        config_path("flow"), [*TINY_ENCODER, *DECODERS["flow"], *TRAIN, "train.max_steps=3", f"spine={spine}"]
    )
    spec = acoustic_spec(config, data)
    model = spec.build_model()
    trainer = Trainer(model, config.train, spec.data, tmp_path, spec.metadata, spec.sample_audio)
    assert not any(p.requires_grad for p in model.encoder.parameters())
    assert model.loss_keys() == ("flow/nll",)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.fit()
    assert all(p.grad is None for p in model.encoder.parameters())
    model.train()
    assert not model.encoder.training and model.decoder.training  # no dropout in the frozen encoder
    changed = {key for key, value in model.state_dict().items() if not torch.equal(value, before[key])}
    assert changed and all(key.startswith("decoder.") for key in changed), changed
    payload = load_checkpoint(resolve_checkpoint(tmp_path))
    assert payload["spine"]["id"] == load_spine(spine).id


def test_two_families_of_one_spine_get_the_same_durations_and_condition(spine, data, tmp_path):
    runs = [family_run(family, data, spine, tmp_path / family) for family in ("flow", "gan")]
    models = [load_acoustic_model(run)[0] for run in runs]
    tokenizer = load_acoustic_model(runs[0])[2]
    ids = torch.tensor([tokenizer.encode("Printing, in the only sense with which we are concerned.")])
    lengths = torch.tensor([ids.shape[1]])
    encoded = [model.encoder(ids, lengths) for model in models]
    torch.manual_seed(0)
    syntheses = [model.synthesize(ids, lengths) for model in models]
    assert torch.equal(syntheses[0].durations, syntheses[1].durations)
    assert torch.equal(encoded[0].mu_x, encoded[1].mu_x)
    assert torch.equal(models[0].mel_mean, models[1].mel_mean)
    assert not torch.equal(syntheses[0].mel, syntheses[1].mel)  # the decoders differ
    reports = [load_run_checkpoint(run, "acoustic")["spine"] for run in runs]
    assert reports[0] == reports[1] and reports[0]["family"] == "prior"


def test_durations_of_another_spine_or_none_are_refused(spine, data, tmp_path):
    other = tmp_path / "other"
    train_acoustic(
        config_path("prior"), data, other, [*TINY_ENCODER, *TRAIN, "train.max_steps=1", "train.seed=7"], device="cpu"
    )
    with pytest.raises(MissingAlignments, match="run `tts-gen align"):
        family_run("flow", data, other, tmp_path / "flow")
    prepared = open_prepared(data, load_spine(spine).config.audio)
    stored = prepared.alignments_path(load_spine(spine).id)
    forged = prepared.alignments_path(load_spine(other).id)
    forged.write_text(stored.read_text())  # the right durations filed under another spine's name
    with pytest.raises(MissingAlignments, match="another spine"):
        family_run("flow", data, other, tmp_path / "flow2")


def test_a_spine_of_other_encoder_settings_is_refused(spine, data, tmp_path):
    overrides = [*TINY_ENCODER, *DECODERS["flow"], *TRAIN, "model.encoder.n_layers=2", f"spine={spine}"]
    with pytest.raises(ConfigError, match="other model.encoder settings"):
        train_acoustic(config_path("flow"), data, tmp_path / "flow", overrides, device="cpu")
    overrides = [*TINY_ENCODER, *DECODERS["flow"], *TRAIN, f"spine={spine}", f"train.init_from={spine}"]
    with pytest.raises(ConfigError, match="may only start the decoder"):
        train_acoustic(config_path("flow"), data, tmp_path / "flow", overrides, device="cpu")
