"""Releases: a trained model as safetensors weights plus JSON, which loading never unpickles.

``tts-gen export --format safetensors`` writes a release folder::

    release.json        kind, resolved config, symbol table, mel statistics, versions, SHA-256 of the weights
    model.safetensors   the weights (the EMA weights when the run kept them)
    vocoder/            a vocoder release of the same form, when one was exported with the model

:func:`load_weights` reads a release folder or a run folder / checkpoint file (through :mod:`tts_gen.runs`,
``torch.load(weights_only=True)``) into the same payload, so everything that loads a model loads both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from tts_gen.files import atomic_write, write_json
from tts_gen.runs import CheckpointError, load_run_checkpoint, versions

RELEASE_FORMAT = "tts_gen-release"
RELEASE_VERSION = 1
RELEASE_FILE = "release.json"
WEIGHTS_FILE = "model.safetensors"
VOCODER_FOLDER = "vocoder"
# What a release keeps of a checkpoint besides the weights (all of it plain JSON).
METADATA_KEYS = ("kind", "config", "symbols", "mel_stats", "step", "versions", "data", "spine")


def is_release(path: str | Path) -> bool:
    """Whether ``path`` is a release folder."""
    return (Path(path) / RELEASE_FILE).is_file()


def bundled_vocoder(path: str | Path) -> Path | None:
    """The vocoder release inside an acoustic release folder, if it has one."""
    folder = Path(path) / VOCODER_FOLDER
    return folder if is_release(path) and is_release(folder) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_weights(payload: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weights a release keeps: the EMA weights when the checkpoint has them, else the model's."""
    return payload.get("ema") or payload["model"]


def write_release(out_dir: str | Path, payload: dict[str, Any], weights: dict[str, torch.Tensor]) -> Path:
    """Writes ``weights`` as ``model.safetensors`` and the JSON metadata of ``payload`` (a checkpoint's) as
    ``release.json`` in ``out_dir``; returns the folder."""
    from safetensors.torch import save

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
    with atomic_write(out / WEIGHTS_FILE, "wb") as handle:
        handle.write(save(tensors, metadata={"format": RELEASE_FORMAT}))
    metadata = {key: payload[key] for key in METADATA_KEYS if key in payload}
    metadata["versions"] = {**payload.get("versions", {}), "exported_by": versions()}
    write_json(
        out / RELEASE_FILE,
        {
            "format": RELEASE_FORMAT,
            "format_version": RELEASE_VERSION,
            **metadata,
            "weights": WEIGHTS_FILE,
            "sha256": _sha256(out / WEIGHTS_FILE),
        },
    )
    return out


def read_release(path: str | Path, kind: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A release folder as a checkpoint payload (``model`` holds the weights, ``ema`` is None).

    Raises:
        CheckpointError: a missing or altered weights file, another kind of model, or a newer format.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(path)
    try:
        metadata = json.loads((folder / RELEASE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{folder / RELEASE_FILE} is unreadable: {error}") from None
    if metadata.get("format") != RELEASE_FORMAT:
        raise CheckpointError(f"{folder} is not a tts_gen release")
    if metadata.get("format_version", 0) > RELEASE_VERSION:
        raise CheckpointError(f"{folder} was written by a newer tts_gen; upgrade to read it")
    if metadata.get("kind") != kind:
        raise CheckpointError(f"{folder} holds a release of kind {metadata.get('kind')!r}, not {kind!r}")
    weights_path = folder / metadata.get("weights", WEIGHTS_FILE)
    if not weights_path.is_file():
        raise CheckpointError(f"the release {folder} lacks its weights file {weights_path.name}")
    if _sha256(weights_path) != metadata.get("sha256"):
        raise CheckpointError(f"{weights_path} does not match the checksum in {RELEASE_FILE}: the file was altered")
    try:
        weights = load_file(str(weights_path), device=str(map_location))
    except SafetensorError as error:
        raise CheckpointError(f"{weights_path} is not a readable safetensors file: {error}") from None
    return {**metadata, "model": weights, "ema": None}


def load_weights(path: str | Path, kind: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The payload of a release folder, run folder or checkpoint file of ``kind`` (``acoustic`` or ``vocoder``)."""
    if is_release(path):
        return read_release(path, kind, map_location)
    return load_run_checkpoint(path, kind, map_location)
