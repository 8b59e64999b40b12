"""The device a command runs on, and waiting for it when timing."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

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


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def hardware(device) -> dict[str, Any]:
    """The machine a timing or a training ran on (its figures mean nothing without it).

    ``cpu_kernels`` is the instruction set of the kernels torch picked on this CPU ("AVX2", "AVX512", ...): two
    machines of one model name can differ in it, and runs that are bit-for-bit repeatable on one machine then
    differ in their last digits (and a training run in its trajectory) between them.
    """
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "cpu": cpu_name(),
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
