"""Synthesis: checkpoint -> text -> waveform.

``Synthesizer.from_checkpoint(path, vocoder=None, device="cpu").tts(text, **options) -> (waveform, rate)``.
Long text is split into sentences, synthesized as one batch, vocoded, and joined with short pauses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tts_gen.data.dataset import pad_sequences
from tts_gen.data.features import MelStats
from tts_gen.experiment import ExperimentConfig, build_tts_model, config_from_checkpoint
from tts_gen.models.tts import TTSModel
from tts_gen.runs import CheckpointError, load_run_checkpoint
from tts_gen.runtime import resolve_device, synchronize
from tts_gen.text import Tokenizer, UnspeakableTextError, split_sentences
from tts_gen.validation import check_finite, check_text, finite_number
from tts_gen.vocoders import Vocoder, load_vocoder


@dataclass
class SpeechResult:
    """One synthesized text: the waveform (T,), raw log-mels (n_mels, T_i) and durations per sentence,
    and seconds spent in the acoustic model and in the vocoder."""

    waveform: torch.Tensor
    sample_rate: int
    mels: list[torch.Tensor]
    durations: list[torch.Tensor]
    acoustic_seconds: float
    vocoder_seconds: float


def load_acoustic_model(path: str | Path, device: str | torch.device = "cpu", use_ema: bool = True):
    """Rebuilds a trained acoustic model from a run folder or checkpoint file.

    Returns:
        (model in eval mode, experiment config, tokenizer, the checkpoint payload).

    Raises:
        CheckpointError: a missing or corrupt checkpoint, one of another kind, or one whose symbol table
            does not match this version of tts_gen.
    """
    payload = load_run_checkpoint(path, "acoustic")
    config: ExperimentConfig = config_from_checkpoint(payload)
    try:
        tokenizer = Tokenizer.from_state_dict(payload["symbols"])
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    model = build_tts_model(config, tokenizer.num_symbols, MelStats(**payload["mel_stats"]))
    weights = payload["ema"] if use_ema and payload.get("ema") else payload["model"]
    model.load_state_dict(weights)
    return model.to(device).eval(), config, tokenizer, payload


class Synthesizer:
    """Text -> speech with a trained acoustic model and a vocoder.

    Args:
        model: acoustic model; config: its experiment config; tokenizer: its symbol table.
        vocoder: a :class:`Vocoder` whose audio settings equal the model's.
        device: where both run.
    """

    def __init__(
        self, model: TTSModel, config: ExperimentConfig, tokenizer: Tokenizer, vocoder: Vocoder, device: torch.device
    ):
        vocoder.check_audio(config.audio)
        self.model = model
        self.config = config
        self.tokenizer = tokenizer
        self.vocoder = vocoder
        self.device = device

    @classmethod
    def from_checkpoint(cls, path: str | Path, vocoder: str | Path | None = None, device: str = "cpu") -> Synthesizer:
        """``path``: a run folder (its best checkpoint) or a checkpoint file; ``vocoder``: ``griffin-lim``
        (default) or a trained vocoder's run folder or checkpoint."""
        device = resolve_device(device)
        model, config, tokenizer, _ = load_acoustic_model(path, device)
        return cls(model, config, tokenizer, load_vocoder(vocoder, config.audio, device), device)

    @property
    def sample_rate(self) -> int:
        return self.config.audio.sample_rate

    def options(self, **values: Any) -> Any:
        """The decoder family's sampling options (``temperature``, ``steps``...); unknown names raise."""
        return self.model.decoder.options(**values)

    def tokens(self, text: str) -> list[list[int]]:
        """Token ids of each sentence of ``text``; raises ValueError if there is nothing to speak."""
        check_text(text)
        sentences = split_sentences(text) if text and text.strip() else []
        if not sentences:
            raise UnspeakableTextError(f"the text {text[:80]!r} has nothing to speak")
        return [self.tokenizer.encode(sentence) for sentence in sentences]

    @torch.no_grad()
    def speak(self, text: str, length_scale: float = 1.0, pause_seconds: float = 0.25, **options: Any) -> SpeechResult:
        """Synthesizes ``text`` (all its sentences as one batch) and vocodes each sentence.

        Raises:
            WrongTypeError: ``text`` is not a ``str``; NumberOutOfRangeError: ``length_scale`` is not a finite
            number > 0, ``pause_seconds`` not a finite number in [0, 60], or an option not finite;
            SentenceTooLongError: a sentence would be longer than the model's maximum
            (``tts_gen.models.alignment.MAX_SENTENCE_FRAMES``); NonFiniteOutputError: the model or vocoder
            produced NaN or infinite values.
        """
        check_text(text)
        finite_number(length_scale, "length_scale", minimum=0.0, above_minimum=True)
        finite_number(pause_seconds, "pause_seconds", minimum=0.0, maximum=60.0)
        decoder_options = self.options(**options)
        sentences = [torch.tensor(ids) for ids in self.tokens(text)]
        x, x_lengths = pad_sequences(sentences)
        started = time.perf_counter()
        synthesis = self.model.synthesize(x.to(self.device), x_lengths.to(self.device), decoder_options, length_scale)
        synchronize(self.device)
        acoustic_seconds = time.perf_counter() - started
        check_finite(synthesis.mel, "the acoustic model's mel")
        mels = [synthesis.mel[i, :, : int(n)] for i, n in enumerate(synthesis.lengths)]
        durations = [synthesis.durations[i, : int(n)].cpu() for i, n in enumerate(x_lengths)]
        started = time.perf_counter()
        pieces = [self.vocoder(mel.unsqueeze(0))[0].float().cpu() for mel in mels]
        vocoder_seconds = time.perf_counter() - started  # .cpu() has waited for the device
        pause = torch.zeros(int(pause_seconds * self.sample_rate))
        joined = [piece for wav in pieces for piece in (wav, pause)][:-1]
        return SpeechResult(
            waveform=check_finite(torch.cat(joined), "the vocoder's waveform").clamp(-1, 1),
            sample_rate=self.sample_rate,
            mels=[mel.cpu() for mel in mels],
            durations=durations,
            acoustic_seconds=acoustic_seconds,
            vocoder_seconds=vocoder_seconds,
        )

    def tts(self, text: str, length_scale: float = 1.0, **options: Any) -> tuple[torch.Tensor, int]:
        """Text -> (waveform (T,) float32 in [-1, 1] on the CPU, sample rate)."""
        result = self.speak(text, length_scale=length_scale, **options)
        return result.waveform, result.sample_rate
