"""The log-mel feature cache: one ``.npy`` per utterance, keyed by the audio settings.

The cache lives in the prepared data folder (never beside the wavs), under ``features/mel-<key>`` where
``key`` hashes the :class:`AudioConfig`, so features made with other settings never mix. Extraction runs in
parallel worker processes, shows a progress bar, skips features whose recording has not changed since they were
made (``sources.json`` records each recording's path, size and modification time, so a rerun is cheap and a
replaced recording is extracted again) and writes each file through a temporary name and a rename, so an
interrupted run never leaves a truncated feature.
Per-channel mean and standard deviation over the training split are saved as ``stats.json``.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tts_gen.audio import AudioConfig, load_wav, mel_spectrogram
from tts_gen.audio.io import AudioFileError
from tts_gen.config import config_hash
from tts_gen.files import load_npy, remove_leftovers, save_npy, write_json
from tts_gen.validation import file_in_folder


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
        """``<root>/<id>.npy``; an id that is not a plain file name is an :class:`UnsafeNameError`."""
        return file_in_folder(self.root, utt_id, ".npy")

    def load(self, utt_id: str) -> torch.Tensor:
        """The cached log-mel of ``utt_id``, (n_mels, frames) float32."""
        path = self.path(utt_id)
        if not path.is_file():
            raise FileNotFoundError(
                f"no cached features for {utt_id} at {path}; run `tts-gen data prepare` with these audio settings"
            )
        return torch.from_numpy(load_npy(path))

    def stats(self) -> MelStats:
        path = self.root / "stats.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found; run `tts-gen data prepare` to compute the mel statistics")
        return MelStats(**json.loads(path.read_text()))

    def save_stats(self, stats: MelStats) -> None:
        write_json(self.root / "stats.json", {"mean": stats.mean, "std": stats.std})

    def sources(self) -> dict[str, dict]:
        """``{id: stamp}``: the recording each cached feature was made from (see :func:`source_stamp`) and its
        ``n_samples`` and ``n_frames``; empty for a cache without the record (every feature is then made again)."""
        path = self.root / SOURCES
        return json.loads(path.read_text()) if path.is_file() else {}

    def save_sources(self, sources: dict[str, dict]) -> None:
        write_json(self.root / SOURCES, sources)


SOURCES = "sources.json"


def source_stamp(audio_path: str) -> dict:
    """What identifies a recording's contents for the cache: its path, size and modification time (ns)."""
    info = os.stat(audio_path)
    return {"audio": str(audio_path), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


@dataclass
class Extraction:
    """``lengths``: ``{id: (n_samples, n_frames)}`` of every usable recording; ``failures``: ``{id: reason}`` of
    the recordings that could not be read (missing, empty, corrupt, not finite)."""

    lengths: dict[str, tuple[int, int]]
    failures: dict[str, str]


def _extract_one(job: tuple[str, str, Path, AudioConfig, dict]) -> tuple[str, dict | None, str | None]:
    """Worker: wav -> cached log-mel. Returns (id, the source stamp with n_samples and n_frames, None) or
    (id, None, why the recording cannot be used)."""
    utt_id, audio_path, out_path, audio, stamp = job
    try:
        wav = load_wav(audio_path, audio.sample_rate)
    except AudioFileError as error:
        return utt_id, None, str(error).replace(str(audio_path), Path(audio_path).name)
    mel = mel_spectrogram(wav, audio).numpy()
    save_npy(out_path, mel)
    return utt_id, {**stamp, "n_samples": wav.numel(), "n_frames": mel.shape[-1]}, None


def _init_worker() -> None:
    torch.set_num_threads(1)


SAVE_SOURCES_EVERY = 256  # results between two writes of the record of sources (a killed run redoes at most these)


def extract_features(
    jobs: list[tuple[str, str]], store: FeatureStore, num_workers: int = 0, desc: str = "features"
) -> Extraction:
    """Extracts the log-mel of every ``(id, audio path)`` job into the store.

    A feature is reused only when the cache's record of sources says it was made from the same recording (path,
    size and modification time); a replaced or changed recording is extracted again. The record is written
    after the features it describes, so a killed run never leaves a feature that the record vouches for wrongly.

    Args:
        jobs: utterance ids with their audio files.
        store: the cache to fill.
        num_workers: worker processes (0 = one per CPU core).
    """
    store.root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(store.root)  # of an interrupted run
    sources = store.sources()
    lengths, failures, work = {}, {}, []
    for utt_id, audio_path in jobs:
        path = store.path(utt_id)
        stamp = source_stamp(audio_path)
        known = sources.get(utt_id)
        if known and all(known.get(k) == v for k, v in stamp.items()) and path.is_file():
            lengths[utt_id] = (known["n_samples"], known["n_frames"])
        else:
            sources.pop(utt_id, None)
            work.append((utt_id, audio_path, path, store.audio, stamp))
    if work:
        store.save_sources(sources)  # forget what is about to be overwritten before overwriting it
    workers = min(num_workers or os.cpu_count() or 1, max(len(work), 1))
    with contextlib.ExitStack() as stack:
        if workers == 1 or len(work) < 4:
            results = map(_extract_one, work)
        else:
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker))
            results = pool.imap_unordered(_extract_one, work, chunksize=8)
        for done, (utt_id, made, failure) in enumerate(tqdm(results, total=len(work), desc=desc, unit="utt"), 1):
            if made is None:
                failures[utt_id] = failure
                store.path(utt_id).unlink(missing_ok=True)  # a feature of an earlier recording is stale
                continue
            lengths[utt_id] = (made["n_samples"], made["n_frames"])
            sources[utt_id] = made
            if done % SAVE_SOURCES_EVERY == 0:
                store.save_sources(sources)
    store.save_sources(sources)
    return Extraction(lengths, failures)


def compute_stats(store: FeatureStore, utt_ids: list[str]) -> MelStats:
    """Per-channel mean and std of the cached log-mels of ``utt_ids`` (float64 accumulation)."""
    total = np.zeros(store.audio.n_mels)
    total_sq = np.zeros(store.audio.n_mels)
    count = 0
    for utt_id in utt_ids:
        mel = load_npy(store.path(utt_id)).astype(np.float64)  # (n_mels, frames)
        total += mel.sum(axis=1)
        total_sq += (mel**2).sum(axis=1)
        count += mel.shape[1]
    if count == 0:
        raise ValueError("cannot compute mel statistics from zero frames")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 1e-8))
    return MelStats(mean=mean.tolist(), std=std.tolist())
