"""Synthesis: checkpoint -> text -> waveform.

``Synthesizer.from_checkpoint(path, vocoder=None, device="cpu").tts(text, **options) -> (waveform, rate)``.

A text is split into sentences (long ones into pieces of at most 300 characters), and the sentences go through
the acoustic model in batches of at most ``max_tokens`` padded tokens, so that memory does not grow with the
length of the text: :meth:`Synthesizer.speak_many` groups sentences of similar length across many texts (length
bucketing), :meth:`Synthesizer.stream` keeps the order of the text and yields audio sentence by sentence, and
within a sentence in exact vocoder pieces, so that the first audio comes long before the text is done. Sentences
are joined with ``sentence_silence`` seconds of silence.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from tts_gen.data.dataset import pad_sequences
from tts_gen.data.features import MelStats
from tts_gen.experiment import ExperimentConfig, build_tts_model, config_from_checkpoint
from tts_gen.models.tts import TTSModel
from tts_gen.releases import bundled_vocoder, load_weights
from tts_gen.runs import CheckpointError
from tts_gen.runtime import resolve_device, synchronize
from tts_gen.text import Tokenizer, UnspeakableTextError, split_sentences
from tts_gen.text.pronunciations import Pronunciations, read_pronunciations
from tts_gen.text.sentences import MAX_BATCH_TOKENS as MAX_TOKENS
from tts_gen.text.sentences import SENTENCE_SILENCE, sentence_batches
from tts_gen.text.symbols import WORD_BOUNDARY
from tts_gen.text.tokenizer import Encoding
from tts_gen.validation import check_finite, check_text, finite_number
from tts_gen.vocoders import Vocoder, load_vocoder

STREAM_CHUNK_FRAMES = 64  # mel frames per streamed vocoder piece (0.74 s at the default audio settings)


@dataclass
class Sentence:
    """One piece of a text as the model reads it."""

    text: str
    encoding: Encoding


@dataclass
class SpeechResult:
    """One synthesized text: the waveform (T,), and per sentence its raw log-mel (n_mels, T_i), its durations
    (frames per token), its text and encoding and the sample at which it starts; seconds spent in the acoustic
    model and in the vocoder."""

    waveform: torch.Tensor
    sample_rate: int
    mels: list[torch.Tensor]
    durations: list[torch.Tensor]
    acoustic_seconds: float
    vocoder_seconds: float
    sentences: list[Sentence] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    hop_length: int = 256

    def alignments(self) -> dict[str, Any]:
        """Start and end (seconds) of every sentence, word and phoneme, from the predicted durations: see
        :func:`speech_alignments`."""
        return speech_alignments(self.sentences, self.durations, self.offsets, self.hop_length, self.sample_rate)


@dataclass
class AudioChunk:
    """A piece of a text's waveform, in order: samples (T,) float32 in [-1, 1] on the CPU, the sentence it
    belongs to, and whether it is silence between sentences."""

    samples: torch.Tensor
    sentence: int
    silence: bool = False


def speech_alignments(
    sentences: list[Sentence], durations: list[torch.Tensor], offsets: list[int], hop_length: int, sample_rate: int
) -> dict[str, Any]:
    """Timings of a synthesized text: for every sentence, word and unit (phoneme or character, pause marks
    included, word boundaries left out) its start and end in seconds, from the durations (frames per token).

    Args:
        sentences: the sentences; durations: (T_text,) frames per token of each; offsets: sample at which each
            sentence starts in the waveform; hop_length: samples per frame.
    """
    seconds_per_frame = hop_length / sample_rate
    timeline: dict[str, Any] = {"sentences": [], "words": [], "phonemes": []}
    for index, (sentence, frames, offset) in enumerate(zip(sentences, durations, offsets)):
        start = offset / sample_rate
        ends = [start + float(end) * seconds_per_frame for end in frames.cumsum(0).tolist()]
        starts = [start, *ends[:-1]]
        timeline["sentences"].append({"text": sentence.text, "start": round(start, 4), "end": round(ends[-1], 4)})
        for unit, begin, end in zip(sentence.encoding.units, starts, ends):
            if unit != WORD_BOUNDARY:
                timeline["phonemes"].append(
                    {"phoneme": unit, "start": round(begin, 4), "end": round(end, 4), "sentence": index}
                )
        for word in sentence.encoding.words:
            timeline["words"].append(
                {
                    "word": word.text,
                    "start": round(starts[word.start], 4),
                    "end": round(ends[word.end - 1], 4),
                    "sentence": index,
                }
            )
    return timeline


def load_acoustic_model(path: str | Path, device: str | torch.device = "cpu", use_ema: bool = True):
    """Rebuilds a trained acoustic model from a run folder, checkpoint file or release folder.

    Returns:
        (model in eval mode, experiment config, tokenizer, the checkpoint payload).

    Raises:
        CheckpointError: a missing or corrupt checkpoint, one of another kind, or one whose symbol table
            does not match this version of tts_gen.
    """
    payload = load_weights(path, "acoustic")
    config: ExperimentConfig = config_from_checkpoint(payload)
    try:
        tokenizer = Tokenizer.from_state_dict(payload["symbols"])
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from None
    model = build_tts_model(config, tokenizer.num_symbols, MelStats(**payload["mel_stats"]))
    weights = payload["ema"] if use_ema and payload.get("ema") else payload["model"]
    model.load_state_dict(weights)
    return model.to(device).eval(), config, tokenizer, payload


def check_speech_numbers(length_scale: float, sentence_silence: float) -> None:
    """Raises NumberOutOfRangeError unless ``length_scale`` is a finite number > 0 and ``sentence_silence`` a
    finite number of seconds in [0, 60]."""
    finite_number(length_scale, "length_scale", minimum=0.0, above_minimum=True)
    finite_number(sentence_silence, "sentence_silence", minimum=0.0, maximum=60.0)


class Synthesizer:
    """Text -> speech with a trained acoustic model and a vocoder.

    Args:
        model: acoustic model; config: its experiment config; tokenizer: its symbol table (with the user's
            pronunciations, if any).
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
    def from_checkpoint(
        cls,
        path: str | Path,
        vocoder: str | Path | None = None,
        device: str = "cpu",
        lexicon: str | Path | None = None,
    ) -> Synthesizer:
        """``path``: a run folder (its best checkpoint), a checkpoint file or a release folder; ``vocoder``:
        ``griffin-lim`` or a trained vocoder's run folder, checkpoint or release (default: the release's own
        vocoder, else Griffin-Lim); ``lexicon``: a pronunciation lexicon file (word -> phonemes)."""
        device = resolve_device(device)
        model, config, tokenizer, _ = load_acoustic_model(path, device)
        if lexicon is not None:
            tokenizer = Tokenizer(tokenizer.config, read_pronunciations(lexicon, tokenizer.table))
        if vocoder is None:
            vocoder = bundled_vocoder(path)
        return cls(model, config, tokenizer, load_vocoder(vocoder, config.audio, device), device)

    def with_pronunciations(self, pronunciations: Pronunciations | None) -> Synthesizer:
        """The same model and vocoder with another user lexicon."""
        return Synthesizer(
            self.model, self.config, Tokenizer(self.tokenizer.config, pronunciations), self.vocoder, self.device
        )

    @property
    def sample_rate(self) -> int:
        return self.config.audio.sample_rate

    @property
    def hop_length(self) -> int:
        return self.config.audio.hop_length

    def options(self, **values: Any) -> Any:
        """The decoder family's sampling options (``temperature``, ``steps``...); unknown names raise."""
        return self.model.decoder.options(**values)

    def sentences(self, text: str) -> list[Sentence]:
        """The sentences of ``text`` as the model reads them; raises ValueError if there is nothing to speak or
        an inline phoneme is not in the model's symbol table."""
        check_text(text)
        pieces = split_sentences(text) if text.strip() else []
        if not pieces:
            raise UnspeakableTextError(f"the text {text[:80]!r} has nothing to speak")
        return [Sentence(piece, self.tokenizer.analyze(piece)) for piece in pieces]

    def tokens(self, text: str) -> list[list[int]]:
        """Token ids of each sentence of ``text``; raises ValueError if there is nothing to speak."""
        return [sentence.encoding.ids for sentence in self.sentences(text)]

    # ------------------------------------------------------------------------------------------ acoustic model

    @torch.no_grad()
    def _acoustic(
        self, sentences: list[Sentence], options: Any, length_scale: float
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """One batch through the acoustic model: raw log-mels (n_mels, T_i) on the device and durations (T_text,)
        on the CPU, in the order of ``sentences``."""
        x, x_lengths = pad_sequences([torch.tensor(s.encoding.ids) for s in sentences])
        synthesis = self.model.synthesize(x.to(self.device), x_lengths.to(self.device), options, length_scale)
        check_finite(synthesis.mel, "the acoustic model's mel")
        mels = [synthesis.mel[i, :, : int(n)] for i, n in enumerate(synthesis.lengths)]
        durations = [synthesis.durations[i, : int(n)].cpu() for i, n in enumerate(x_lengths)]
        return mels, durations

    # ------------------------------------------------------------------------------------------ whole texts

    @torch.no_grad()
    def speak_many(
        self,
        texts: Iterable[str],
        length_scale: float = 1.0,
        sentence_silence: float = SENTENCE_SILENCE,
        max_tokens: int = MAX_TOKENS,
        **options: Any,
    ) -> Iterator[SpeechResult]:
        """Synthesizes each text, in order; the sentences of consecutive texts (up to about four batches' worth)
        are pooled and batched by length, so that a file of many short lines runs in full batches.

        Args:
            texts: the texts (each is split into sentences).
            length_scale: > 1 speaks slower, < 1 faster.
            sentence_silence: seconds of silence between sentences.
            max_tokens: the most padded tokens per acoustic batch.
            options: the family's sampling options (values or their text).

        The ``acoustic_seconds`` of a result is its share (by tokens) of its batches' time.
        """
        decoder_options = self.options(**options)
        check_speech_numbers(length_scale, sentence_silence)
        window: list[list[Sentence]] = []
        for text in texts:
            window.append(self.sentences(text))
            if sum(len(s.encoding.ids) for group in window for s in group) >= 4 * max_tokens:
                yield from self._speak_window(window, decoder_options, length_scale, sentence_silence, max_tokens)
                window = []
        if window:
            yield from self._speak_window(window, decoder_options, length_scale, sentence_silence, max_tokens)

    def _speak_window(
        self, texts: list[list[Sentence]], options: Any, length_scale: float, silence: float, max_tokens: int
    ) -> Iterator[SpeechResult]:
        pooled = [sentence for sentences in texts for sentence in sentences]
        mels: list[torch.Tensor | None] = [None] * len(pooled)
        durations: list[torch.Tensor | None] = [None] * len(pooled)
        acoustic_seconds = 0.0
        for batch in sentence_batches([len(s.encoding.ids) for s in pooled], max_tokens):
            started = time.perf_counter()
            batch_mels, batch_durations = self._acoustic([pooled[i] for i in batch], options, length_scale)
            synchronize(self.device)
            acoustic_seconds += time.perf_counter() - started
            for i, mel, frames in zip(batch, batch_mels, batch_durations):
                mels[i], durations[i] = mel, frames
        total_tokens = max(1, sum(len(s.encoding.ids) for s in pooled))
        first = 0
        for sentences in texts:
            count = len(sentences)
            share = sum(len(s.encoding.ids) for s in sentences) / total_tokens
            yield self._join(
                sentences,
                mels[first : first + count],
                durations[first : first + count],
                silence,
                acoustic_seconds * share,
            )
            first += count

    def _join(
        self,
        sentences: list[Sentence],
        mels: list[torch.Tensor],
        durations: list[torch.Tensor],
        silence: float,
        acoustic_seconds: float,
    ) -> SpeechResult:
        started = time.perf_counter()
        pieces = [self.vocoder(mel.unsqueeze(0))[0].float().cpu() for mel in mels]
        vocoder_seconds = time.perf_counter() - started  # .cpu() has waited for the device
        gap = torch.zeros(round(silence * self.sample_rate))
        joined, offsets, position = [], [], 0
        for index, piece in enumerate(pieces):
            if index:
                joined.append(gap)
                position += gap.numel()
            offsets.append(position)
            joined.append(piece)
            position += piece.numel()
        return SpeechResult(
            waveform=check_finite(torch.cat(joined), "the vocoder's waveform").clamp(-1, 1),
            sample_rate=self.sample_rate,
            mels=[mel.cpu() for mel in mels],
            durations=durations,
            acoustic_seconds=acoustic_seconds,
            vocoder_seconds=vocoder_seconds,
            sentences=sentences,
            offsets=offsets,
            hop_length=self.hop_length,
        )

    def speak(
        self,
        text: str,
        length_scale: float = 1.0,
        sentence_silence: float = SENTENCE_SILENCE,
        max_tokens: int = MAX_TOKENS,
        **options: Any,
    ) -> SpeechResult:
        """Synthesizes ``text``: its sentences in batches of at most ``max_tokens`` padded tokens.

        Raises:
            WrongTypeError: ``text`` is not a ``str``; UnspeakableTextError: nothing to speak;
            NumberOutOfRangeError: ``length_scale`` is not a finite number > 0, ``sentence_silence`` not a finite
            number in [0, 60], or an option not finite; SentenceTooLongError: a sentence would be longer than the
            model's maximum (``tts_gen.models.alignment.MAX_SENTENCE_FRAMES``); NonFiniteOutputError: the model or
            vocoder produced NaN or infinite values.
        """
        return next(self.speak_many([text], length_scale, sentence_silence, max_tokens, **options))

    def tts(self, text: str, length_scale: float = 1.0, **options: Any) -> tuple[torch.Tensor, int]:
        """Text -> (waveform (T,) float32 in [-1, 1] on the CPU, sample rate)."""
        result = self.speak(text, length_scale=length_scale, **options)
        return result.waveform, result.sample_rate

    # ------------------------------------------------------------------------------------------ streaming

    def stream(
        self,
        text: str,
        length_scale: float = 1.0,
        sentence_silence: float = SENTENCE_SILENCE,
        max_tokens: int = MAX_TOKENS,
        chunk_frames: int = STREAM_CHUNK_FRAMES,
        **options: Any,
    ) -> Iterator[AudioChunk]:
        """The waveform of ``text`` in order, each piece as soon as it is ready: the first sentence goes through
        the acoustic model alone, later ones in batches of consecutive sentences; each sentence is vocoded in
        exact pieces of ``chunk_frames`` frames (one piece with Griffin-Lim). The pieces joined equal the
        waveform of :meth:`speak` for the same mels. Errors in the request (nothing to speak, an unknown option,
        an inline phoneme the model lacks) are raised by this call, before any audio."""
        decoder_options = self.options(**options)
        check_speech_numbers(length_scale, sentence_silence)
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        sentences = self.sentences(text)
        lengths = [len(s.encoding.ids) for s in sentences]
        rest = sentence_batches(lengths[1:], max_tokens, in_order=True)
        batches = [[0], *([i + 1 for i in batch] for batch in rest)]
        return self._stream(sentences, batches, decoder_options, length_scale, sentence_silence, chunk_frames)

    @torch.no_grad()
    def _stream(
        self,
        sentences: list[Sentence],
        batches: list[list[int]],
        options: Any,
        length_scale: float,
        sentence_silence: float,
        chunk_frames: int,
    ) -> Iterator[AudioChunk]:
        gap = torch.zeros(round(sentence_silence * self.sample_rate))
        for batch in batches:
            mels, _ = self._acoustic([sentences[i] for i in batch], options, length_scale)
            for index, mel in zip(batch, mels):
                if index and gap.numel():
                    yield AudioChunk(gap, index, silence=True)
                for piece in self.vocoder.pieces(mel.unsqueeze(0), chunk_frames):
                    yield AudioChunk(piece.float().cpu().clamp(-1, 1), index)
