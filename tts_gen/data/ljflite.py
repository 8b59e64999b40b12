"""The built-in corpus ``ljflite``: the LJSpeech transcripts read by the offline flite voice ``slt``.

It is written in the LJSpeech layout at 22,050 Hz with the LJSpeech ids, so the standard split applies. It lets
every recipe, test and benchmark run end to end on a machine without LJSpeech; it is a stand-in for the real
recordings, not a replacement, and reports name the corpus they used.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

from tqdm import tqdm

from tts_gen.audio import load_wav, save_wav
from tts_gen.data.corpus import SPLITS, standard_split_texts
from tts_gen.errors import MissingProgramError
from tts_gen.files import write_text

FLITE_VOICE = "slt"
SAMPLE_RATE = 22050


def require_flite() -> str:
    """Path of the flite binary, or a RuntimeError saying how to install it."""
    path = shutil.which("flite")
    if path is None:
        raise MissingProgramError("the built-in corpus needs the `flite` program: install it with `apt-get install flite`")
    return path


def choose_utterances(max_utts: int | None, seed: int = 1234) -> dict[str, dict[str, str]]:
    """``{split: {id: transcript}}`` of the whole corpus, or of a seeded subset of ``max_utts`` utterances.

    A subset keeps every split non-empty: val gets max(2, N * 100 / 13100) utterances, test
    max(4, N * 500 / 13100), and train the rest.
    """
    texts = {split: standard_split_texts(split) for split in SPLITS}
    if max_utts is None:
        return texts
    if max_utts < 8:
        raise ValueError(f"--max-utts must be at least 8 so that every split has utterances, got {max_utts}")
    counts = {"val": max(2, round(max_utts * 100 / 13100)), "test": max(4, round(max_utts * 500 / 13100))}
    counts["train"] = max_utts - counts["val"] - counts["test"]
    rng = random.Random(seed)
    chosen = {}
    for split in SPLITS:
        ids = sorted(texts[split])
        rng.shuffle(ids)
        chosen[split] = {utt_id: texts[split][utt_id] for utt_id in sorted(ids[: counts[split]])}
    return chosen


def _speak(job: tuple[str, str, Path]) -> str:
    """Worker: reads one transcript with flite and writes ``wavs/<id>.wav`` at 22,050 Hz."""
    utt_id, text, wav_dir = job
    target = wav_dir / f"{utt_id}.wav"
    if target.is_file():
        return utt_id
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["flite", "-voice", FLITE_VOICE, "-t", text, "-o", str(raw)], check=True, capture_output=True
        )
        save_wav(target, load_wav(raw, SAMPLE_RATE), SAMPLE_RATE)
    return utt_id


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def make_ljflite(out_dir: str | Path, max_utts: int | None = None, num_workers: int = 0) -> Path:
    """Writes the built-in corpus to ``out_dir`` (``metadata.csv`` + ``wavs/``); resumable.

    Utterances whose wav already exists are skipped, every wav is written atomically, and ``metadata.csv``
    is written last, so an interrupted run is finished by running it again.
    """
    require_flite()
    out_dir = Path(out_dir)
    wav_dir = out_dir / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    chosen = choose_utterances(max_utts)
    rows = sorted((utt_id, text) for split in SPLITS for utt_id, text in chosen[split].items())
    jobs = [(utt_id, text, wav_dir) for utt_id, text in rows]
    workers = num_workers or os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker) as pool:
        for _ in tqdm(pool.imap_unordered(_speak, jobs, chunksize=4), total=len(jobs), desc="ljflite", unit="utt"):
            pass
    write_text(out_dir / "metadata.csv", "".join(f"{utt_id}|{text}|{text}\n" for utt_id, text in rows))
    return out_dir
