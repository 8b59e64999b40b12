"""Process settings for fast inference on the CPU."""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3


def reuse_freed_memory(limit_bytes: int = 1 << 30) -> int:
    """Makes glibc's malloc keep freed blocks of up to ``limit_bytes`` for reuse instead of returning them to
    the operating system. Returns the size limit that took (32 MB where an older glibc caps it; 0 off glibc,
    where nothing changes).

    Inference allocates activations of the same large sizes on every call (HiFi-GAN V1: up to 17 MB each for
    6 s of audio). By default glibc maps such a block afresh and unmaps it when it is freed, and the kernel
    zero-fills every page again on first touch: 66,000 page faults per V1 call, about 8% of its CPU time, and
    about 18% of V3's. Kept blocks are reused with no fault. The cost: the process keeps its peak memory.
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return 0
    for limit in (limit_bytes, min(limit_bytes, 32 << 20)):  # older glibc caps the threshold at 32 MB
        if libc.mallopt(_M_MMAP_THRESHOLD, limit) and libc.mallopt(_M_TRIM_THRESHOLD, 2 * limit):
            return limit
    return 0
