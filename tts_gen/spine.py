"""The shared spine of the comparison protocol: one trained text encoder and duration predictor for every family.

A spine is a trained acoustic run (a ``prior`` run, trained first). ``tts-gen align`` computes the monotonic
alignment durations of every utterance of a prepared folder under it, once, in fp32, and stores them in the folder
under the spine's id (:meth:`tts_gen.data.prepared.PreparedData.store_durations`). Each family then trains only
its decoder on the frozen spine and the stored durations (``spine: RUN`` in its config), so that for the same text
every family of one spine gets exactly the same durations and the same condition.

The id of a spine is a hash of what the condition depends on: the encoder's weights (those synthesis uses), the
mel statistics and the symbol table. Retraining a spine changes its id; durations are never used with another one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from tts_gen.data.corpus import SPLITS
from tts_gen.data.dataset import LengthBucketSampler, TTSDataset, collate_tts
from tts_gen.data.prepared import open_prepared
from tts_gen.experiment import ExperimentConfig
from tts_gen.models.tts import TTSModel
from tts_gen.runs import resolve_checkpoint
from tts_gen.runtime import resolve_device
from tts_gen.synthesize import load_acoustic_model
from tts_gen.text import Tokenizer


def spine_id(model: TTSModel, tokenizer: Tokenizer) -> str:
    """12 hex digits of a SHA-256 over the encoder's weights, the mel statistics and the text frontend."""
    digest = hashlib.sha256()
    tensors = {f"encoder.{k}": v for k, v in model.encoder.state_dict().items()}
    tensors.update(mel_mean=model.mel_mean, mel_std=model.mel_std)
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].detach().float().cpu().contiguous().numpy().tobytes())
    digest.update("\n".join(tokenizer.symbols).encode())
    if tokenizer.config.edge_pauses:  # spines of checkpoints saved before edge pauses keep their ids
        digest.update(b"edge_pauses")
    return digest.hexdigest()[:12]


@dataclass
class Spine:
    """A trained acoustic model used as the spine: its id, checkpoint, model (eval mode), config and symbols."""

    id: str
    checkpoint: Path
    step: int
    model: TTSModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    payload: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """What a checkpoint, a durations file and a report record of the spine."""
        family = self.config.model.decoder.family
        return {"id": self.id, "checkpoint": str(self.checkpoint), "step": self.step, "family": family}


def spine_of_run(model: TTSModel, tokenizer: Tokenizer, payload: dict, checkpoint: Path) -> dict[str, Any]:
    """The spine a trained acoustic model used: the one it was trained on (shared protocol), or its own encoder
    (``own``: the spine run itself, or a run of the joint protocol)."""
    if payload.get("spine"):
        return payload["spine"]
    family = payload["config"]["model"]["decoder"]["family"]
    own = {"id": spine_id(model, tokenizer), "checkpoint": str(checkpoint), "step": payload.get("step")}
    return {**own, "family": family, "own": True}


def load_spine(path: str | Path, device: str | torch.device = "cpu") -> Spine:
    """The spine of an acoustic run folder (its best checkpoint) or checkpoint file."""
    checkpoint = resolve_checkpoint(path).resolve()
    model, config, tokenizer, payload = load_acoustic_model(checkpoint, device)
    return Spine(spine_id(model, tokenizer), checkpoint, payload["step"], model, config, tokenizer, payload)


@dataclass
class AlignReport:
    """Where the durations went and how many utterances of each split they cover."""

    path: Path
    spine: dict[str, Any]
    counts: dict[str, int]


@torch.no_grad()
def align_prepared(
    checkpoint: str | Path, data_dir: str | Path, batch_size: int = 16, device: str = "cpu"
) -> AlignReport:
    """``tts-gen align``: stores the durations of every utterance of every split of ``data_dir`` under the spine
    ``checkpoint`` (a run folder or checkpoint file)."""
    if batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {batch_size}")
    spine = load_spine(checkpoint, resolve_device(device))
    prepared = open_prepared(data_dir, spine.config.audio)
    durations, counts = {}, {}
    for split in SPLITS:
        if not (prepared.root / f"{split}.jsonl").is_file():
            continue
        dataset = TTSDataset(prepared.manifest(split), prepared.features, spine.tokenizer)
        batches = LengthBucketSampler(dataset.lengths, batch_size, shuffle=False)
        for indices in tqdm(list(batches), desc=f"align {split}", unit="batch"):
            batch = collate_tts([dataset[i] for i in indices]).to(spine.model.mel_mean.device)
            found = spine.model.align_durations(batch).cpu()
            for row, (utt_id, tokens) in enumerate(zip(batch.ids, batch.x_lengths.tolist())):
                durations[utt_id] = found[row, :tokens].tolist()
        counts[split] = len(dataset)
    path = prepared.store_durations(spine.describe(), durations)
    return AlignReport(path, spine.describe(), counts)
