"""The tiny vocoder config of the vocoder tests (the tiny vocoder and acoustic runs trained with it are session
fixtures of tests/conftest.py, shared with the tests of synthesis, export and the server)."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

DEMO = ROOT / "egs" / "demo" / "hifigan.yaml"

# The demo config shrunk so that a training step takes well under a second on a 2-core CPU.
TINY = [
    "vocoder.generator.upsample_initial_channel=16",
    "vocoder.generator.resblock_kernel_sizes=[3,5]",
    "vocoder.generator.resblock_dilation_sizes=[[1,2],[2,6]]",
    "vocoder.discriminator.periods=[2,3]",
    "vocoder.discriminator.period_channels=[4,8,8,8,8]",
    "vocoder.discriminator.n_scales=2",
    "vocoder.discriminator.scale_channels=[8,8,8,8,8,8,8]",
    "vocoder.discriminator.scale_groups=[1,4,4,4,4,4,1]",
    "vocoder.segment_samples=4096",
    "train.batch_size=2",
    "train.num_workers=0",
    "train.log_every=1",
    "train.val_max_batches=1",
]


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs on one torch thread."""
