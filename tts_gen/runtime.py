"""The device a command runs on, and waiting for it when timing."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is an error that says so."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA device is available")
    return device


def synchronize(device: torch.device | str) -> None:
    """Waits for the device's queued work, so that a clock read after it measures that work."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
