"""Optimizers, the learning-rate schedule and the exponential moving average of weights."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

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


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based): linear warm-up, then the schedule."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "cosine":
        span = max(1, config.max_steps - config.warmup_steps)
        progress = min(1.0, (step - config.warmup_steps) / span)
        return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "exponential":
        return config.decay_rate ** ((step - config.warmup_steps) / 1000)
    return 1.0


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, config))


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
