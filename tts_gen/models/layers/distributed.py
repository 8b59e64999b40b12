"""Statistics of the whole batch of a distributed training run, for layers initialised from data."""

from __future__ import annotations

import torch
import torch.distributed as dist


def sum_over_processes(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The tensors summed over every process of the running ``torch.distributed`` group, in float32 or wider
    (themselves when no group of several processes runs). Every process must call it at the same point with
    tensors of the same shapes: one all-reduce for all of them."""
    tensors = tuple(tensor.to(torch.promote_types(tensor.dtype, torch.float32)) for tensor in tensors)
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return tensors
    flat = torch.cat([tensor.reshape(-1) for tensor in tensors])
    dist.all_reduce(flat)
    parts = torch.split(flat, [tensor.numel() for tensor in tensors])
    return tuple(part.view_as(tensor) for part, tensor in zip(parts, tensors))
