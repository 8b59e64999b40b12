"""Distributed data parallel training under ``torchrun``, on one node or several.

``torchrun`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` (and, across nodes, runs the c10d rendezvous); with
more than one process the trainer

* joins the process group (NCCL on GPUs, gloo on CPUs) and a gloo group for what the hosts must agree on (a stop
  request, the budget spent, waiting while rank 0 validates and writes), so that none of it waits for a GPU;
* wraps the model in torch's :class:`~torch.nn.parallel.DistributedDataParallel`, which broadcasts rank 0's
  parameters and buffers when it is built and averages gradients in buckets while the backward pass runs; the
  discriminator of an adversarial model, whose step is a backward pass of its own, gets a wrapper of its own
  (:class:`DiscriminatorStep`) and is left out of the generator's;
* gives each rank a random stream of its own (:func:`rank_seed`), so that the ranks draw different noise.

Each rank takes every ``world_size``-th batch of the length-bucketed sampler.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tts_gen.runtime import resolve_device
from tts_gen.trainable import AdversarialTerms


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: its rank among ``world_size`` processes, its device and, with several
    processes, the gloo group for host-side agreement (``control``)."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    control: Any = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup_distributed(device_name: str = "auto") -> DistributedContext:
    """Joins the process group when launched by torchrun with several processes (NCCL when this process has a
    GPU, gloo otherwise); one process needs no group."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistributedContext(device=resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available() and device_name != "cpu":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible): start at most that "
                "many processes per node (torchrun --nproc_per_node)"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, device_id=device if backend == "nccl" else None)
    control = dist.new_group(backend="gloo") if backend == "nccl" else dist.group.WORLD
    return DistributedContext(rank=rank, world_size=world_size, device=device, control=control)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s random stream in a run seeded with ``seed``: distinct for every rank,
    reproducible for every seed (NumPy's SeedSequence of the pair)."""
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


def qualified_names(model: nn.Module, part: nn.Module) -> list[str]:
    """The names, within ``model``, of the parameters and buffers of its submodule ``part``."""
    prefix = next((name for name, module in model.named_modules() if module is part), None)
    if prefix is None:
        raise ValueError("the discriminator is not a submodule of the model")
    return [f"{prefix}.{name}" for name, _ in (*part.named_parameters(), *part.named_buffers())]


class DiscriminatorStep(nn.Module):
    """The discriminator's loss as a module whose parameters are the discriminator's, so that its step can be
    wrapped in DistributedDataParallel on its own: ``forward(terms)`` = ``model.discriminator_loss(terms)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.discriminator = model.discriminator
        self.loss = model.discriminator_loss  # a bound method: the model is not registered as a submodule

    def forward(self, terms: AdversarialTerms) -> dict[str, torch.Tensor]:
        return self.loss(terms)


def data_parallel(module: nn.Module, context: DistributedContext, ignore: nn.Module | None = None) -> nn.Module:
    """``module`` in DistributedDataParallel under several processes (itself otherwise); the parameters and
    buffers of its submodule ``ignore`` are left to another wrapper. Inputs are moved by the caller."""
    if not context.enabled:
        return module
    if ignore is not None:
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, qualified_names(module, ignore))
    return DistributedDataParallel(module, device_ids=None, broadcast_buffers=True)


def all_ranks_agree(flag: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """A boolean tensor that is true only where it is true on every rank (a MIN all-reduce on the device: it
    does not wait for the device on the host)."""
    if not context.enabled:
        return flag
    values = flag.to(torch.int32)
    dist.all_reduce(values, op=dist.ReduceOp.MIN)
    return values.bool()


def sum_over_ranks(values: list[float], context: DistributedContext) -> list[float]:
    """Host numbers summed over the ranks (gloo, float64): every rank gets the same sums."""
    if not context.enabled:
        return list(values)
    summed = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(summed, group=context.control)
    return summed.tolist()


def gather_objects(value: Any, context: DistributedContext) -> list[Any]:
    """Every rank's ``value`` (picklable), in rank order, on every rank."""
    if not context.enabled:
        return [value]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, value, group=context.control)
    return gathered


def broadcast_from_main(value: Any, context: DistributedContext) -> Any:
    """Rank 0's ``value`` (picklable) on every rank."""
    if not context.enabled:
        return value
    box = [value if context.is_main else None]
    dist.broadcast_object_list(box, src=0, group=context.control)
    return box[0]


def wait_for_each_other(context: DistributedContext) -> None:
    """Every rank waits here until all have arrived (while rank 0 validates or writes, the others wait)."""
    if context.enabled:
        dist.barrier(group=context.control)
