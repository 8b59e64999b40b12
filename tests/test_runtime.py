"""reuse_freed_memory: repeated inference stops paying page faults for its large activations."""

import subprocess
import sys

import pytest

# Five calls of a small convolutional step on 64 MB activations (above glibc's 32 MB cap on its own mapping
# threshold, so by default each of them is a fresh mapping), after one warm-up call.
PROBE = """
import resource, sys
import torch
import torch.nn.functional as F
from tts_gen.runtime import reuse_freed_memory
limit = reuse_freed_memory() if sys.argv[1] == "reuse" else 0
x, w = torch.randn(1, 16, 1, 1 << 20), torch.randn(16, 16, 1, 3)
def step():
    h = F.leaky_relu(x, 0.1)
    return (x + F.conv2d(h, w, padding=(0, 1))) / 2
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(limit, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
ACTIVATION_BYTES = 64 << 20


def page_faults(mode: str) -> tuple[int, int]:
    """(the limit set, minor page faults of the five calls) in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True).stdout
    limit, faults = out.split()
    return int(limit), int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc setting")
def test_repeated_calls_reuse_freed_activations():
    _, default_faults = page_faults("default")
    limit, reuse_faults = page_faults("reuse")
    if limit < ACTIVATION_BYTES:
        pytest.skip(f"this C library keeps blocks of up to {limit} bytes only")
    assert default_faults > 5 * ACTIVATION_BYTES // 4096  # the baseline maps (and faults) every activation anew
    assert reuse_faults < default_faults / 4
