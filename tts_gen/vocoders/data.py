"""Vocoder training data: each recording with the mel the vocoder learns to invert.

The mel is either the cached ground-truth log-mel of the prepared data folder (``FeatureStore``) or a mel
written by ``tts-gen dump-mels`` (an acoustic model's teacher-forced output, ``<id>.npy`` (n_mels, T) float32)
for fine-tuning on decoder output. Frame i covers samples [i * hop, (i + 1) * hop), so the audio is cut to
``frames * hop`` samples; where a dumped mel is shorter than the recording's (decoders that need lengths in
multiples of some number drop the last frames), the audio is cut to match.

Items are whole utterances; the random training segments are cut later, in the model's forward, with the
torch random generator of the main process (which checkpoints save), so that a resumed run is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import torch

from tts_gen.audio import AudioConfig, load_wav
from tts_gen.data.dataset import UtteranceDataset, pad_sequences
from tts_gen.data.features import FeatureStore
from tts_gen.data.manifest import Utterance, read_manifest
from tts_gen.files import load_npy


@dataclass
class VocoderBatch:
    """A padded batch of whole utterances.

    Attributes:
        ids: utterance ids, B strings.
        mel: raw log-mel (B, n_mels, T), zero-padded.
        audio: waveform (B, T * hop) in [-1, 1], zero-padded; item i has ``lengths[i] * hop`` samples.
        lengths: (B,) frames per item.
    """

    ids: list[str]
    mel: torch.Tensor
    audio: torch.Tensor
    lengths: torch.Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> VocoderBatch:
        """The batch on ``device`` (``non_blocking`` copies from pinned memory without waiting)."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return VocoderBatch(
            **{
                k: v.to(device, non_blocking=non_blocking) if isinstance(v, torch.Tensor) else v
                for k, v in moved.items()
            }
        )

    def pin_memory(self) -> VocoderBatch:
        """The batch in page-locked memory (the data loader calls it before a copy to a GPU)."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return VocoderBatch(**{k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in moved.items()})

    def __len__(self) -> int:
        return len(self.ids)


class MelSource:
    """Where the mels come from: the ground-truth feature cache or a folder of dumped mels."""

    def __init__(self, store: FeatureStore, mels_dir: str | Path | None = None):
        self.store = store
        self.mels_dir = Path(mels_dir) if mels_dir else None
        if self.mels_dir is not None and not self.mels_dir.is_dir():
            raise FileNotFoundError(f"mel folder {self.mels_dir} does not exist; write it with `tts-gen dump-mels`")

    def load(self, utt: Utterance) -> torch.Tensor:
        """The mel of ``utt``, (n_mels, frames) float32."""
        if self.mels_dir is None:
            return self.store.load(utt.id)
        path = self.mels_dir / f"{utt.id}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"no dumped mel for {utt.id} at {path}; run `tts-gen dump-mels` for this split")
        mel = torch.from_numpy(load_npy(path)).float()
        if mel.dim() != 2 or mel.shape[0] != self.store.audio.n_mels:
            raise ValueError(
                f"{path} holds a mel of shape {tuple(mel.shape)}; expected ({self.store.audio.n_mels}, frames)"
            )
        if mel.shape[1] > utt.n_frames:
            raise ValueError(
                f"{path} has {mel.shape[1]} frames but the recording only {utt.n_frames}: it was not dumped "
                "from this data folder; dump the mels again with `tts-gen dump-mels --data` on it"
            )
        return mel


class VocoderDataset(UtteranceDataset):
    """Recordings of one manifest with their mels; item: ``{"id", "mel" (n_mels, T), "audio" (T * hop,)}``.

    Args:
        utterances: manifest rows.
        mels: the mel source.
        audio: audio settings (sample rate and hop).
    """

    def __init__(self, utterances: list[Utterance], mels: MelSource, audio: AudioConfig):
        super().__init__(utterances)
        self.mels = mels
        self.audio = audio

    @classmethod
    def from_split(cls, data_dir: str | Path, split: str, mels: MelSource, audio: AudioConfig) -> VocoderDataset:
        return cls(read_manifest(Path(data_dir) / f"{split}.jsonl"), mels, audio)

    def __getitem__(self, index: int) -> dict:
        utt = self.utterances[index]
        mel = self.mels.load(utt)
        wav = load_wav(utt.audio, self.audio.sample_rate)
        samples = mel.shape[-1] * self.audio.hop_length
        if wav.numel() < samples:
            raise ValueError(
                f"{utt.audio} has {wav.numel()} samples, fewer than its {mel.shape[-1]} mel frames need; "
                "prepare the data folder again"
            )
        return {"id": utt.id, "mel": mel, "audio": wav[:samples]}


def collate_vocoder(items: list[dict]) -> VocoderBatch:
    """Pads a list of :class:`VocoderDataset` items into a :class:`VocoderBatch`."""
    mel, lengths = pad_sequences([item["mel"] for item in items])
    audio, _ = pad_sequences([item["audio"] for item in items])
    return VocoderBatch([item["id"] for item in items], mel, audio, lengths)
