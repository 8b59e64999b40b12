"""onnxruntime against PyTorch on the CPU: the acoustic model of every exportable family and the HiFi-GAN vocoder.

Each family at its ``egs/ljspeech`` size with random weights (LJSpeech-like durations) is exported with
``tts-gen export`` (the run's default sampling options: 10 steps for diffusion and flow matching) and synthesizes
the first ``--sentences`` LJSpeech validation sentences one at a time (batch 1) in PyTorch
(``TTSModel.synthesize``) and in onnxruntime (the exported graph), alternately, with the same number of threads.
Real-time factor = compute seconds per second of audio (lower is faster); median over the sentences. The vocoder
(HiFi-GAN V1, ``--vocoder``) vocodes 6 s of mel in PyTorch's inference form and in onnxruntime, median of 5. Run
by hand:

    .venv/bin/python benchmarks/onnx_speed.py [--families flow,gan] [--sentences 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from timing import load_average
from voices import random_hifigan, save_random_checkpoint, save_random_vocoder, validation_text

from tts_gen.export.bundle import export_onnx
from tts_gen.export.runtime import run_acoustic, session
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runtime import cpu_name
from tts_gen.synthesize import load_acoustic_model
from tts_gen.text import split_sentences
from tts_gen.vocoders import HiFiGAN


def acoustic_rtf(family: str, folder: Path, texts: list[str], threads: int) -> tuple[float, float, float]:
    """(PyTorch median RTF, onnxruntime median RTF, seconds to export) of one family."""
    checkpoint = save_random_checkpoint(family, folder / f"{family}.pt")
    started = time.perf_counter()
    export_onnx(checkpoint, folder / family, gruut_words=False)
    exported = time.perf_counter() - started
    model, config, tokenizer, _ = load_acoustic_model(checkpoint)
    options = model.decoder.options()
    acoustic = session(folder / family / "acoustic.onnx", threads)
    frame_seconds = config.audio.hop_length / config.audio.sample_rate
    torch_rtf, onnx_rtf = [], []
    ids = [tokenizer.encode(text) for text in texts]
    temperature = getattr(options, "temperature", 0.0)
    for number, sequence in enumerate([ids[0], *ids]):  # the first is a warm-up
        x = torch.tensor([sequence])
        with torch.inference_mode():
            started = time.perf_counter()
            synthesis = model.synthesize(x, torch.tensor([len(sequence)]), options)
            torch_seconds = time.perf_counter() - started
        started = time.perf_counter()
        (mel,) = run_acoustic(acoustic, [sequence], temperature, 1.0)
        onnx_seconds = time.perf_counter() - started
        if number:
            torch_rtf.append(torch_seconds / (int(synthesis.lengths[0]) * frame_seconds))
            onnx_rtf.append(onnx_seconds / (mel.shape[-1] * frame_seconds))
    return statistics.median(torch_rtf), statistics.median(onnx_rtf), exported


def vocoder_factor(version: int, folder: Path, threads: int) -> tuple[float, float, float]:
    """(PyTorch ×real time, onnxruntime ×real time, largest difference) of HiFi-GAN on 6 s of mel."""
    checkpoint = save_random_checkpoint("prior", folder / "prior.pt")
    vocoder_checkpoint = save_random_vocoder(folder / f"hifigan_v{version}.pt", version)
    export_onnx(checkpoint, folder / "vocoder", vocoder=vocoder_checkpoint, gruut_words=False)
    generator, audio = random_hifigan(version)
    torch_vocoder = HiFiGAN(generator, audio).eval()
    onnx_vocoder = session(folder / "vocoder" / "vocoder.onnx", threads)
    frames = round(6.0 * audio.sample_rate / audio.hop_length)
    mel = torch.randn(1, audio.n_mels, frames, generator=torch.Generator().manual_seed(0)) - 5.0
    torch_seconds, onnx_seconds = [], []
    for _ in range(6):
        started = time.perf_counter()
        expected = torch_vocoder(mel)
        torch_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        (waveform,) = onnx_vocoder.run(None, {"mel": mel.numpy()})
        onnx_seconds.append(time.perf_counter() - started)
    difference = float(np.abs(waveform - expected.numpy()).max())
    return 6.0 / statistics.median(torch_seconds[1:]), 6.0 / statistics.median(onnx_seconds[1:]), difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    exportable = [name for name, entry in DECODERS.items() if not entry.decoder_class.onnx_unsupported]
    parser.add_argument("--families", default=",".join(sorted(exportable)))
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vocoder", type=int, default=1, help="HiFi-GAN version (0: none)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import onnxruntime

    print(
        f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"load {load_average()}"
    )
    texts = split_sentences(validation_text(2000))[: args.sentences]
    print(f"{'family':<14} {'PyTorch RTF':>12} {'onnxruntime RTF':>16} {'speed-up':>9} {'export s':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for family in args.families.split(","):
            torch_rtf, onnx_rtf, exported = acoustic_rtf(family, Path(folder), texts, args.threads)
            print(
                f"{family:<14} {torch_rtf:12.4f} {onnx_rtf:16.4f} {torch_rtf / onnx_rtf:8.2f}x {exported:9.1f}",
                flush=True,
            )
        if args.vocoder:
            torch_factor, onnx_factor, difference = vocoder_factor(args.vocoder, Path(folder), args.threads)
            print(
                f"HiFi-GAN V{args.vocoder}: PyTorch (inference form) {torch_factor:.2f}x real time, onnxruntime "
                f"{onnx_factor:.2f}x real time ({onnx_factor / torch_factor:.2f}x); max difference {difference:.1e}"
            )
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
