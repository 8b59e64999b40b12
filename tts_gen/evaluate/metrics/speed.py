"""Cost metrics: real-time factor, parameter count and peak memory of synthesis.

* Real-time factor: seconds of computation per second of audio, measured separately for the acoustic model
  (text -> mel) and the vocoder (mel -> waveform) with ``time.perf_counter`` around each call (CUDA work is
  synchronized before the clock is read), on whatever device the evaluation runs on.
* Parameters: the acoustic model used at synthesis (encoder + decoder, without a GAN's discriminator, which
  synthesis never runs) and the vocoder.
* Peak memory of one synthesis (acoustic model + vocoder), in MiB:

  - CUDA (``cuda_allocated``): ``torch.cuda.max_memory_allocated`` with the statistics reset before it;
  - Linux CPU (``cpu_rss_peak``): the process's peak resident set size is reset to its current size
    (``/proc/self/clear_refs``) before the synthesis, and the peak (``VmHWM``) after it minus the size
    before it is reported: memory the synthesis took from the system, not memory that PyTorch's or the C
    library's allocator reused from earlier calls;
  - other CPUs (``cpu_maxrss_growth``): the growth of ``getrusage`` ``ru_maxrss`` over its value when the
    meter was made, a high-water mark that never goes down.

  ``tracemalloc`` is not used: it does not see PyTorch's allocations.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


def parameter_count(module: nn.Module, exclude: nn.Module | None = None) -> int:
    """Number of parameters of ``module`` that are not parameters of ``exclude``."""
    skip = {id(p) for p in exclude.parameters()} if exclude is not None else set()
    return sum(p.numel() for p in module.parameters() if id(p) not in skip)


def maxrss_mb() -> float:
    """The process's peak resident set size since it started, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def proc_status_mb(field: str) -> float:
    """A memory line (``VmRSS``, ``VmHWM``) of ``/proc/self/status``, in MiB."""
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(f"{field} is not in {PROC_STATUS}")


def can_reset_peak_rss() -> bool:
    """True where the peak RSS can be reset (Linux >= 4.0 with a writable ``/proc/self/clear_refs``)."""
    try:
        PROC_CLEAR_REFS.write_text("5")
        proc_status_mb("VmHWM")
    except (OSError, KeyError):
        return False
    return True


@dataclass
class MemoryReading:
    """Peak memory of one synthesis in MiB, and what was measured (see the module docstring)."""

    peak_mb: float
    kind: str


class PeakMemory:
    """Measures the peak memory of the code run inside ``with meter: ...`` (see the module docstring)."""

    def __init__(self, device: torch.device):
        self.device = device
        if device.type == "cuda":
            self.kind = "cuda_allocated"
        elif can_reset_peak_rss():
            self.kind = "cpu_rss_peak"
        else:
            self.kind = "cpu_maxrss_growth"
        self.baseline_mb = maxrss_mb()
        self.last = MemoryReading(0.0, self.kind)

    def __enter__(self) -> PeakMemory:
        if self.kind == "cuda_allocated":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.kind == "cpu_rss_peak":
            PROC_CLEAR_REFS.write_text("5")
            self.baseline_mb = proc_status_mb("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        if self.kind == "cuda_allocated":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        elif self.kind == "cpu_rss_peak":
            peak = proc_status_mb("VmHWM") - self.baseline_mb
        else:
            peak = maxrss_mb() - self.baseline_mb
        self.last = MemoryReading(max(0.0, peak), self.kind)


def real_time_factor(seconds: float, audio_seconds: float) -> float:
    """Computation seconds per second of audio."""
    return seconds / audio_seconds if audio_seconds > 0 else float("inf")
