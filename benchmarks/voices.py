"""Voices with random weights for the benchmarks (imported as ``voices`` when a script runs from ``benchmarks/``):
speed and memory do not depend on the weights, only on the sizes and on how many frames each token gets."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import torch

from tts_gen.config import to_dict
from tts_gen.data.features import MelStats
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.runs import save_checkpoint, versions
from tts_gen.text import Tokenizer
from tts_gen.vocoders.config import load_vocoder_experiment
from tts_gen.vocoders.hifigan import HiFiGANGenerator

ROOT = Path(__file__).resolve().parent.parent
# LJSpeech's speaking rate in tts_gen's units: about 5.8 mel frames per phoneme token
FRAMES_PER_TOKEN = 5.8


def validation_text(words: int) -> str:
    """The first ``words`` words of the LJSpeech validation transcripts, as one text."""
    lines = resources.files("tts_gen.data").joinpath("splits/ljspeech/val.txt").read_text().splitlines()
    text = " ".join(line.split("|", 1)[1] for line in lines if "|" in line).split()
    while len(text) < words:
        text = text + text
    return " ".join(text[:words])


def random_acoustic_model(family: str, configs: str = "egs/ljspeech", seed: int = 0):
    """(model in eval mode, its config, its tokenizer): random weights, durations of about FRAMES_PER_TOKEN."""
    config = load_experiment(ROOT / configs / f"{family}.yaml", [])
    tokenizer = Tokenizer(config.text)
    torch.manual_seed(seed)
    stats = MelStats(mean=[-6.0] * config.audio.n_mels, std=[2.0] * config.audio.n_mels)
    model = build_tts_model(config, tokenizer.num_symbols, stats).eval()
    with torch.no_grad():
        projection = model.encoder.duration_predictor.proj
        projection.weight.mul_(0.01)
        projection.bias.fill_(math.log(FRAMES_PER_TOKEN - 0.5))  # ceil() adds half a frame on average
    return model, config, tokenizer


def save_random_checkpoint(family: str, path: Path, configs: str = "egs/ljspeech") -> Path:
    """A checkpoint file of :func:`random_acoustic_model`, as training writes one."""
    model, config, tokenizer = random_acoustic_model(family, configs)
    stats = model.mel_mean.flatten().tolist(), model.mel_std.flatten().tolist()
    save_checkpoint(
        path,
        {
            "kind": "acoustic",
            "config": to_dict(config),
            "symbols": tokenizer.state_dict(),
            "mel_stats": {"mean": stats[0], "std": stats[1]},
            "model": model.state_dict(),
            "ema": None,
            "step": 0,
            "versions": versions(),
        },
    )
    return path


def random_hifigan(version: int = 1) -> tuple[HiFiGANGenerator, object]:
    """A HiFi-GAN generator of ``egs/ljspeech/hifigan_v<version>.yaml`` with random weights, and its audio."""
    config = load_vocoder_experiment(ROOT / "egs" / "ljspeech" / f"hifigan_v{version}.yaml")
    torch.manual_seed(0)
    return HiFiGANGenerator(config.vocoder.generator, config.audio.n_mels).eval(), config.audio


def save_random_vocoder(path: Path, version: int = 1) -> Path:
    """A vocoder checkpoint file of :func:`random_hifigan`, as training writes one."""
    config = load_vocoder_experiment(ROOT / "egs" / "ljspeech" / f"hifigan_v{version}.yaml")
    generator, _ = random_hifigan(version)
    weights = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    save_checkpoint(
        path,
        {
            "kind": "vocoder",
            "config": to_dict(config),
            "model": weights,
            "ema": None,
            "step": 0,
            "versions": versions(),
        },
    )
    return path
