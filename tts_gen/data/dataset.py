"""Datasets, the length-bucketed batch sampler and collation with padding.

Batches are padded to their longest item; lengths travel with them and masks are built from lengths where
they are needed (``tts_gen.models.layers.masks``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterator, Mapping

import torch
from torch.utils.data import Dataset, Sampler

from tts_gen.data.features import FeatureStore
from tts_gen.data.manifest import Utterance, read_manifest
from tts_gen.text import Tokenizer


@dataclass
class TTSBatch:
    """A padded batch for the acoustic model.

    Attributes:
        ids: utterance ids, B strings.
        x: token ids (B, T_text), zero-padded.
        x_lengths: (B,) tokens per item.
        y: raw log-mel (B, n_mels, T_mel), zero-padded.
        y_lengths: (B,) frames per item.
        durations: external durations (B, T_text) in frames, or None.
        host_lengths: (x_lengths, y_lengths) kept on the host when the batch moves to a device (see
            :meth:`lengths_on_host`).
    """

    ids: list[str]
    x: torch.Tensor
    x_lengths: torch.Tensor
    y: torch.Tensor
    y_lengths: torch.Tensor
    durations: torch.Tensor | None = None
    host_lengths: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False, compare=False)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "TTSBatch":
        """The batch on ``device`` (``non_blocking`` copies from pinned memory without waiting); its lengths also
        stay on the host."""
        moved = {
            f.name: value.to(device, non_blocking=non_blocking) if isinstance(value, torch.Tensor) else value
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }
        moved["host_lengths"] = self.lengths_on_host()
        return TTSBatch(**moved)

    def lengths_on_host(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_lengths, y_lengths) on the host, where reading them does not wait for a device: the copies kept
        when the batch moved to its device, or the lengths themselves."""
        if self.host_lengths is not None:
            return self.host_lengths
        return self.x_lengths.cpu(), self.y_lengths.cpu()

    def pin_memory(self) -> "TTSBatch":
        """The batch in page-locked memory (the data loader calls it before a copy to a GPU)."""
        pinned = {f.name: getattr(self, f.name) for f in fields(self)}
        pinned.update({k: v.pin_memory() for k, v in pinned.items() if isinstance(v, torch.Tensor)})
        pinned["host_lengths"] = (self.x_lengths, self.y_lengths)
        return TTSBatch(**pinned)

    def __len__(self) -> int:
        return len(self.ids)


def pad_sequences(items: list[torch.Tensor], dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """Stacks tensors that differ only in their last dimension, zero-padding it.

    Returns:
        the padded batch (B, ..., T_max) and the lengths (B,) as int64.
    """
    lengths = torch.tensor([item.shape[dim] for item in items], dtype=torch.long)
    shape = (len(items),) + tuple(items[0].shape[:-1]) + (int(lengths.max()),)
    batch = items[0].new_zeros(shape)
    for i, item in enumerate(items):
        batch[i, ..., : item.shape[-1]] = item
    return batch, lengths


class UtteranceDataset(Dataset):
    """Base of the datasets of one manifest: its rows, their count and their mel lengths (for the sampler)."""

    def __init__(self, utterances: list[Utterance]):
        if not utterances:
            raise ValueError("the dataset has no utterances")
        self.utterances = utterances

    @property
    def lengths(self) -> list[int]:
        """Mel frames per utterance (of the recording), for the length-bucketed sampler."""
        return [utt.n_frames for utt in self.utterances]

    def __len__(self) -> int:
        return len(self.utterances)


class TTSDataset(UtteranceDataset):
    """Token ids and cached log-mels of one manifest.

    Args:
        utterances: manifest rows.
        features: the feature cache of the model's audio settings.
        tokenizer: turns a row's phonemes (or normalized text in character mode) into token ids.
        durations: frames per token of each utterance by id (the manifest's external durations, or durations
            stored under a spine), returned with each item; every utterance must have them. None = no durations.
    """

    def __init__(
        self,
        utterances: list[Utterance],
        features: FeatureStore,
        tokenizer: Tokenizer,
        durations: Mapping[str, list[int]] | None = None,
    ):
        super().__init__(utterances)
        self.features = features
        self.tokens = [tokens_of(utt, tokenizer) for utt in utterances]
        for utt, tokens in zip(utterances, self.tokens):
            if utt.n_frames < len(tokens):
                raise ValueError(
                    f"utterance {utt.id} has {utt.n_frames} mel frames for {len(tokens)} tokens, too few to align; "
                    "prepare the data again (tts-gen data prepare --skip-bad leaves such rows out)"
                )
        self.durations = durations
        if durations is not None:
            for utt, tokens in zip(utterances, self.tokens):
                check_durations(utt, durations.get(utt.id), len(tokens))

    @classmethod
    def from_split(
        cls,
        data_dir: str | Path,
        split: str,
        features: FeatureStore,
        tokenizer: Tokenizer,
        durations: Mapping[str, list[int]] | None = None,
    ) -> TTSDataset:
        return cls(read_manifest(Path(data_dir) / f"{split}.jsonl"), features, tokenizer, durations)

    def __getitem__(self, index: int) -> dict:
        utt = self.utterances[index]
        item = {"id": utt.id, "tokens": torch.tensor(self.tokens[index]), "mel": self.features.load(utt.id)}
        if self.durations is not None:
            item["durations"] = torch.tensor(self.durations[utt.id])
        return item


def tokens_of(utt: Utterance, tokenizer: Tokenizer) -> list[int]:
    """Token ids of a manifest row in the tokenizer's mode."""
    if tokenizer.config.mode == "phonemes":
        return tokenizer.units_to_ids(tokenizer.model_units(utt.phonemes))
    return tokenizer.encode(utt.normalized)


def manifest_durations(utterances: list[Utterance], tokenizer: Tokenizer) -> dict[str, list[int]]:
    """The external durations of manifest rows by id (``data prepare --durations``, one per phoneme), with no
    frames for the tokenizer's edge pauses; a row without durations is an error."""
    missing = [utt.id for utt in utterances if utt.durations is None]
    if missing:
        raise ValueError(f"{missing[0]}: the aligner is 'external' but the manifest has no durations for it")
    edge = [0] if tokenizer.config.edge_pauses else []
    return {utt.id: [*edge, *utt.durations, *edge] for utt in utterances}


def check_durations(utt: Utterance, durations: list[int] | None, num_tokens: int) -> None:
    """Durations must give one non-negative count per token and sum to the utterance's mel length."""
    if durations is None:
        raise ValueError(f"{utt.id}: no durations for this utterance (external or stored ones)")
    if len(durations) != num_tokens:
        raise ValueError(f"{utt.id}: {len(durations)} durations for {num_tokens} tokens")
    if min(durations) < 0 or sum(durations) != utt.n_frames:
        raise ValueError(f"{utt.id}: durations must be >= 0 and sum to the {utt.n_frames} mel frames")


def collate_tts(items: list[dict]) -> TTSBatch:
    """Pads a list of :class:`TTSDataset` items into a :class:`TTSBatch`."""
    x, x_lengths = pad_sequences([item["tokens"] for item in items])
    y, y_lengths = pad_sequences([item["mel"] for item in items])
    durations = pad_sequences([item["durations"] for item in items])[0] if "durations" in items[0] else None
    return TTSBatch([item["id"] for item in items], x, x_lengths, y, y_lengths, durations)


class LengthBucketSampler(Sampler[list[int]]):
    """Batches of similar lengths, bounded in count and in padded frames; deterministic per seed and epoch.

    Each epoch the indices are shuffled with ``seed + epoch``, cut into buckets of ``bucket_batches`` batches'
    worth, sorted by length inside each bucket and cut into batches of at most ``batch_size`` items whose
    padded size (items x longest) stays within ``max_frames`` (0 = no bound); the batch order is then
    shuffled. Under distributed training every rank computes the same batches and takes every
    ``num_replicas``-th one, so the ranks see disjoint data and the same number of steps.

    ``start_batch`` skips the first batches of the current epoch (exact resume).
    """

    def __init__(
        self,
        lengths: list[int],
        batch_size: int,
        max_frames: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        bucket_batches: int = 32,
        drop_last: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_frames and max(lengths) > max_frames:
            raise ValueError(f"an utterance of {max(lengths)} frames exceeds max_frames={max_frames}")
        self.lengths = lengths
        self.batch_size = batch_size
        self.max_frames = max_frames
        self.shuffle = shuffle
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.bucket_batches = bucket_batches
        self.drop_last = drop_last
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch = epoch
        self.start_batch = start_batch

    def all_batches(self, epoch: int) -> list[list[int]]:
        """Every batch of ``epoch``, over all ranks."""
        rng = random.Random(self.seed + epoch)
        order = list(range(len(self.lengths)))
        if self.shuffle:
            rng.shuffle(order)
        bucket = self.batch_size * self.bucket_batches
        batches: list[list[int]] = []
        for start in range(0, len(order), bucket):
            chunk = sorted(order[start : start + bucket], key=lambda i: self.lengths[i])
            batches.extend(self._cut(chunk))
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size] or batches
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def _cut(self, sorted_indices: list[int]) -> list[list[int]]:
        batches, current = [], []
        for index in sorted_indices:
            longest = self.lengths[index]  # ascending order: the newest item is the longest
            too_many = len(current) == self.batch_size
            too_large = self.max_frames and longest * (len(current) + 1) > self.max_frames
            if current and (too_many or too_large):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
        return batches

    def rank_batches(self, epoch: int) -> list[list[int]]:
        batches = self.all_batches(epoch)
        per_rank = len(batches) // self.num_replicas if self.num_replicas > 1 else len(batches)
        return batches[self.rank :: self.num_replicas][:per_rank]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.rank_batches(self.epoch)[self.start_batch :]

    def __len__(self) -> int:
        return max(0, len(self.rank_batches(self.epoch)) - self.start_batch)
