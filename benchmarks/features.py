"""Feature extraction throughput of ``tts-gen data prepare`` against a plain per-file librosa loop.

Both compute the same HiFi-GAN log-mel of the same files; throughput is seconds of audio per second of wall
time on this machine. Run by hand on a corpus in the LJSpeech layout (for example the built-in one:
``tts-gen data make-ljflite --out data/ljflite --max-utts 400``):

    .venv/bin/python benchmarks/features.py --root data/ljflite [--max-files 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from tts_gen.audio import AudioConfig
from tts_gen.data.corpus import read_metadata
from tts_gen.data.features import FeatureStore, extract_features


def librosa_loop(files: list[Path], config: AudioConfig, out_dir: Path) -> None:
    """The baseline: one file after another, librosa for loading and features, np.save."""
    import librosa

    basis = librosa.filters.mel(
        sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.f_min, fmax=config.f_max
    )
    for path in files:
        wav, _ = librosa.load(path, sr=config.sample_rate)
        padded = np.pad(wav, (config.padding, config.padding), mode="reflect")
        magnitude = np.abs(
            librosa.stft(
                padded, n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length, center=False
            )
        )
        np.save(
            out_dir / f"{path.stem}.npy", np.log(np.maximum(basis @ magnitude, config.log_clamp)).astype(np.float32)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="LJSpeech-layout corpus")
    parser.add_argument("--max-files", type=int, default=300)
    parser.add_argument("--workers", type=int, default=0, help="prepare's worker processes (0 = one per core)")
    args = parser.parse_args()
    entries = read_metadata(args.root)[: args.max_files]
    import soundfile as sf

    seconds = sum(sf.info(str(e.audio)).duration for e in entries)
    config = AudioConfig()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "librosa").mkdir()
        started = time.perf_counter()
        librosa_loop([e.audio for e in entries], config, tmp / "librosa")
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        extract_features([(e.id, str(e.audio)) for e in entries], FeatureStore(tmp / "ours", config), args.workers)
        ours = time.perf_counter() - started
        shutil.rmtree(tmp / "ours")
    print(f"{len(entries)} files, {seconds / 60:.1f} minutes of audio")
    print(f"librosa per-file loop: {seconds / baseline:8.1f} s of audio per s")
    print(f"tts-gen data prepare : {seconds / ours:8.1f} s of audio per s")
    print(f"ratio: {baseline / ours:.2f}x (goal >= 3x)")


if __name__ == "__main__":
    main()
