"""``tts-gen dump-mels``: an acoustic model's teacher-forced mels, for fine-tuning the vocoder on them.

Each utterance of the chosen splits goes through ``TTSModel.teacher_forced``: the decoder generates the mel
with the aligner's durations, so the mel is frame-aligned with the recording (frame i covers samples
[i * hop, (i + 1) * hop)). HiFi-GAN (Kong et al., 2020) fine-tunes on Tacotron 2's teacher-forced mels the
same way. The folder gets ``<id>.npy`` (n_mels, T) float32 raw log-mels and ``dump.json`` (audio settings,
checkpoint, counts), which vocoder training checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from tts_gen.config import to_dict
from tts_gen.data.dataset import LengthBucketSampler, TTSDataset, collate_tts, manifest_durations
from tts_gen.data.prepared import open_prepared
from tts_gen.files import save_npy, write_json
from tts_gen.runtime import resolve_device
from tts_gen.synthesize import load_acoustic_model


@dataclass
class DumpReport:
    """Where the mels went and how many of each split."""

    out_dir: Path
    counts: dict[str, int]


def dump_mels(
    checkpoint: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    splits: list[str] | tuple[str, ...] = ("train", "val"),
    device: str = "cpu",
    batch_size: int = 16,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> DumpReport:
    """Writes the teacher-forced mel of every utterance of ``splits`` of ``data_dir`` into ``out_dir``.

    Args:
        checkpoint: acoustic model run folder (its best checkpoint) or checkpoint file.
        data_dir: the prepared data folder (with the audio settings of the model).
        out_dir: folder for ``<id>.npy`` and ``dump.json``.
        splits: manifest splits to dump.
        device: where the model runs.
        batch_size: utterances per batch.
        seed: seeds the sampling noise of each batch (families that sample).
        options: the decoder family's sampling options (``temperature``, ``steps``...).
    """
    device = resolve_device(device)
    model, config, tokenizer, _ = load_acoustic_model(checkpoint, device)
    decoder_options = model.decoder.options(**(options or {}))
    out_dir = Path(out_dir)
    prepared = open_prepared(data_dir, config.audio)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in splits:
        utterances = prepared.manifest(split)
        durations = manifest_durations(utterances, tokenizer) if config.model.aligner.kind == "external" else None
        dataset = TTSDataset(utterances, prepared.features, tokenizer, durations)
        sampler = LengthBucketSampler(dataset.lengths, batch_size, shuffle=False)
        for indices in tqdm(list(sampler), desc=f"dump {split}", unit="batch"):
            batch = collate_tts([dataset[i] for i in indices]).to(device)
            torch.manual_seed(seed)
            synthesis = model.teacher_forced(batch, decoder_options)
            for index, utt_id in enumerate(batch.ids):
                mel = synthesis.mel[index, :, : int(synthesis.lengths[index])]
                save_npy(out_dir / f"{utt_id}.npy", mel.float().cpu().numpy())
        counts[split] = len(dataset)
    info = {"audio": to_dict(config.audio), "checkpoint": str(Path(checkpoint).resolve()), "counts": counts}
    info_path = out_dir / "dump.json"
    if info_path.is_file():  # another split of the same model dumped before: keep its count
        earlier = json.loads(info_path.read_text())
        if earlier.get("checkpoint") == info["checkpoint"] and earlier.get("audio") == info["audio"]:
            info["counts"] = {**earlier.get("counts", {}), **counts}
    write_json(info_path, info)
    return DumpReport(out_dir=out_dir, counts=counts)
