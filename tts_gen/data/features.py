"""The log-mel feature cache: one ``.npy`` per utterance, keyed by the audio settings.

The cache lives in the prepared data folder (never beside the wavs), under ``features/mel-<key>`` where
``key`` hashes the :class:`AudioConfig`, so features made with other settings never mix. Extraction runs in
parallel worker processes, shows a progress bar, skips files that already exist (a rerun is cheap) and writes
each file through a temporary name and a rename, so an interrupted run never leaves a truncated feature.
Per-channel mean and standard deviation over the training split are saved as ``stats.json``.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from tts_gen.audio import AudioConfig, load_wav, mel_spectrogram
from tts_gen.config import config_hash
from tts_gen.files import remove_leftovers, save_npy, write_json


def feature_key(audio: AudioConfig) -> str:
    """Names the cache folder of a set of audio settings."""
    return f"mel-{config_hash(audio)}"


@dataclass
class MelStats:
    """Per-channel statistics of the training log-mels, each a list of n_mels floats."""

    mean: list[float]
    std: list[float]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(n_mels, 1) mean and std tensors, ready to broadcast over (B, n_mels, T)."""
        return torch.tensor(self.mean).unsqueeze(-1), torch.tensor(self.std).unsqueeze(-1)


class FeatureStore:
    """Reads and writes the cached log-mels of one set of audio settings."""

    def __init__(self, data_dir: str | Path, audio: AudioConfig):
        self.audio = audio
        self.root = Path(data_dir) / "features" / feature_key(audio)

    def path(self, utt_id: str) -> Path:
        return self.root / f"{utt_id}.npy"

    def load(self, utt_id: str) -> torch.Tensor:
        """The cached log-mel of ``utt_id``, (n_mels, frames) float32."""
        path = self.path(utt_id)
        if not path.is_file():
            raise FileNotFoundError(
                f"no cached features for {utt_id} at {path}; run `tts-gen data prepare` with these audio settings"
            )
        return torch.from_numpy(np.load(path))

    def stats(self) -> MelStats:
        path = self.root / "stats.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; run `tts-gen data prepare` to compute the mel statistics")
        return MelStats(**json.loads(path.read_text()))

    def save_stats(self, stats: MelStats) -> None:
        write_json(self.root / "stats.json", {"mean": stats.mean, "std": stats.std})


def _extract_one(job: tuple[str, str, Path, AudioConfig]) -> tuple[str, int, int]:
    """Worker: wav -> cached log-mel. Returns (id, n_samples, n_frames)."""
    utt_id, audio_path, out_path, audio = job
    if out_path.is_file():
        info = sf.info(audio_path)
        n_samples = math.ceil(info.frames * audio.sample_rate / info.samplerate)
        return utt_id, n_samples, np.load(out_path, mmap_mode="r").shape[-1]
    wav = load_wav(audio_path, audio.sample_rate)
    mel = mel_spectrogram(wav, audio).numpy()
    save_npy(out_path, mel)
    return utt_id, wav.numel(), mel.shape[-1]


def _init_worker() -> None:
    torch.set_num_threads(1)


def extract_features(
    jobs: list[tuple[str, str]], store: FeatureStore, num_workers: int = 0, desc: str = "features"
) -> dict[str, tuple[int, int]]:
    """Extracts the log-mel of every ``(id, audio path)`` job into the store.

    Args:
        jobs: utterance ids with their audio files.
        store: the cache to fill.
        num_workers: worker processes (0 = one per CPU core).

    Returns:
        ``{id: (n_samples, n_frames)}`` for every job.
    """
    store.root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(store.root)  # of an interrupted run
    work = [(utt_id, audio, store.path(utt_id), store.audio) for utt_id, audio in jobs]
    workers = num_workers or os.cpu_count() or 1
    results = {}
    if workers == 1 or len(work) < 4:
        iterator = map(_extract_one, work)
        for utt_id, n_samples, n_frames in tqdm(iterator, total=len(work), desc=desc, unit="utt"):
            results[utt_id] = (n_samples, n_frames)
        return results
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker) as pool:
        iterator = pool.imap_unordered(_extract_one, work, chunksize=8)
        for utt_id, n_samples, n_frames in tqdm(iterator, total=len(work), desc=desc, unit="utt"):
            results[utt_id] = (n_samples, n_frames)
    return results


def compute_stats(store: FeatureStore, utt_ids: list[str]) -> MelStats:
    """Per-channel mean and std of the cached log-mels of ``utt_ids`` (float64 accumulation)."""
    total = np.zeros(store.audio.n_mels)
    total_sq = np.zeros(store.audio.n_mels)
    count = 0
    for utt_id in utt_ids:
        mel = np.load(store.path(utt_id)).astype(np.float64)  # (n_mels, frames)
        total += mel.sum(axis=1)
        total_sq += (mel**2).sum(axis=1)
        count += mel.shape[1]
    if count == 0:
        raise ValueError("cannot compute mel statistics from zero frames")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 1e-8))
    return MelStats(mean=mean.tolist(), std=std.tolist())
