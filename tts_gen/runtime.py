"""Device helpers for timing."""

from __future__ import annotations

import torch


def synchronize(device: torch.device | str) -> None:
    """Waits for the device's queued work, so that a clock read after it measures that work."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
