"""``tts-gen vocoder import``: a generator of the public HiFi-GAN repository (Kong et al., 2020) as a tts_gen
vocoder run, so that a user who has one needs no vocoder training.

The public repository saves ``{"generator": state_dict}`` (files ``g_<step>``) next to a ``config.json`` (V1, V2,
V3). Its generator is the one of :mod:`tts_gen.vocoders.hifigan` under other names:

    conv_pre / ups.<i> / conv_post                  the same names
    resblocks.<i * K + j>.convs1.<k> / convs2.<k>   mrfs.<i>.stacks.<j>.layers.<k>.0 / .1 (ResBlock1, V1 and V2)
    resblocks.<i * K + j>.convs.<k>                 mrfs.<i>.stacks.<j>.layers.<k>.0      (ResBlock2, V3)
    <conv>.weight_g / weight_v (old weight norm)    <conv>.parametrizations.weight.original0 / original1

with K the number of residual kernels. A generator saved with weight norm removed (plain ``weight``) is
accepted too. The file is read with ``torch.load(weights_only=True)``: tensors only, nothing unpickled.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from tts_gen.audio import AudioConfig
from tts_gen.config import save_config, to_dict
from tts_gen.errors import TTSGenError
from tts_gen.runs import save_checkpoint, versions
from tts_gen.vocoders.config import HiFiGANConfig, VocoderExperimentConfig
from tts_gen.vocoders.hifigan import HiFiGANGenerator, HiFiGANGeneratorConfig

_RESBLOCK_RE = re.compile(r"^resblocks\.(\d+)\.(convs1|convs2|convs)\.(\d+)\.(.+)$")


class HiFiGANImportError(TTSGenError):
    """A file is not a generator of the public HiFi-GAN layout, or does not fit its config."""


def _require(config: dict[str, Any], key: str, path: Path) -> Any:
    if key not in config:
        raise HiFiGANImportError(f"{path} lacks {key!r}: it is not a config.json of the HiFi-GAN repository")
    return config[key]


def experiment_from_hifigan_config(config: dict[str, Any], path: Path) -> VocoderExperimentConfig:
    """The tts_gen vocoder config of a public HiFi-GAN ``config.json``."""
    sample_rate = int(_require(config, "sampling_rate", path))
    audio = AudioConfig(
        sample_rate=sample_rate,
        n_fft=int(_require(config, "n_fft", path)),
        win_length=int(_require(config, "win_size", path)),
        hop_length=int(_require(config, "hop_size", path)),
        n_mels=int(config.get("num_mels", 80)),
        f_min=float(config.get("fmin", 0) or 0),
        f_max=float(config.get("fmax") or sample_rate / 2),
    )
    resblock = str(_require(config, "resblock", path))
    if resblock not in ("1", "2"):
        raise HiFiGANImportError(f"{path}: resblock must be '1' or '2', got {resblock!r}")
    generator = HiFiGANGeneratorConfig(
        upsample_rates=[int(r) for r in _require(config, "upsample_rates", path)],
        upsample_kernel_sizes=[int(k) for k in _require(config, "upsample_kernel_sizes", path)],
        upsample_initial_channel=int(_require(config, "upsample_initial_channel", path)),
        resblock=int(resblock),
        resblock_kernel_sizes=[int(k) for k in _require(config, "resblock_kernel_sizes", path)],
        resblock_dilation_sizes=[[int(d) for d in ds] for ds in _require(config, "resblock_dilation_sizes", path)],
    )
    segment = int(config.get("segment_size", 8192))
    segment -= segment % audio.hop_length
    vocoder = HiFiGANConfig(generator=generator, segment_samples=segment or audio.hop_length * 32)
    return VocoderExperimentConfig(vocoder=vocoder, audio=audio)


def _our_name(name: str, kernels: int) -> str:
    """A parameter name of the public generator -> the name in :class:`HiFiGANGenerator`."""
    match = _RESBLOCK_RE.match(name)
    if match:
        index, group, layer, rest = int(match.group(1)), match.group(2), match.group(3), match.group(4)
        conv = "1" if group == "convs2" else "0"
        name = f"mrfs.{index // kernels}.stacks.{index % kernels}.layers.{layer}.{conv}.{rest}"
    name = re.sub(r"\.weight_g$", ".parametrizations.weight.original0", name)
    return re.sub(r"\.weight_v$", ".parametrizations.weight.original1", name)


def convert_state_dict(public: dict[str, torch.Tensor], kernels: int) -> dict[str, torch.Tensor]:
    """A public generator's state dict -> a :class:`HiFiGANGenerator` state dict (weight-normed)."""
    converted = {}
    for name, tensor in public.items():
        if name.endswith(".weight") and not name.endswith("parametrizations.weight"):
            # saved with weight norm removed: direction = the weight, magnitude = its norm (dim 0 kept)
            stem = _our_name(name[: -len(".weight")], kernels)
            converted[f"{stem}.parametrizations.weight.original0"] = tensor.norm(dim=(1, 2), keepdim=True)
            converted[f"{stem}.parametrizations.weight.original1"] = tensor
        else:
            converted[_our_name(name, kernels)] = tensor
    return converted


def read_generator(path: Path) -> dict[str, torch.Tensor]:
    """The generator state dict of a public checkpoint (``{"generator": ...}`` or the state dict itself)."""
    if not path.is_file():
        raise FileNotFoundError(f"generator checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for foreign or corrupt files  # noqa: BLE001
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise HiFiGANImportError(
            f"{path} is not a checkpoint of plain tensors ({reason}); tts_gen reads no pickled objects"
        ) from None
    state = payload.get("generator", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not any(str(k).startswith("conv_pre.") for k in state):
        raise HiFiGANImportError(
            f"{path} holds no HiFi-GAN generator (expected a 'generator' state dict with conv_pre.*)"
        )
    return state


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_hifigan(
    generator_path: str | Path, config_path: str | Path, out_dir: str | Path, force: bool = False
) -> Path:
    """Writes the vocoder run ``out_dir`` (``config.yaml`` and ``checkpoints/best.pt``) from a public HiFi-GAN
    generator checkpoint and its ``config.json``; returns the run folder.

    Raises:
        HiFiGANImportError: a file of another layout, or weights that do not fit the config.
        FileExistsError: ``out_dir`` holds files and ``force`` is not set.
    """
    generator_path, config_path, out = Path(generator_path), Path(config_path), Path(out_dir)
    if not config_path.is_file():
        raise FileNotFoundError(f"config {config_path} does not exist")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} already holds files; choose another --out or give --force")
        shutil.rmtree(out)
    try:
        raw_config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HiFiGANImportError(f"{config_path} is not JSON: {error}") from None
    config = experiment_from_hifigan_config(raw_config, config_path)
    state = convert_state_dict(read_generator(generator_path), len(config.vocoder.generator.resblock_kernel_sizes))
    generator = HiFiGANGenerator(config.vocoder.generator, config.audio.n_mels)
    own = generator.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise HiFiGANImportError(f"the weights of {generator_path} do not fit {config_path} ({detail})")
    for name, tensor in state.items():
        if tensor.shape != own[name].shape:
            raise HiFiGANImportError(
                f"{name} of {generator_path} has shape {tuple(tensor.shape)} but {config_path} makes "
                f"{tuple(own[name].shape)}"
            )
    generator.load_state_dict(state)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.yaml")
    save_checkpoint(
        out / "checkpoints" / "best.pt",
        {
            "kind": "vocoder",
            "config": to_dict(config),
            "model": {f"generator.{k}": v for k, v in generator.state_dict().items()},
            "ema": None,
            "step": 0,
            "versions": versions(),
            "imported_from": {
                "generator": str(generator_path.resolve()),
                "generator_sha256": _sha256(generator_path),
                "config": str(config_path.resolve()),
            },
        },
    )
    return out
