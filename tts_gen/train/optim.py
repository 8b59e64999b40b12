"""Optimizers, the learning-rate schedule and the exponential moving average of weights."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from tts_gen.train.config import TrainConfig


def build_optimizer(parameters: Iterable[nn.Parameter], config: TrainConfig, learning_rate: float) -> torch.optim.AdamW:
    """AdamW in its fused form (one kernel for every parameter on CUDA, a vectorised loop on the CPU), which also
    skips a step on the device: :func:`step_unless` sets its ``found_inf``."""
    return torch.optim.AdamW(
        list(parameters),
        lr=learning_rate,
        betas=config.betas,
        eps=config.eps,
        weight_decay=config.weight_decay,
        fused=True,
    )


def step_unless(optimizer: torch.optim.Optimizer, skip: torch.Tensor) -> None:
    """One optimizer step, which leaves the weights and the optimizer's moments and step count as they were where
    the boolean tensor ``skip`` is true, without reading ``skip`` on the host (the fused AdamW's ``found_inf``,
    as torch's gradient scaler uses it)."""
    optimizer.found_inf = skip.to(torch.float32)
    optimizer.step()


def budget_progress(step: int, seconds: float, config: TrainConfig) -> float:
    """How much of the run's budget is spent after warm-up, in [0, 1]: the larger of the share of the steps after
    warm-up and, under a wall-clock budget (``max_minutes`` > 0), the share of its minutes."""
    span = max(1, config.max_steps - config.warmup_steps)
    progress = (step - config.warmup_steps) / span if config.max_steps > 0 else 0.0
    if config.max_minutes > 0:
        progress = max(progress, seconds / (60 * config.max_minutes))
    return min(1.0, max(0.0, progress))


def lr_factor(step: int, config: TrainConfig, seconds: float = 0.0) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based), ``seconds`` into training: linear warm-up, then
    the schedule. A cosine ends at ``min_lr_ratio`` where the budget ends, in steps or in minutes, whichever comes
    first, so that a run stopped by its wall-clock budget has also decayed its learning rate."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "cosine":
        progress = budget_progress(step, seconds, config)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "exponential":
        return config.decay_rate ** ((step - config.warmup_steps) / 1000)
    return 1.0


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, seconds: Callable[[], float] = lambda: 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning-rate schedule of ``optimizer``; ``seconds()`` gives the seconds of training spent so far (the
    same on every rank), which a cosine under ``max_minutes`` follows."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, config, seconds()))


class EMA:
    """Exponential moving average of a model's parameters (buffers are copied as they are)."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, stepped: torch.Tensor | None = None) -> None:
        """Moves the average towards ``model``'s weights; not at all where the boolean tensor ``stepped`` is
        false (a skipped step), which is applied on the device without being read."""
        pairs = list(zip(self.model.parameters(), model.parameters()))
        if pairs:
            stepped = torch.ones((), dtype=torch.bool) if stepped is None else stepped
            weight = ((1 - self.decay) * stepped.float()).to(pairs[0][0].device)
            for averaged, current in pairs:
                averaged.lerp_(current.detach(), weight)
        for averaged, current in zip(self.model.buffers(), model.buffers()):
            averaged.copy_(current)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
