"""Training settings shared by every model the trainer runs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class TrainConfig:
    """Step-based training.

    Attributes:
        max_steps: optimizer steps of the whole run (a resumed run continues up to it); 0 = no step limit, the
            run then ends by ``max_minutes`` alone.
        max_minutes: a wall-clock budget: training stops once it has spent this many minutes in data loading
            and training steps (validation, logs and checkpoints not counted; resumed runs add up); 0 = none.
            Whichever of ``max_steps`` and ``max_minutes`` comes first ends the run.
        batch_size: utterances per batch (at most).
        max_frames: bound on padded mel frames per batch (items x longest); 0 = no bound.
        learning_rate, betas, weight_decay, eps: AdamW.
        warmup_steps: linear warm-up from 0 to ``learning_rate``.
        schedule: after warm-up: ``constant``, ``cosine`` (to ``min_lr_ratio`` x lr at ``max_steps``, or at the
            end of ``max_minutes`` if that comes first) or ``exponential`` (lr x ``decay_rate`` ** (step / 1000)).
        grad_clip: clip the global gradient norm of each optimizer's parameters (0 = no clipping).
        ema_decay: exponential moving average of the weights (0 = off); validation, checkpoints' ``ema`` and
            synthesis then use the averaged weights.
        precision: autocast dtype on CUDA (``bf16`` default, ``fp16`` with a gradient scaler, or ``fp32``);
            the CPU always trains in fp32.
        compile: run the model's training forward through ``torch.compile`` (the alignment search stays out of
            the graph); on a GPU it fuses the many small kernels of a step. The first steps are slow while it
            compiles, and every new batch shape may compile again until shapes are treated as dynamic.
        loss_weights: weight of each loss key (unlisted keys weigh 1).
        loss_warmup: steps over which a loss key's weight ramps linearly from 0 (e.g. a KL term).
        discriminator_learning_rate: learning rate of the discriminator of adversarial models (0 = same).
        max_nonfinite_steps: abort after this many consecutive steps with a non-finite loss or gradient (such a
            step leaves weights, optimizer moments and EMA as they were; the learning-rate schedule counts it). The
            count is read every ``log_every`` steps, so the run stops at the first log step after the limit.
        log_every / val_every / sample_every / checkpoint_every: intervals in steps (sample 0 = val_every).
        keep_last: step checkpoints kept besides ``best.pt``.
        keep_every: step checkpoints at multiples of this many steps are never deleted (learning curves; 0 = none).
        keep_every_minutes: a step checkpoint is written, and never deleted, each time the training clock passes a
            multiple of this many minutes (learning curves under a wall-clock budget; 0 = none).
        val_max_batches: validation batches per evaluation (0 = the whole validation set).
        num_workers: data loader worker processes.
        init_from: a run folder or checkpoint whose weights start a new run (warm start; ignored when the run
            folder already holds checkpoints, which are resumed instead).
        init_modules: top-level submodules taken from ``init_from``, e.g. ``[encoder]`` to start another decoder
            family from a run's encoder; empty = every weight (fine-tuning).
        seed: seeds the model initialisation, the batches and every random draw of training.
    """

    max_steps: int = 100_000
    max_minutes: float = 0.0
    batch_size: int = 32
    max_frames: int = 0
    learning_rate: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 0.0
    eps: float = 1e-9
    warmup_steps: int = 1000
    schedule: Literal["constant", "cosine", "exponential"] = "constant"
    min_lr_ratio: float = 0.1
    decay_rate: float = 0.999
    grad_clip: float = 5.0
    ema_decay: float = 0.0
    precision: Literal["bf16", "fp16", "fp32"] = "bf16"
    compile: bool = False
    loss_weights: dict[str, float] = field(default_factory=dict)
    loss_warmup: dict[str, int] = field(default_factory=dict)
    discriminator_learning_rate: float = 0.0
    max_nonfinite_steps: int = 20
    log_every: int = 50
    val_every: int = 1000
    sample_every: int = 0
    checkpoint_every: int = 1000
    keep_last: int = 3
    keep_every: int = 0
    keep_every_minutes: float = 0.0
    val_max_batches: int = 0
    num_workers: int = 2
    init_from: str = ""
    init_modules: list[str] = field(default_factory=list)
    seed: int = 1234

    def __post_init__(self) -> None:
        for name in ("batch_size", "log_every", "val_every", "checkpoint_every", "keep_last"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if not (0 <= self.max_minutes < math.inf):
            raise ValueError(f"train.max_minutes must be a finite number >= 0 (0 = no limit), got {self.max_minutes}")
        if self.max_steps < 0 or (self.max_steps == 0 and self.max_minutes == 0):
            raise ValueError(
                f"train.max_steps must be >= 1, or 0 (no step limit) with a train.max_minutes budget; got "
                f"max_steps={self.max_steps}, max_minutes={self.max_minutes}"
            )
        if self.keep_every < 0:
            raise ValueError(f"train.keep_every must be >= 0 (0 = none), got {self.keep_every}")
        if not (0 <= self.keep_every_minutes < math.inf):
            raise ValueError(
                f"train.keep_every_minutes must be a finite number >= 0 (0 = none), got {self.keep_every_minutes}"
            )
        if self.learning_rate <= 0:
            raise ValueError(f"train.learning_rate must be positive, got {self.learning_rate}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"train.ema_decay must be in [0, 1), got {self.ema_decay}")
