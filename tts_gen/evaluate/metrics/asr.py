"""Intelligibility: word and character error rates of an offline recognizer against the transcript.

The recognizer is CMU PocketSphinx 5 with the US English acoustic model, language model and dictionary that
the ``pocketsphinx`` package ships (no download), fed 16 kHz 16-bit audio. Its absolute error rates are high
for natural speech; what matters is the gap between the synthesized audio and the same recognizer on the
reference recording (the ceiling reported beside it). Recognition is deterministic and, with the decoder's
feature statistics reset for every utterance, depends on the utterance alone; so sentences are recognized by one
process per CPU core at once (:meth:`Recognizer.transcribe_many`), and a transcript can be cached by the hash of the
exact audio the decoder receives (:class:`Recognizer` with ``cache``): the recipes share one cache across the
families' evaluations, so the recordings and their copy-synthesis are recognized once.

Both sides are normalized the same way before scoring: ``tts_gen.text.normalize_text`` (numbers and
abbreviations as words), lowercase, every character other than letters and apostrophes dropped. Errors are
counted by a Levenshtein alignment: substitutions, deletions (skipped words) and insertions (repeated or
babbled words); WER = (S + D + I) / reference words, CER the same over characters (spaces included).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

ASR_SAMPLE_RATE = 16000
_NOT_WORD = re.compile(r"[^a-z' ]+")


def scoring_text(text: str) -> str:
    """The form both sides are compared in: normalized, lowercase words of letters and apostrophes."""
    from tts_gen.text import normalize_text

    lowered = normalize_text(text).lower().replace("-", " ")
    words = [word.strip("'") for word in _NOT_WORD.sub(" ", lowered).split()]
    return " ".join(word for word in words if word)


@dataclass
class ErrorCounts:
    """Levenshtein alignment counts of a hypothesis against a reference of ``length`` units."""

    substitutions: int
    deletions: int
    insertions: int
    length: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Errors per reference unit (an empty reference gives the number of insertions)."""
        return self.errors / self.length if self.length else float(self.errors)


def _alignment(reference: list, hypothesis: list) -> tuple[ErrorCounts, list[list[int]]]:
    """Minimum edit alignment of two sequences: its counts, and for every cell (i, j) the move that reached it
    (0: match or substitution, 1: deletion of reference[i - 1], 2: insertion of hypothesis[j - 1]); ties prefer
    substitutions, then deletions."""
    n, m = len(reference), len(hypothesis)
    # cost[i][j]: (errors, substitutions, deletions, insertions) aligning reference[:i] with hypothesis[:j]
    cost = [[(j, 0, 0, j) for j in range(m + 1)]]
    moves = [[2] * (m + 1)]
    for i in range(1, n + 1):
        row, row_moves = [(i, 0, i, 0)], [1]
        for j in range(1, m + 1):
            diagonal = cost[i - 1][j - 1]
            same = reference[i - 1] == hypothesis[j - 1]
            options = [
                (diagonal[0] + (not same), diagonal[1] + (not same), diagonal[2], diagonal[3]),
                (cost[i - 1][j][0] + 1, cost[i - 1][j][1], cost[i - 1][j][2] + 1, cost[i - 1][j][3]),
                (row[j - 1][0] + 1, row[j - 1][1], row[j - 1][2], row[j - 1][3] + 1),
            ]
            move = min(range(3), key=lambda k: options[k][0])
            row.append(options[move])
            row_moves.append(move)
        cost.append(row)
        moves.append(row_moves)
    _, substitutions, deletions, insertions = cost[n][m]
    return ErrorCounts(substitutions, deletions, insertions, n), moves


def align_counts(reference: list, hypothesis: list) -> ErrorCounts:
    """Counts of the minimum edit alignment of two sequences; ties prefer substitutions, then deletions."""
    return _alignment(reference, hypothesis)[0]


def errors_by_reference_unit(reference: list, hypothesis: list) -> list[int]:
    """The errors of :func:`align_counts`'s alignment, unit by unit of the reference: one for a substituted or
    deleted unit, plus one for every hypothesis unit inserted just before it (after the last unit: counted on the
    last). They sum to the alignment's errors (all of them when the reference is not empty)."""
    _, moves = _alignment(reference, hypothesis)
    errors = [0] * len(reference)
    i, j = len(reference), len(hypothesis)
    while i or j:
        move = moves[i][j]
        if move == 0:
            errors[i - 1] += reference[i - 1] != hypothesis[j - 1]
            i, j = i - 1, j - 1
        elif move == 1:
            errors[i - 1] += 1
            i -= 1
        else:
            if errors:
                errors[min(i, len(errors) - 1)] += 1
            j -= 1
    return errors


EDGE_WORDS = 3
POSITIONS = ("first words", "inside", "last words")


def errors_by_position(reference: str, hypothesis: str, edge_words: int = EDGE_WORDS) -> dict[str, tuple[int, int]]:
    """Where in the sentence the words are lost: ``{position: (errors, reference words)}`` for the first
    ``edge_words`` words, the words between, and the last ``edge_words`` (see :func:`errors_by_reference_unit`);
    empty for a sentence of fewer than ``2 * edge_words + 1`` words, which has no inside."""
    words = scoring_text(reference).split()
    if len(words) < 2 * edge_words + 1:
        return {}
    errors = errors_by_reference_unit(words, scoring_text(hypothesis).split())
    parts = (errors[:edge_words], errors[edge_words:-edge_words], errors[-edge_words:])
    return {position: (sum(part), len(part)) for position, part in zip(POSITIONS, parts)}


def word_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Word-level counts of two texts, both passed through :func:`scoring_text`."""
    return align_counts(scoring_text(reference).split(), scoring_text(hypothesis).split())


def char_errors(reference: str, hypothesis: str) -> ErrorCounts:
    """Character-level counts (spaces included) of two texts, both passed through :func:`scoring_text`."""
    return align_counts(list(scoring_text(reference)), list(scoring_text(hypothesis)))


@dataclass
class AsrScores:
    """One utterance: the recognized text and its word / character error rates and counts."""

    hypothesis: str
    wer: float
    cer: float
    word_substitutions: int
    word_deletions: int
    word_insertions: int
    reference_words: int


def score_transcript(reference: str, hypothesis: str) -> AsrScores:
    words = word_errors(reference, hypothesis)
    return AsrScores(
        hypothesis=scoring_text(hypothesis),
        wer=words.rate,
        cer=char_errors(reference, hypothesis).rate,
        word_substitutions=words.substitutions,
        word_deletions=words.deletions,
        word_insertions=words.insertions,
        reference_words=words.length,
    )


def new_decoder():
    """A PocketSphinx decoder with the package's US English model."""
    try:
        from pocketsphinx import Decoder
    except ImportError as error:
        raise ImportError(
            f"the ASR metrics need pocketsphinx ({error}); install the evaluation extra: pip install -e '.[eval]'"
        ) from None
    return Decoder(loglevel="FATAL")


def decoder_input(wav: torch.Tensor | np.ndarray, sample_rate: int) -> bytes:
    """Waveform (T,) in [-1, 1] at ``sample_rate`` -> the 16 kHz 16-bit PCM the decoder reads."""
    from tts_gen.audio import resample

    wav = torch.as_tensor(np.asarray(wav, dtype=np.float32)).reshape(-1)
    wav = resample(wav, sample_rate, ASR_SAMPLE_RATE).clamp(-1, 1)
    return (wav.numpy() * 32767).astype(np.int16).tobytes()


def decode(decoder, pcm: bytes) -> str:
    """The words ``decoder`` recognizes in one utterance of 16 kHz PCM. Its feature extraction starts afresh for
    every utterance (PocketSphinx otherwise carries its cepstral mean and other feature statistics over from the
    last one, which changed 6 of 20 LJSpeech transcripts), so that a transcript depends on its audio alone."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis is not None else ""


def counted(bar: tqdm, value: str) -> str:
    """``value``, one step of the progress bar later."""
    bar.update()
    return value


_worker_decoder = None


def _decode_in_worker(pcm: bytes) -> str:
    """:func:`decode` in a pool process, with one decoder per process."""
    global _worker_decoder
    if _worker_decoder is None:
        _worker_decoder = new_decoder()
    return decode(_worker_decoder, pcm)


class Recognizer:
    """PocketSphinx with the package's US English model; :meth:`transcribe` takes any sample rate.

    Args:
        cache: a JSON-lines file of transcripts keyed by the SHA-256 of the 16 kHz PCM the decoder receives
            and by the recognizer's version (read at start, one line appended per new transcript), or None.
    """

    def __init__(self, cache: str | Path | None = None):
        self.decoder = new_decoder()
        self.version = f"pocketsphinx {importlib.metadata.version('pocketsphinx')}"
        self.cache = Path(cache) if cache else None
        self._known = {}
        if self.cache is not None:
            from tts_gen.files import read_json_lines

            self._known = {
                record["sha256"]: record["hypothesis"]
                for record in read_json_lines(self.cache)
                if record.get("recognizer") == self.version
            }

    def transcribe(self, wav: torch.Tensor | np.ndarray, sample_rate: int) -> str:
        """Waveform (T,) in [-1, 1] -> recognized words (lowercase, space separated)."""
        return self.transcribe_many([wav], sample_rate, workers=1)[0]

    def transcribe_many(
        self, wavs: list[torch.Tensor | np.ndarray], sample_rate: int, workers: int | None = None
    ) -> list[str]:
        """The transcripts of several waveforms, those not known yet decoded by ``workers`` processes at once
        (default: one per CPU core; the decoder is single-threaded and the transcripts do not depend on it)."""
        pcms = [decoder_input(wav, sample_rate) for wav in wavs]
        keys = [hashlib.sha256(pcm).hexdigest() for pcm in pcms]
        new = {key: pcm for key, pcm in zip(keys, pcms) if key not in self._known}
        for key, hypothesis in zip(new, self._decode_all(list(new.values()), workers)):
            self._remember(key, hypothesis)
        return [self._known[key] for key in keys]

    def _decode_all(self, pcms: list[bytes], workers: int | None) -> list[str]:
        workers = min(workers or len(os.sched_getaffinity(0)), len(pcms))
        with tqdm(total=len(pcms), desc="recognize", unit="utt", leave=False, disable=len(pcms) < 2) as bar:
            if workers <= 1:
                return [counted(bar, decode(self.decoder, pcm)) for pcm in pcms]
            # Forked, so that a user's script needs no main guard: the workers run only PocketSphinx (the decoder
            # holds the GIL, so threads would not help), never torch, whose threads a fork does not copy.
            context = multiprocessing.get_context(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            )
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                return [counted(bar, hypothesis) for hypothesis in pool.map(_decode_in_worker, pcms)]

    def _remember(self, key: str, hypothesis: str) -> None:
        self._known[key] = hypothesis
        if self.cache is not None:
            from tts_gen.files import append_json_line

            append_json_line(self.cache, {"sha256": key, "recognizer": self.version, "hypothesis": hypothesis})

    def score(self, wav: torch.Tensor | np.ndarray, sample_rate: int, reference: str) -> AsrScores:
        return score_transcript(reference, self.transcribe(wav, sample_rate))

    def score_many(
        self, wavs: list[torch.Tensor | np.ndarray], sample_rate: int, references: list[str]
    ) -> list[AsrScores]:
        """:meth:`score` of several waveforms, recognized in parallel (:meth:`transcribe_many`)."""
        hypotheses = self.transcribe_many(wavs, sample_rate)
        return [score_transcript(reference, hypothesis) for reference, hypothesis in zip(references, hypotheses)]
