"""The trainer: exact resume, non-finite steps, checkpoints, and resuming with other settings."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from tests.conftest import ROOT, TINY_FLOW
from tts_gen.acoustic_run import griffin_lim_sample, train_acoustic
from tts_gen.config import ConfigError
from tts_gen.data import FeatureStore, TTSDataset, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.runs import (
    CheckpointError,
    checkpoint_step,
    load_checkpoint,
    read_metrics,
    resolve_checkpoint,
    step_checkpoints,
)
from tts_gen.text import Tokenizer
from tts_gen.train import trainer as trainer_module
from tts_gen.train.optim import lr_factor
from tts_gen.train.trainer import TrainData, Trainer, TrainingDiverged
from tts_gen.trainable import Sample, StepOutput

TINY = [
    *TINY_FLOW,
    "train.warmup_steps=2",
    "train.val_every=4",
    "train.checkpoint_every=100",
    "train.max_steps=7",
    "train.ema_decay=0.9",
]


def tiny_run(prepared, run_dir, overrides=(), seed=0):
    config = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", TINY + list(overrides))
    tokenizer = Tokenizer(config.text)
    store = FeatureStore(prepared, config.audio)
    rows = sorted(TTSDataset.from_split(prepared, "train", store, tokenizer).utterances, key=lambda u: u.n_frames)[:5]
    train = TTSDataset(rows, store, tokenizer)
    val = TTSDataset.from_split(prepared, "val", store, tokenizer)
    data = TrainData(train, val, collate_tts, train.lengths, val.lengths)
    torch.manual_seed(seed)
    model = build_tts_model(config, tokenizer.num_symbols, store.stats())
    return Trainer(model, config.train, data, run_dir, {"kind": "acoustic"}, griffin_lim_sample(config.audio))


def test_a_stopped_and_resumed_run_reaches_the_same_weights(prepared_mini, tmp_path):
    straight = tiny_run(prepared_mini, tmp_path / "straight")
    straight.fit()
    interrupted = tiny_run(prepared_mini, tmp_path / "resumed")
    interrupted.fit(until_step=3)  # 5 utterances in batches of 2: stops inside the second epoch
    resumed = tiny_run(prepared_mini, tmp_path / "resumed", seed=99)  # other init: everything must come from disk
    assert resumed.position.step == 3
    resumed.fit()
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), f"{name} differs after resume"
    for (name, a), (_, b) in zip(straight.ema.state_dict().items(), resumed.ema.state_dict().items()):
        assert torch.equal(a, b), f"EMA {name} differs after resume"


@pytest.mark.parametrize("section", ["loss_weights", "loss_warmup"])
def test_an_unknown_loss_key_is_an_error_naming_the_terms(prepared_mini, tmp_path, section):
    message = (
        f"train.{section} names flow/nl, which the model does not return; "
        "its loss terms are: encoder/prior, encoder/duration, flow/nll"
    )
    with pytest.raises(ConfigError, match=message):
        tiny_run(prepared_mini, tmp_path, [f"train.{section}={{flow/nl: 2}}"])


def test_checkpoints_keep_the_last_k_and_the_best(prepared_mini, tmp_path):
    trainer = tiny_run(prepared_mini, tmp_path, ["train.checkpoint_every=2", "train.keep_last=2"])
    trainer.fit()
    assert [p.name for p in step_checkpoints(tmp_path)] == ["step_00000006.pt", "step_00000007.pt"]
    assert resolve_checkpoint(tmp_path) == tmp_path / "checkpoints" / "best.pt"
    payload = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert payload["step"] in (4, 7) and payload["best_val"] == pytest.approx(trainer.best_val)
    assert not list((tmp_path / "checkpoints").glob(".*tmp"))


def test_corrupt_and_missing_checkpoints_are_clear_errors(tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"\x80\x04garbage")
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        load_checkpoint(tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        resolve_checkpoint(tmp_path / "nothing")
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        resolve_checkpoint(tmp_path)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a tts_gen checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


class Flaky(nn.Module):
    """A model whose loss is NaN on the steps listed in ``bad``."""

    discriminator = None
    validation_metric = "toy_error"

    def __init__(self, bad: set[int]):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.bad, self.calls = bad, 0

    def loss_keys(self) -> tuple[str, ...]:
        return ("toy/loss",)

    def forward(self, batch) -> StepOutput:
        self.calls += 1
        loss = (self.weight - 1) ** 2
        if self.calls in self.bad:
            loss = loss * float("nan")
        return StepOutput(terms={"toy/loss": loss.squeeze()})

    def validation_error(self, batch) -> torch.Tensor:
        return (self.weight.detach() - 1).abs().expand(len(batch))

    def validation_sample(self, batch) -> Sample:
        return Sample(batch.y[0], batch.y[0])


class Scripted(Flaky):
    """A model whose validation error at the k-th validation is ``errors[k]`` while its loss keeps falling."""

    def __init__(self, errors: list[float]):
        super().__init__(set())
        self.errors, self.validations = errors, 0

    def validation_error(self, batch) -> torch.Tensor:
        return torch.full((len(batch),), self.errors[self.validations])


def toy_trainer(prepared, run_dir, model, overrides=()):
    config = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", TINY + list(overrides)).train
    tokenizer = Tokenizer(load_experiment(ROOT / "egs" / "demo" / "flow.yaml").text)
    store = FeatureStore(prepared, load_experiment(ROOT / "egs" / "demo" / "flow.yaml").audio)
    train = TTSDataset.from_split(prepared, "train", store, tokenizer)
    data = TrainData(train, train, collate_tts, train.lengths, train.lengths)
    return Trainer(model, config, data, run_dir, {}, lambda s: (torch.zeros(10), 22050))


def flaky_trainer(prepared, run_dir, bad, max_nonfinite=20):
    return toy_trainer(prepared, run_dir, Flaky(bad), [f"train.max_nonfinite_steps={max_nonfinite}"])


def test_best_checkpoint_is_chosen_on_the_validation_measure_not_the_loss(prepared_mini, tmp_path):
    model = Scripted([0.9, 0.3, 0.5, 0.4])
    trainer = toy_trainer(
        prepared_mini, tmp_path, model, ["train.val_every=2", "train.max_steps=8", "train.ema_decay=0"]
    )
    validate = trainer.validate

    def counted():
        values = validate()
        model.validations += 1
        return values

    trainer.validate = counted
    trainer.fit()
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert (best["step"], best["best_val"], best["best_metric"]) == (4, pytest.approx(0.3), "toy_error")
    rows = [row for row in read_metrics(tmp_path) if row["split"] == "val"]
    assert [row["toy_error"] for row in rows] == pytest.approx([0.9, 0.3, 0.5, 0.4])
    assert rows[-1]["loss"] < rows[1]["loss"]  # the loss kept falling after the best checkpoint


def test_a_wall_clock_budget_stops_training(prepared_mini, tmp_path):
    trainer = toy_trainer(prepared_mini, tmp_path, Flaky(set()), ["train.max_minutes=1e-6", "train.max_steps=50"])
    first_batch = trainer.sampler.rank_batches(0)[0]
    position = trainer.fit()
    assert position.step == 1 and 0 < position.seconds and position.utterances == len(first_batch)
    payload = load_checkpoint(tmp_path / "checkpoints" / "step_00000001.pt")
    assert payload["train_seconds"] == position.seconds and payload["utterances_seen"] == position.utterances
    assert [row["step"] for row in read_metrics(tmp_path) if row["split"] == "val"] == [1]
    resumed = toy_trainer(prepared_mini, tmp_path, Flaky(set()), ["train.max_minutes=1e-6", "train.max_steps=50"])
    assert resumed.fit().step == 1  # a spent budget stays spent


def test_a_cosine_under_a_wall_clock_budget_decays_with_the_minutes_spent(prepared_mini, tmp_path):
    overrides = ["train.schedule=cosine", "train.warmup_steps=0", "train.max_steps=0", "train.max_minutes=2"]
    trainer = toy_trainer(prepared_mini, tmp_path, Flaky(set()), overrides)
    config, scheduler = trainer.config, trainer.schedulers["generator"]
    bar = trainer.progress_bar()
    assert (bar.total, bar.unit) == (120, "s")  # the bar follows the budget that has an end: its seconds
    bar.close()
    floor = config.learning_rate * config.min_lr_ratio
    for seconds, expected in [(0.0, config.learning_rate), (60.0, (config.learning_rate + floor) / 2), (120.0, floor)]:
        trainer.position.seconds = seconds  # a few steps, but this share of the minutes spent
        scheduler.step()
        assert scheduler.get_last_lr()[0] == pytest.approx(expected)
    steps = dataclasses.replace(config, max_steps=1000)  # whichever budget is further spent sets the pace
    stepwise = [lr_factor(step, steps, 30.0) for step in (0, 500, 999, 1000)]
    assert stepwise == pytest.approx(
        [lr_factor(0, config, 30.0), lr_factor(0, config, 60.0), lr_factor(0, config, 119.88), config.min_lr_ratio]
    )
    no_minutes = dataclasses.replace(config, max_steps=1000, max_minutes=0.0)
    assert lr_factor(10, no_minutes, seconds=1e9) == lr_factor(10, no_minutes)  # a step budget ignores the clock


def test_checkpoints_at_multiples_of_keep_every_are_kept(prepared_mini, tmp_path):
    overrides = ["train.checkpoint_every=1", "train.keep_last=1", "train.keep_every=3", "train.max_steps=7"]
    trainer = toy_trainer(prepared_mini, tmp_path, Flaky(set()), overrides)
    trainer.fit()
    assert [p.name for p in step_checkpoints(tmp_path)] == ["step_00000003.pt", "step_00000006.pt", "step_00000007.pt"]


class TenSecondSteps:
    """A ``time`` module whose clock advances ten seconds at every reading: each training step lasts 10 s."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 10.0
        return self.now


def test_checkpoints_the_training_clock_marks_are_kept_across_a_resume(prepared_mini, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "time", TenSecondSteps())
    overrides = ["train.keep_every_minutes=0.5", "train.keep_last=1", "train.checkpoint_every=1000"]
    trainer = toy_trainer(prepared_mini, tmp_path, Flaky(set()), [*overrides, "train.max_steps=10"])
    trainer.fit()
    # 10 s steps pass 30, 60 and 90 s at steps 3, 6 and 9; step 10 is the run's end
    assert [checkpoint_step(p) for p in step_checkpoints(tmp_path)] == [3, 6, 9, 10]
    assert load_checkpoint(tmp_path / "checkpoints" / "step_00000006.pt")["train_seconds"] == pytest.approx(60.0)
    resumed = toy_trainer(prepared_mini, tmp_path, Flaky(set()), [*overrides, "train.max_steps=14"])
    resumed.fit()
    assert [checkpoint_step(p) for p in step_checkpoints(tmp_path)] == [3, 6, 9, 12, 14]  # step 10 was only the last


def test_non_finite_steps_are_skipped_and_counted(prepared_mini, tmp_path):
    trainer = flaky_trainer(prepared_mini, tmp_path, bad={2, 3})
    trainer.fit(until_step=2)
    weight_after_one_good_step = trainer.model.weight.detach().clone()
    assert weight_after_one_good_step != 0  # step 1 moved it; step 2 was skipped
    trainer.fit(until_step=3)
    assert torch.equal(trainer.model.weight.detach(), weight_after_one_good_step)
    trainer.fit()
    assert trainer.skipped_steps == 2 and trainer.model.weight.detach() != weight_after_one_good_step


def test_too_many_non_finite_steps_in_a_row_abort(prepared_mini, tmp_path):
    trainer = flaky_trainer(prepared_mini, tmp_path, bad=set(range(1, 100)), max_nonfinite=3)
    with pytest.raises(TrainingDiverged, match="3 steps in a row"):
        trainer.fit()


def test_resuming_with_other_model_settings_is_refused(prepared_mini, tmp_path):
    config = ROOT / "egs" / "demo" / "flow.yaml"
    train_acoustic(config, prepared_mini, tmp_path, TINY + ["train.max_steps=1"])
    train_acoustic(config, prepared_mini, tmp_path, TINY + ["train.max_steps=2"])  # longer: allowed
    assert load_checkpoint(resolve_checkpoint(tmp_path))["step"] == 2
    with pytest.raises(ConfigError, match="model.decoder.n_blocks"):
        train_acoustic(config, prepared_mini, tmp_path, TINY + ["model.decoder.n_blocks=3"])


def test_a_new_run_can_start_from_another_runs_encoder(prepared_mini, tmp_path):
    from tts_gen.synthesize import load_acoustic_model

    config = ROOT / "egs" / "demo" / "flow.yaml"
    train_acoustic(config, prepared_mini, tmp_path / "source", TINY + ["train.max_steps=2", "train.ema_decay=0"])
    source, _, _, _ = load_acoustic_model(tmp_path / "source")
    warm = TINY + [
        "train.max_steps=1",
        "train.learning_rate=1e-9",
        "train.ema_decay=0",
        f"train.init_from={tmp_path / 'source'}",
    ]
    train_acoustic(
        config, prepared_mini, tmp_path / "warm", warm + ["model.decoder.n_blocks=1", "train.init_modules=[encoder]"]
    )
    started, _, _, _ = load_acoustic_model(tmp_path / "warm")
    for name, value in source.encoder.state_dict().items():
        assert torch.allclose(value, started.encoder.state_dict()[name], atol=1e-6), name
    with pytest.raises(CheckpointError, match="no submodule 'nope'"):
        train_acoustic(config, prepared_mini, tmp_path / "bad", warm + ["train.init_modules=[nope]"])
    with pytest.raises(CheckpointError, match="weights this model lacks"):  # every module by default: decoders differ
        train_acoustic(config, prepared_mini, tmp_path / "all", warm + ["model.decoder.n_blocks=1"])


def test_sampling_defaults_and_step_budget_may_change_on_resume_but_the_model_may_not(tmp_path):
    from tts_gen.config import save_config
    from tts_gen.train.run import check_resumable

    config = ROOT / "egs" / "demo" / "diffusion.yaml"
    save_config(load_experiment(config), tmp_path / "config.yaml")
    check_resumable(
        tmp_path, load_experiment(config, ["model.decoder.sampling={temperature: 0.0}", "train.max_steps=9"])
    )
    with pytest.raises(ConfigError, match="train.learning_rate"):
        check_resumable(tmp_path, load_experiment(config, ["train.learning_rate=0.5"]))


def test_fewer_batches_than_processes_is_an_error_before_any_process_waits(prepared_mini, tmp_path):
    from tts_gen.train.distributed import DistributedContext

    config = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", TINY)
    tokenizer = Tokenizer(config.text)
    store = FeatureStore(prepared_mini, config.audio)
    train = TTSDataset.from_split(prepared_mini, "train", store, tokenizer)  # 7 utterances: 4 batches of 2
    data = TrainData(train, train, collate_tts, train.lengths, train.lengths)
    model = build_tts_model(config, tokenizer.num_symbols, store.stats())
    with pytest.raises(ConfigError, match="makes 4 batch\\(es\\), fewer than the 5 processes"):
        Trainer(model, config.train, data, tmp_path, {}, griffin_lim_sample(config.audio), DistributedContext(0, 5))


def test_a_compiled_step_trains_to_the_weights_of_the_eager_step(prepared_mini, tmp_path, monkeypatch):
    """``train.compile`` traces the training forward with TorchDynamo (graph breaks around the alignment search);
    with dropout off it reaches the eager step's weights exactly. Dynamo's eager backend stands in for inductor,
    whose CPU compilation of every new batch shape takes minutes."""
    no_dropout = ["train.max_steps=2", "model.decoder.dropout=0", "model.encoder.dropout=0"]
    no_dropout += ["model.encoder.prenet_dropout=0", "model.encoder.duration_dropout=0"]
    eager = tiny_run(prepared_mini, tmp_path / "eager", no_dropout)
    eager.fit()
    compiled_with, real_compile = [], torch.compile

    def compile_with_dynamo_only(module):
        compiled_with.append(module)
        return real_compile(module, backend="eager")

    monkeypatch.setattr(torch, "compile", compile_with_dynamo_only)
    compiled = tiny_run(prepared_mini, tmp_path / "compiled", [*no_dropout, "train.compile=true"])
    compiled.fit()
    assert compiled_with == [compiled.model] and compiled.forward_step is not compiled.model
    for (name, a), (_, b) in zip(eager.model.state_dict().items(), compiled.model.state_dict().items()):
        assert torch.equal(a, b), name
