"""Tiny vocoder and acoustic runs on the real LJSpeech clips of tests/data, shared by the vocoder tests."""

from __future__ import annotations

import pytest
import torch

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
def one_thread():
    """The tiny models here gain nothing from a second thread, and spin-waiting threads are slow on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def vocoder_run(prepared_mini, tmp_path_factory):
    """A tiny HiFi-GAN trained for 2 steps through ``train_vocoder``."""
    from tts_gen.vocoders.run import train_vocoder

    run = tmp_path_factory.mktemp("vocoder") / "hifigan"
    train_vocoder(
        DEMO,
        prepared_mini,
        run,
        [*TINY, "train.max_steps=2", "train.val_every=1000", "train.checkpoint_every=1000"],
        device="cpu",
    )
    return run


@pytest.fixture(scope="session")
def acoustic_run(prepared_mini, tmp_path_factory):
    """A small flow acoustic model (its decoder needs even lengths) trained for 1 step."""
    from tts_gen.acoustic_run import train_acoustic

    run = tmp_path_factory.mktemp("acoustic") / "flow"
    overrides = [
        "model.encoder.hidden_channels=32",
        "model.encoder.filter_channels=64",
        "model.encoder.n_layers=1",
        "model.encoder.duration_filter_channels=32",
        "model.decoder.hidden_channels=16",
        "model.decoder.n_blocks=2",
        "train.max_steps=1",
        "train.batch_size=2",
        "train.num_workers=0",
        "train.val_every=1000",
        "train.warmup_steps=1",
    ]
    train_acoustic(ROOT / "egs" / "demo" / "flow.yaml", prepared_mini, run, overrides, device="cpu")
    return run
