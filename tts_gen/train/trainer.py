"""The one step-based trainer of tts_gen, for every acoustic model family and for the vocoder.

It runs unchanged on the CPU, one GPU, or several GPUs or nodes under ``torchrun`` (torch's
DistributedDataParallel, see :mod:`tts_gen.train.distributed`). Features: fused AdamW with warm-up and a
schedule, gradient clipping, optional EMA of the weights, bf16/fp16 autocast on CUDA, an optional
``torch.compile`` of the step, skipping (and counting) steps whose loss or gradient is not finite, validation
every N steps, atomic checkpoints (last K + best), exact resume (weights, optimizers, schedulers, scaler, EMA,
step, sampler position, every rank's RNG states), a progress bar, TensorBoard logs, and a checkpoint on Ctrl-C
or SIGTERM so that nothing is lost. Adversarial models (those with a ``discriminator``) get a discriminator step
before each generator step; see :mod:`tts_gen.trainable`.

Between two log steps the host never waits for the device: losses and gradient norms stay device tensors until
``log_every`` steps have passed, a step with a non-finite loss or gradient is skipped on the device (the fused
optimizer's ``found_inf``) and counted there, and the count is read when losses are. Under several processes
only rank 0 validates, logs and writes checkpoints while the others wait.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from tts_gen.config import ConfigError
from tts_gen.data.dataset import LengthBucketSampler
from tts_gen.errors import Terminated, TTSGenError
from tts_gen.files import write_text
from tts_gen.runs import load_latest_checkpoint, prune_checkpoints, save_checkpoint, versions
from tts_gen.runtime import hardware
from tts_gen.train.config import TrainConfig
from tts_gen.train.distributed import (
    DiscriminatorStep,
    DistributedContext,
    all_ranks_agree,
    broadcast_from_main,
    data_parallel,
    gather_objects,
    rank_seed,
    sum_over_ranks,
    wait_for_each_other,
)
from tts_gen.train.logging import TrainLogger
from tts_gen.train.optim import EMA, build_optimizer, build_scheduler, step_unless
from tts_gen.train.signals import StopRequests, sigterm_as_interrupt
from tts_gen.train.state import rng_state, seed_all, set_rng_state
from tts_gen.trainable import Sample, StepOutput, Trainable


class TrainingDiverged(TTSGenError):
    """Too many consecutive steps had a non-finite loss or gradient."""


@dataclass
class TrainData:
    """Datasets of a run; ``lengths`` of the training set drive the length-bucketed sampler."""

    train: Dataset
    val: Dataset
    collate: Callable
    train_lengths: list[int]
    val_lengths: list[int]


@dataclass
class Position:
    """Where training stands: optimizer steps done, epoch, batches of that epoch already consumed, and the
    budget spent: seconds of training (data loading and steps; validation, logs and checkpoints excluded) and
    utterances seen (utterance passes); and the steps whose checkpoints the training clock marked to keep
    (``train.keep_every_minutes``)."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    seconds: float = 0.0
    utterances: int = 0
    kept_steps: list[int] = field(default_factory=list)


def check_loss_keys(config: TrainConfig, known: tuple[str, ...]) -> None:
    """Every key of ``train.loss_weights`` and ``train.loss_warmup`` must be a loss term the model returns."""
    for section in ("loss_weights", "loss_warmup"):
        unknown = sorted(set(getattr(config, section)) - set(known))
        if unknown:
            raise ConfigError(
                f"train.{section} names {', '.join(unknown)}, which the model does not return; "
                f"its loss terms are: {', '.join(known)}"
            )


class NonFiniteSteps:
    """Counts skipped steps on the device: all of them, the current run of skipped steps in a row and the longest
    such run, without reading anything on the host (:meth:`check` does, at log steps)."""

    def __init__(self, device: torch.device, skipped: int = 0):
        self.total = torch.tensor(skipped, dtype=torch.long, device=device)
        self.in_a_row = torch.zeros((), dtype=torch.long, device=device)
        self.longest = torch.zeros((), dtype=torch.long, device=device)

    def add(self, finite: torch.Tensor) -> None:
        """Counts one step, skipped where the boolean tensor ``finite`` is false."""
        skipped = (~finite).long()
        self.total += skipped
        self.in_a_row.mul_(skipped).add_(skipped)
        torch.maximum(self.longest, self.in_a_row, out=self.longest)

    def check(self, limit: int, step: int) -> None:
        """Raises :class:`TrainingDiverged` if ``limit`` steps in a row were skipped."""
        longest = int(self.longest)
        if longest >= limit:
            raise TrainingDiverged(
                f"{longest} steps in a row had a non-finite loss or gradient (by step {step}); "
                "lower train.learning_rate or check the data"
            )


class Trainer:
    """Trains ``model`` into ``run_dir``, resuming from its latest checkpoint if there is one.

    Args:
        model: a trainable model (see :mod:`tts_gen.trainable`), on the CPU.
        config: training settings.
        data: datasets and collate function.
        run_dir: the run folder (checkpoints/, tb/, metrics.jsonl).
        metadata: what every checkpoint must carry to be used (resolved config, symbols, statistics...).
        sample_audio: turns a :class:`Sample` into (audio (T,), sample_rate) for the logs.
        context: distributed context (rank, world size, device).
    """

    def __init__(
        self,
        model: Trainable,
        config: TrainConfig,
        data: TrainData,
        run_dir: str | Path,
        metadata: dict[str, Any],
        sample_audio: Callable[[Sample], tuple[torch.Tensor, int]],
        context: DistributedContext = DistributedContext(),
    ):
        check_loss_keys(config, model.loss_keys())
        self.config = config
        self.context = context
        self.device = context.device
        self.model = model.to(self.device)
        self.data = data
        self.run_dir = Path(run_dir)
        self.metadata = metadata
        self.sample_audio = sample_audio
        self.discriminator = getattr(model, "discriminator", None)
        discriminator_ids = {id(p) for p in self.discriminator.parameters()} if self.discriminator else set()
        self.generator_params = [p for p in model.parameters() if id(p) not in discriminator_ids and p.requires_grad]
        if not self.generator_params:
            raise ConfigError(
                "the model has nothing to train (no parameter takes gradients): a prior run on a frozen spine"
            )
        self.sampler = LengthBucketSampler(
            data.train_lengths,
            config.batch_size,
            config.max_frames,
            shuffle=True,
            seed=config.seed,
            num_replicas=context.world_size,
            rank=context.rank,
        )
        batches = len(self.sampler.all_batches(0))
        if batches < context.world_size:
            raise ConfigError(
                f"the training split makes {batches} batch(es), fewer than the {context.world_size} processes: "
                "lower train.batch_size or start fewer processes"
            )
        # Under several processes: rank 0's weights everywhere, gradients averaged in buckets during backward.
        self.forward_step = data_parallel(self.model, context, ignore=self.discriminator)
        self.discriminator_step = None
        self.optimizers = {"generator": build_optimizer(self.generator_params, config, config.learning_rate)}
        if self.discriminator is not None:
            self.discriminator_step = data_parallel(DiscriminatorStep(model), context)
            lr = config.discriminator_learning_rate or config.learning_rate
            self.optimizers["discriminator"] = build_optimizer(self.discriminator.parameters(), config, lr)
        if config.compile:
            self.forward_step = torch.compile(self.forward_step)
        self.position = Position()
        self.schedulers = {
            name: build_scheduler(opt, config, lambda: self.position.seconds) for name, opt in self.optimizers.items()
        }
        use_fp16 = self.device.type == "cuda" and config.precision == "fp16"
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)
        self.ema = EMA(model, config.ema_decay) if config.ema_decay > 0 else None
        if context.enabled:
            seed_all(rank_seed(config.seed, context.rank))  # each rank draws its own noise
        self.best_val = math.inf
        self.nonfinite = NonFiniteSteps(self.device)
        self.logger: TrainLogger | None = None
        self._resume()

    @property
    def skipped_steps(self) -> int:
        """Steps skipped so far because their loss or gradient was not finite (read from the device)."""
        return int(self.nonfinite.total)

    # ------------------------------------------------------------------------------------------ state

    def _payload(self, rng_states: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            **self.metadata,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema else None,
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": {name: sch.state_dict() for name, sch in self.schedulers.items()},
            "scaler": self.scaler.state_dict(),
            "step": self.position.step,
            "epoch": self.position.epoch,
            "batch_in_epoch": self.position.batch_in_epoch,
            "train_seconds": self.position.seconds,
            "train_device": {**hardware(self.device), "world_size": self.context.world_size},
            "utterances_seen": self.position.utterances,
            "kept_steps": list(self.position.kept_steps),
            "best_val": self.best_val,
            "best_metric": self.model.validation_metric,
            "skipped_steps": self.skipped_steps,
            "rng": rng_states[0],
            "rng_by_rank": rng_states,
            "versions": versions(),
        }

    def _resume(self) -> None:
        """Rank 0 reads the newest intact checkpoint and hands it to every rank (so the others need no copy of the
        run folder); each rank takes back its own random state."""
        found = load_latest_checkpoint(self.run_dir, map_location="cpu") if self.context.is_main else None
        found = broadcast_from_main(found, self.context)
        if found is None:
            return
        path, state = found
        self.model.load_state_dict(state["model"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"] or state["model"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            self.schedulers[name].load_state_dict(state["schedulers"][name])
        self.scaler.load_state_dict(state["scaler"])
        self.position = Position(
            state["step"],
            state["epoch"],
            state["batch_in_epoch"],
            state["train_seconds"],
            state["utterances_seen"],
            list(state.get("kept_steps", [])),
        )
        self.best_val = state["best_val"]
        self.nonfinite = NonFiniteSteps(self.device, state.get("skipped_steps", 0))
        self._restore_rng(state.get("rng_by_rank") or [state["rng"]])
        self._truncate_metrics(self.position.step)
        if self.context.is_main:
            print(f"resuming {self.run_dir} from step {self.position.step} ({path.name})")

    def _restore_rng(self, states: list[dict[str, Any]]) -> None:
        if len(states) == self.context.world_size:
            set_rng_state(states[self.context.rank])
            return
        seed_all(rank_seed(self.config.seed + self.position.step, self.context.rank))
        if self.context.is_main:
            print(
                f"warning: the checkpoint holds the random states of {len(states)} processes, this run has "
                f"{self.context.world_size}: the ranks draw fresh random streams, so the run continues but does not "
                "repeat the uninterrupted one"
            )

    def _truncate_metrics(self, step: int) -> None:
        """Drops metric rows written after the checkpoint we resume from (they will be written again)."""
        path = self.run_dir / "metrics.jsonl"
        if self.context.is_main and path.is_file():
            rows = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
            write_text(path, "".join(row + "\n" for row in rows))

    def rng_states(self) -> list[dict[str, Any]]:
        """Every rank's random state, in rank order (all ranks must call this together)."""
        return gather_objects(rng_state(), self.context)

    def save(self, best: bool = False, rng_states: list[dict[str, Any]] | None = None) -> None:
        """Writes ``step_<N>.pt`` (or ``best.pt``), keeping the last ``keep_last`` step checkpoints, those at
        multiples of ``keep_every`` and those the training clock marked (``keep_every_minutes``). Every rank calls
        it: their random states go into the checkpoint, rank 0 writes it and the others wait until it is written."""
        rng_states = self.rng_states() if rng_states is None else rng_states
        if self.context.is_main:
            self._write(best, rng_states)
        wait_for_each_other(self.context)

    def _write(self, best: bool, rng_states: list[dict[str, Any]]) -> None:
        payload = self._payload(rng_states)
        folder = self.run_dir / "checkpoints"
        if best:
            save_checkpoint(folder / "best.pt", payload)
        else:
            save_checkpoint(folder / f"step_{self.position.step:08d}.pt", payload)
            prune_checkpoints(self.run_dir, self.config.keep_last, self.config.keep_every, self.position.kept_steps)

    # ------------------------------------------------------------------------------------------ steps

    def _autocast(self):
        if self.device.type != "cuda" or self.config.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.config.precision == "bf16" else torch.float16
        return torch.autocast("cuda", dtype=dtype)

    def loss_weight(self, key: str) -> float:
        weight = self.config.loss_weights.get(key, 1.0)
        ramp = self.config.loss_warmup.get(key, 0)
        if ramp > 0:
            weight *= min(1.0, self.position.step / ramp)
        return weight

    def weighted_sum(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.loss_weight(key) * value.float() for key, value in terms.items())

    def _apply(
        self, name: str, loss: torch.Tensor, parameters: list[nn.Parameter]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Backward (gradients averaged across ranks while it runs), clip and step one optimizer, unless the loss
        or the gradient is not finite on some rank; returns (grad norm, stepped), device tensors."""
        optimizer = self.optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)
        max_norm = self.config.grad_clip if self.config.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(parameters, max_norm).detach()
        finite = all_ranks_agree(torch.isfinite(norm) & torch.isfinite(loss.detach()), self.context)
        step_unless(optimizer, ~finite)
        self.schedulers[name].step()
        return norm, finite

    def train_step(self, batch: Any) -> dict[str, torch.Tensor | float]:
        """One discriminator step (adversarial models) and one generator step; returns the values to log, as
        device tensors (read them with :func:`as_floats`; the host does not wait for the device here)."""
        self.model.train()
        with self._autocast():
            out: StepOutput = self.forward_step(batch)
        terms = dict(out.terms)
        logged: dict[str, torch.Tensor | float] = {}
        stepped = torch.ones((), dtype=torch.bool, device=self.device)
        if out.adversarial is not None:
            with self._autocast():
                d_terms = self.discriminator_step(out.adversarial.detached())
            d_norm, d_stepped = self._apply(
                "discriminator", self.weighted_sum(d_terms), list(self.discriminator.parameters())
            )
            stepped &= d_stepped
            logged.update({key: value.detach() for key, value in d_terms.items()})
            logged["grad_norm/discriminator"] = d_norm
            with self._autocast():
                terms.update(self.model.adversarial_loss(out.adversarial))
        loss = self.weighted_sum(terms)
        norm, g_stepped = self._apply("generator", loss, self.generator_params)
        stepped &= g_stepped
        self.scaler.update()
        if self.ema is not None:
            self.ema.update(self.model, stepped)
        self.nonfinite.add(stepped)
        logged.update({key: value.detach() for key, value in terms.items()})
        logged.update(
            {"loss": loss.detach(), "grad_norm/generator": norm, "lr": self.schedulers["generator"].get_last_lr()[0]}
        )
        return logged

    def grad_norms_by_module(self) -> dict[str, float]:
        """Gradient norm of each top-level submodule's generator parameters (after the last backward)."""
        generator_ids = {id(p) for p in self.generator_params}
        norms = {}
        for name, module in self.model.named_children():
            grads = [
                p.grad.detach().float().norm()
                for p in module.parameters()
                if p.grad is not None and id(p) in generator_ids
            ]
            if grads:
                norms[f"grad_norm/{name}"] = float(torch.stack(grads).norm())
        return norms

    # ------------------------------------------------------------------------------------------ validation

    def _loader(self, dataset: Dataset, sampler: LengthBucketSampler, epoch: int) -> DataLoader:
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=self.data.collate,
            num_workers=self.config.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(self.config.seed + epoch),
        )

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Over the validation set: the model's validation measure (``validation_metric``, the same for every
        model of a kind and independent of its loss, with a fixed seed), every non-adversarial loss term and
        their weighted total."""
        model = self.ema.model if self.ema else self.model
        model.eval()
        sampler = LengthBucketSampler(
            self.data.val_lengths, self.config.batch_size, self.config.max_frames, shuffle=False
        )
        sums: dict[str, float] = {}
        count = 0
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self.config.seed)
            for index, batch in enumerate(self._loader(self.data.val, sampler, 0)):
                if self.config.val_max_batches and index >= self.config.val_max_batches:
                    break
                batch = batch.to(self.device)
                with self._autocast():
                    terms = model(batch).terms
                    errors = model.validation_error(batch)  # (B,)
                terms["loss"] = self.weighted_sum(terms)
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + float(value) * len(batch)
                sums[model.validation_metric] = sums.get(model.validation_metric, 0.0) + float(errors.float().sum())
                count += len(batch)
        return {key: value / count for key, value in sums.items()}

    @torch.no_grad()
    def log_sample(self) -> None:
        model = self.ema.model if self.ema else self.model
        model.eval()
        batch = self.data.collate([self.data.val[0]]).to(self.device)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self.config.seed)
            sample = model.validation_sample(batch)
            audio, sample_rate = self.sample_audio(sample)
        self.logger.sample(sample, audio, sample_rate, self.position.step)

    # ------------------------------------------------------------------------------------------ loop

    def _due(self, every: int) -> bool:
        return every > 0 and self.position.step % every == 0

    def _clock_marks(self, seconds: float) -> int:
        """How many multiples of ``train.keep_every_minutes`` the training clock has passed at ``seconds``."""
        every = 60 * self.config.keep_every_minutes
        return math.floor(seconds / every) if every > 0 else 0

    def budget_spent(self) -> bool:
        """Whether the run has used its budget: ``train.max_steps``, or ``train.max_minutes`` of training."""
        minutes = self.config.max_minutes
        steps = self.config.max_steps
        return (steps > 0 and self.position.step >= steps) or (minutes > 0 and self.position.seconds >= 60 * minutes)

    def progress_bar(self) -> tqdm:
        """The bar of :meth:`fit`: over the steps, or under a wall-clock budget over its seconds of training (the
        description then counts the steps)."""
        shown = {"desc": "train", "disable": not self.context.is_main, "dynamic_ncols": True}
        if self.config.max_minutes > 0:
            layout = "{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]"
            total, done = 60 * self.config.max_minutes, min(60 * self.config.max_minutes, self.position.seconds)
            return tqdm(total=total, initial=done, unit="s", bar_format=layout, **shown)
        return tqdm(total=self.config.max_steps, initial=self.position.step, unit="step", **shown)

    def _update_bar(self, bar: tqdm) -> None:
        if self.config.max_minutes > 0:
            bar.set_description(f"train (step {self.position.step})", refresh=False)
            bar.update(min(bar.total, self.position.seconds) - bar.n)
        else:
            bar.update(1)

    def _budget(self) -> dict[str, float]:
        return {"seconds": self.position.seconds, "utterances": self.position.utterances}

    def _after_step(self, logged: dict[str, torch.Tensor | float], bar: tqdm, clock_mark: bool = False) -> None:
        """Logs, validates and saves as due after a step; ``clock_mark``: the step passed a multiple of
        ``train.keep_every_minutes``, so its checkpoint is written and kept."""
        config, step, final = self.config, self.position.step, self.budget_spent()
        if self._due(config.log_every) or final:
            self.nonfinite.check(config.max_nonfinite_steps, step)  # every rank reads the same count
        if self._due(config.log_every) and self.context.is_main:
            values = as_floats(logged)
            self.logger.scalars("train", {**values, **self.grad_norms_by_module(), **self._budget()}, step)
            bar.set_postfix(loss=f"{values['loss']:.3f}", refresh=False)
        validate = self._due(config.val_every) or final
        sample = self._due(config.sample_every or config.val_every)
        if clock_mark:
            self.position.kept_steps.append(step)
        save = self._due(config.checkpoint_every) or final or clock_mark
        rng_states = self.rng_states() if validate or save else None
        if validate or sample:
            if self.context.is_main:
                self._validate_and_sample(validate, sample, rng_states, bar)
            wait_for_each_other(self.context)  # only rank 0 validates; the others wait
        if save:
            self.save(rng_states=rng_states)

    def _validate_and_sample(self, validate: bool, sample: bool, rng_states: list | None, bar: tqdm) -> None:
        if validate:
            val = self.validate()
            metric = self.model.validation_metric
            self.logger.scalars("val", {**val, **self._budget()}, self.position.step)
            bar.write(f"step {self.position.step}: val {metric} {val[metric]:.4f}, val loss {val['loss']:.4f}")
            if val[metric] < self.best_val:
                self.best_val = val[metric]
                self._write(best=True, rng_states=rng_states)
        if sample:
            self.log_sample()

    def _advance(self, batch_size: int, seconds: float, stops: StopRequests | None) -> str | None:
        """Counts one step done by every rank: the ranks add up their utterances, average their seconds and
        agree whether any of them was asked to stop; returns ``interrupted``, ``terminated`` or None."""
        asked = [float(stops.interrupted), float(stops.terminated)] if stops else [0.0, 0.0]
        interrupted, terminated, utterances, seconds = sum_over_ranks([*asked, batch_size, seconds], self.context)
        self.position.step += 1
        self.position.batch_in_epoch += 1
        self.position.utterances += int(utterances)
        self.position.seconds += seconds / self.context.world_size
        return "terminated" if terminated else "interrupted" if interrupted else None

    def fit(self, until_step: int | None = None) -> Position:
        """Trains until the budget is spent (``train.max_steps`` or ``train.max_minutes``) or up to ``until_step``
        if that comes first; returns the final position."""
        target = min(self.config.max_steps or math.inf, until_step or math.inf)
        self.logger = TrainLogger(self.run_dir, enabled=self.context.is_main)
        bar = self.progress_bar()
        # One process stops at once on Ctrl-C or SIGTERM; several stop together at the end of a step.
        stops = StopRequests() if self.context.enabled else None
        restore_sigterm = sigterm_as_interrupt() if stops is None else stops.restore
        non_blocking = self.device.type == "cuda"
        try:
            while self.position.step < target and not self.budget_spent():
                self.sampler.set_epoch(self.position.epoch, self.position.batch_in_epoch)
                clock = time.perf_counter()
                for batch in self._loader(self.data.train, self.sampler, self.position.epoch):
                    logged = self.train_step(batch.to(self.device, non_blocking=non_blocking))
                    marks = self._clock_marks(self.position.seconds)
                    stop = self._advance(len(batch), time.perf_counter() - clock, stops)
                    self._update_bar(bar)
                    if stop is not None:
                        self._stop(stop, bar)
                    self._after_step(logged, bar, clock_mark=self._clock_marks(self.position.seconds) > marks)
                    if self.position.step >= target or self.budget_spent():
                        break
                    clock = time.perf_counter()
                else:
                    self.position.epoch += 1
                    self.position.batch_in_epoch = 0
        except KeyboardInterrupt as stop:
            if stops is None:  # several processes have saved together in _stop
                reason = "terminated" if isinstance(stop, Terminated) else "interrupted"
                bar.write(f"{reason}: saving a checkpoint at step {self.position.step}")
                self.save()
            raise
        finally:
            restore_sigterm()
            bar.close()
            self.logger.close()
        if self.position.step % self.config.checkpoint_every and not self.budget_spent():
            self.save()  # stopped early by until_step: the budget's end saved already
        return self.position

    def _stop(self, reason: str, bar: tqdm) -> None:
        """Every rank was told that one of them was asked to stop: they save together, then stop."""
        if self.context.is_main:
            bar.write(f"{reason}: saving a checkpoint at step {self.position.step}")
        self.save()
        raise Terminated(reason) if reason == "terminated" else KeyboardInterrupt(reason)


def as_floats(logged: dict[str, torch.Tensor | float]) -> dict[str, float]:
    """The values :meth:`Trainer.train_step` returns, read on the host."""
    return {key: float(value) for key, value in logged.items()}
