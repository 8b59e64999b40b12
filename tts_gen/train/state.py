"""Training state that only the trainer and warm starts need: random generator states and submodule copies."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from tts_gen.runs import CheckpointError


def load_submodules(model: torch.nn.Module, state: dict[str, torch.Tensor], modules: list[str]) -> int:
    """Copies the weights of the top-level ``modules`` of ``model`` (every submodule when empty; buffers of the
    model itself, such as its mel statistics, stay its own) from a checkpoint's state dict.

    Returns the number of tensors copied; a missing module or a shape mismatch is a CheckpointError.
    """
    own = model.state_dict()
    copied = 0
    for module in modules or [name for name, child in model.named_children() if child.state_dict()]:
        keys = [k for k in own if k.startswith(f"{module}.")]
        if not keys:
            raise CheckpointError(f"the model has no submodule {module!r} to initialise")
        extra = sorted(k for k in state if k.startswith(f"{module}.") and k not in own)
        if extra:
            raise CheckpointError(f"the checkpoint's {module} has weights this model lacks, e.g. {extra[0]}")
        for key in keys:
            if key not in state or state[key].shape != own[key].shape:
                raise CheckpointError(f"cannot initialise {key} from the checkpoint: missing or of another shape")
            own[key] = state[key]
            copied += 1
    model.load_state_dict(own)
    return copied


def rng_state() -> dict[str, Any]:
    """Every random generator training draws from, in a form ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [
            str(np_state[0]),
            torch.from_numpy(np_state[1].astype(np.int64)),
            int(np_state[2]),
            int(np_state[3]),
            float(np_state[4]),
        ],
        "python": random.getstate(),
    }


def seed_all(seed: int) -> None:
    """Seeds every random generator training draws from (torch on every device, NumPy, Python)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
