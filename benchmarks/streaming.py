"""Time to first audio against time to the whole file, and the memory of a long text.

A 1,000-word text (the LJSpeech validation transcripts) through ``Synthesizer.stream`` (sentence by sentence, each
sentence vocoded in pieces) and through ``Synthesizer.speak`` (the whole file), with an acoustic model of
``egs/ljspeech/<family>.yaml`` and HiFi-GAN of ``egs/ljspeech/hifigan_v<N>.yaml``, both with random weights (speed
does not depend on them; the durations are LJSpeech-like, about 5.8 frames per token). With ``--memory-chars N`` it
also measures the peak resident memory of ``speak`` on an N-character text, each in a fresh process, with the
sentences in batches of at most ``--max-tokens`` padded tokens and, as before batching, all in one batch. Run by
hand:

    .venv/bin/python benchmarks/streaming.py [--family flow] [--vocoder 1] [--words 1000] [--threads 2]
    .venv/bin/python benchmarks/streaming.py --memory-chars 20000 --words 0
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import torch
from timing import load_average
from voices import random_acoustic_model, random_hifigan, validation_text

from tts_gen.runtime import cpu_name
from tts_gen.synthesize import Synthesizer
from tts_gen.vocoders import GriffinLimVocoder, HiFiGAN


def synthesizer(family: str, vocoder: int) -> Synthesizer:
    model, config, tokenizer = random_acoustic_model(family)
    if vocoder:
        generator, audio = random_hifigan(vocoder)
        voice = HiFiGAN(generator, audio)
    else:
        voice = GriffinLimVocoder(config.audio)
    return Synthesizer(model, config, tokenizer, voice.eval(), torch.device("cpu"))


def time_to_audio(speaker: Synthesizer, text: str) -> None:
    speaker.speak("A warm-up sentence.")
    started = time.perf_counter()
    first, samples = None, 0
    for chunk in speaker.stream(text):
        first = first or time.perf_counter() - started
        samples += chunk.samples.numel()
    streamed = time.perf_counter() - started
    started = time.perf_counter()
    result = speaker.speak(text)
    whole = time.perf_counter() - started
    seconds = samples / speaker.sample_rate
    assert result.waveform.numel() == samples
    print(f"{len(text.split())} words, {len(speaker.sentences(text))} sentences, {seconds:.1f} s of audio")
    print(f"stream: first audio after {first:.2f} s, last after {streamed:.1f} s")
    print(f"speak:  the whole file after {whole:.1f} s ({whole / first:.0f}x the time to first audio)")


def peak_memory(family: str, chars: int, max_tokens: int) -> None:
    """In this process: speak ``chars`` characters with Griffin-Lim, print the peak RSS in MiB."""
    speaker = synthesizer(family, 0)
    words = validation_text(chars // 5)
    text = words[: words.rfind(" ", 0, chars)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = speaker.speak(text, max_tokens=max_tokens)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    audio = result.waveform.numel() / result.sample_rate
    print(f"{len(text)} chars, {len(result.sentences)} sentences, {audio / 60:.1f} min of audio, {seconds:.0f} s: "
          f"peak RSS {peak:.0f} MiB (after loading {before:.0f} MiB)", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="flow")
    parser.add_argument("--vocoder", type=int, default=1, help="HiFi-GAN version 1, 2 or 3 (0: Griffin-Lim)")
    parser.add_argument("--words", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-chars", type=int, default=0, help="also measure the memory of a text this long")
    parser.add_argument("--max-tokens", type=int, default=3000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        peak_memory(args.family, args.memory_chars, args.max_tokens)
        return
    print(f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}, load {load_average()}")
    if args.words:
        vocoder = f"HiFi-GAN V{args.vocoder}" if args.vocoder else "Griffin-Lim"
        print(f"{args.family} (egs/ljspeech, random weights) + {vocoder}")
        time_to_audio(synthesizer(args.family, args.vocoder), validation_text(args.words))
    if args.memory_chars:
        for label, max_tokens in ((f"batches of {args.max_tokens} tokens", args.max_tokens), ("one batch", 10**9)):
            print(f"speak, {label}: ", end="", flush=True)
            subprocess.run(
                [sys.executable, __file__, "--child", "--family", args.family, "--threads", str(args.threads),
                 "--memory-chars", str(args.memory_chars), "--max-tokens", str(max_tokens)],
                check=True,
            )  # fmt: skip
    print(f"load after: {load_average()}")


if __name__ == "__main__":
    main()
