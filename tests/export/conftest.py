"""Acoustic models of every decoder family at tiny sizes, with random weights, saved as checkpoints: enough to
check that an exported graph computes what PyTorch computes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.conftest import ROOT

ENCODER = [
    "model.encoder.hidden_channels=32",
    "model.encoder.filter_channels=48",
    "model.encoder.n_layers=1",
    "model.encoder.duration_filter_channels=16",
]
UNET = [
    "model.decoder.network.channels=[16,24]",
    "model.decoder.network.time_channels=16",
    "model.decoder.network.attention_filter_channels=32",
    "model.decoder.sampling.steps=3",
]
FAMILIES = {
    "prior": [],
    "flow": ["model.decoder.hidden_channels=16", "model.decoder.n_blocks=2", "model.decoder.n_layers=2"],
    "vae": [
        "model.decoder.z_channels=8",
        "model.decoder.posterior.hidden_channels=16",
        "model.decoder.prior.hidden_channels=16",
        "model.decoder.decoder.hidden_channels=16",
    ],
    "gan": ["model.decoder.hidden_channels=16", "model.decoder.n_layers=2", "model.decoder.n_stacks=1"],
    "diffusion": UNET,
    "flow_matching": UNET,
    "ar": ["model.decoder.lstm_channels=32", "model.decoder.cond_channels=32", "model.decoder.postnet_channels=32"],
}


def random_checkpoint(family: str, path: Path, overrides: tuple[str, ...] = ()) -> Path:
    """An acoustic checkpoint of ``egs/demo/<family>.yaml`` at tiny sizes (and ``overrides``) whose weights are all
    random (about 3 frames per token), written as training writes them."""
    from tts_gen.config import to_dict
    from tts_gen.data.features import MelStats
    from tts_gen.experiment import build_tts_model, load_experiment
    from tts_gen.runs import save_checkpoint, versions
    from tts_gen.text import Tokenizer

    config = load_experiment(ROOT / "egs" / "demo" / f"{family}.yaml", ENCODER + FAMILIES[family] + list(overrides))
    tokenizer = Tokenizer(config.text)
    seed = sum(map(ord, family))
    generator = torch.Generator().manual_seed(seed)
    stats = MelStats(mean=[-6.0 + 0.05 * i for i in range(80)], std=[2.0] * 80)
    with torch.random.fork_rng():  # the same weights whichever tests ran before
        torch.manual_seed(seed)
        model = build_tts_model(config, tokenizer.num_symbols, stats)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
        durations = model.encoder.duration_predictor.proj
        durations.weight.mul_(0.1)
        durations.bias.fill_(math.log(3.0))
    save_checkpoint(
        path,
        {
            "kind": "acoustic",
            "config": to_dict(config),
            "symbols": tokenizer.state_dict(),
            "mel_stats": {"mean": stats.mean, "std": stats.std},
            "model": model.state_dict(),
            "ema": None,
            "step": 0,
            "versions": versions(),
        },
    )
    return path


@pytest.fixture(scope="session")
def family_checkpoint(tmp_path_factory):
    """family -> the path of its random tiny checkpoint (made once per session)."""
    folder = tmp_path_factory.mktemp("families")
    made: dict[str, Path] = {}

    def checkpoint(family: str) -> Path:
        if family not in made:
            made[family] = random_checkpoint(family, folder / f"{family}.pt")
        return made[family]

    return checkpoint


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs on one torch thread."""
