"""Real-time factor of mel generation for every decoder family: decoder only, and decoder + Griffin-Lim.

Each family is built at its ``egs/ljspeech`` size with random weights (speed does not depend on the weights) and
generates one mel at a time (batch 1) for each sentence of the LJSpeech validation split. A sentence's length in
frames is its character count at LJSpeech's speaking rate, 15.65 characters per second (measured on 24 real
LJSpeech clips), at 22,050 Hz and hop 256: about 574 frames (6.7 s) for the median validation sentence. The real-
time factor is seconds of compute per second of audio (below 1 is faster than real time); the table gives its
median and 90th percentile over the sentences. Run by hand:

    .venv/bin/python benchmarks/rtf.py [--families flow,gan] [--sentences 100] [--threads 2] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time
from importlib import resources
from pathlib import Path

import torch
from timing import load_average

from tts_gen.audio import AudioConfig, griffin_lim
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.registry import DECODERS
from tts_gen.runtime import synchronize

LJSPEECH_CHARACTERS_PER_SECOND = 15.65
# the options each family is timed with (the goal for the iterative families is 10 steps)
OPTIONS = {"diffusion": [{"steps": 10}, {"steps": 2}], "flow_matching": [{"steps": 10}, {"steps": 2}]}


def sentence_frames(count: int, audio: AudioConfig) -> list[int]:
    """Frame counts of the first ``count`` validation sentences at LJSpeech's speaking rate."""
    text = resources.files("tts_gen.data").joinpath("splits/ljspeech/val.txt").read_text()
    sentences = [line.split("|", 1)[1] for line in text.splitlines() if "|" in line][:count]
    frames_per_second = audio.sample_rate / audio.hop_length
    return [max(1, round(len(s) / LJSPEECH_CHARACTERS_PER_SECOND * frames_per_second)) for s in sentences]


def time_sentences(decoder, options, frames: list[int], audio: AudioConfig, device, dtype) -> tuple[list, list]:
    """Real-time factors of each sentence: (decoder only, decoder + Griffin-Lim)."""
    decoder_rtf, total_rtf = [], []
    multiple = decoder.frame_multiple
    for n in frames:
        padded = -(-n // multiple) * multiple
        cond = torch.randn(1, audio.n_mels, padded, device=device) - 5.0
        mask = torch.zeros(1, 1, padded, device=device)
        mask[..., :n] = 1.0
        seconds_of_audio = n * audio.hop_length / audio.sample_rate
        synchronize(device)
        started = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            mel = decoder.generate(cond, mask, options)[..., :n].float()
        synchronize(device)
        generated = time.perf_counter()
        griffin_lim(mel, audio)
        synchronize(device)
        finished = time.perf_counter()
        decoder_rtf.append((generated - started) / seconds_of_audio)
        total_rtf.append((finished - started) / seconds_of_audio)
    return decoder_rtf, total_rtf


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="egs/ljspeech")
    parser.add_argument("--families", default=",".join(sorted(DECODERS)))
    parser.add_argument("--sentences", type=int, default=100, help="first N validation sentences")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32", help="autocast dtype of the decoder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} threads"
    print(
        f"{where}, {args.dtype}, batch 1, {args.sentences} LJSpeech validation sentence lengths, "
        f"torch {torch.__version__}, load {load_average()}"
    )
    print(f"{'family':<26} {'params':>7} {'decoder median':>15} {'p90':>7} {'+ Griffin-Lim median':>21} {'p90':>7}")
    for family in args.families.split(","):
        config = load_experiment(Path(args.configs) / f"{family}.yaml", [])
        frames = sentence_frames(args.sentences, config.audio)
        torch.manual_seed(0)
        model = build_tts_model(config, num_symbols=200).to(device).eval()
        decoder = model.decoder
        discriminator = getattr(decoder, "discriminator", None)  # trained with the decoder, never run at synthesis
        unused = {id(p) for p in discriminator.parameters()} if discriminator is not None else set()
        parameters = sum(p.numel() for p in decoder.parameters() if id(p) not in unused) / 1e6
        for values in OPTIONS.get(family, [{}]):
            options = decoder.options(**values)
            with torch.inference_mode():
                time_sentences(decoder, options, frames[:2], config.audio, device, dtype)  # warm-up
                decoder_rtf, total_rtf = time_sentences(decoder, options, frames, config.audio, device, dtype)
            name = family + "".join(f" {k}={v}" for k, v in values.items())
            print(
                f"{name:<26} {parameters:6.2f}M {statistics.median(decoder_rtf):15.4f} {p90(decoder_rtf):7.4f} "
                f"{statistics.median(total_rtf):21.4f} {p90(total_rtf):7.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
