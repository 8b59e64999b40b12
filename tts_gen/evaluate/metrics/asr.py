"""Intelligibility: word and character error rates of an offline recognizer against the transcript.

The recognizer is CMU PocketSphinx 5 with the US English acoustic model, language model and dictionary that
the ``pocketsphinx`` package ships (no download), fed 16 kHz 16-bit audio. Its absolute error rates are high
for natural speech; what matters is the gap between the synthesized audio and the same recognizer on the
reference recording (the ceiling reported beside it). Recognition is deterministic, so a transcript can be cached
by the hash of the exact audio the decoder receives (:class:`Recognizer` with ``cache``): the recipes share one
cache across the families' evaluations, so the recordings and their copy-synthesis are recognized once.

Both sides are normalized the same way before scoring: ``tts_gen.text.normalize_text`` (numbers and
abbreviations as words), lowercase, every character other than letters and apostrophes dropped. Errors are
counted by a Levenshtein alignment: substitutions, deletions (skipped words) and insertions (repeated or
babbled words); WER = (S + D + I) / reference words, CER the same over characters (spaces included).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

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


def align_counts(reference: list, hypothesis: list) -> ErrorCounts:
    """Minimum edit alignment of two sequences; ties prefer substitutions, then deletions."""
    n, m = len(reference), len(hypothesis)
    # cost[i][j]: (errors, substitutions, deletions, insertions) aligning reference[:i] with hypothesis[:j]
    cost = [[(j, 0, 0, j) for j in range(m + 1)]]
    for i in range(1, n + 1):
        row = [(i, 0, i, 0)]
        for j in range(1, m + 1):
            diagonal = cost[i - 1][j - 1]
            same = reference[i - 1] == hypothesis[j - 1]
            options = [
                (diagonal[0] + (not same), diagonal[1] + (not same), diagonal[2], diagonal[3]),
                (cost[i - 1][j][0] + 1, cost[i - 1][j][1], cost[i - 1][j][2] + 1, cost[i - 1][j][3]),
                (row[j - 1][0] + 1, row[j - 1][1], row[j - 1][2], row[j - 1][3] + 1),
            ]
            row.append(min(options, key=lambda option: option[0]))
        cost.append(row)
    _, substitutions, deletions, insertions = cost[n][m]
    return ErrorCounts(substitutions, deletions, insertions, n)


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


class Recognizer:
    """PocketSphinx with the package's US English model; :meth:`transcribe` takes any sample rate.

    Args:
        cache: a JSON-lines file of transcripts keyed by the SHA-256 of the 16 kHz PCM the decoder receives
            and by the recognizer's version (read at start, one line appended per new transcript), or None.
    """

    def __init__(self, cache: str | Path | None = None):
        try:
            from pocketsphinx import Decoder
        except ImportError as error:
            raise ImportError(
                f"the ASR metrics need pocketsphinx ({error}); install the evaluation extra: pip install -e '.[eval]'"
            ) from None
        self.decoder = Decoder(loglevel="FATAL")
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
        from tts_gen.audio import resample

        wav = torch.as_tensor(np.asarray(wav, dtype=np.float32)).reshape(-1)
        wav = resample(wav, sample_rate, ASR_SAMPLE_RATE).clamp(-1, 1)
        pcm = (wav.numpy() * 32767).astype(np.int16).tobytes()
        key = hashlib.sha256(pcm).hexdigest()
        if key not in self._known:
            self._known[key] = self._decode(pcm)
            if self.cache is not None:
                from tts_gen.files import append_json_line

                record = {"sha256": key, "recognizer": self.version, "hypothesis": self._known[key]}
                append_json_line(self.cache, record)
        return self._known[key]

    def _decode(self, pcm: bytes) -> str:
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    def score(self, wav: torch.Tensor | np.ndarray, sample_rate: int, reference: str) -> AsrScores:
        return score_transcript(reference, self.transcribe(wav, sample_rate))
