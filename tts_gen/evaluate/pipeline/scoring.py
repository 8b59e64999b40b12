"""The scoring phase of ``tts-gen evaluate``: every metric of every synthesized row, plus the recordings.

Metric models (the recognizer, DNSMOS) are loaded only when a row needs them; WORLD features of each
recording are computed once and reused by every condition that is compared with it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from tts_gen.audio import load_wav
from tts_gen.evaluate.metrics.diversity import diversity_scores
from tts_gen.evaluate.metrics.f0 import pitch_scores
from tts_gen.evaluate.metrics.mcd import mel_cepstral_distortion
from tts_gen.evaluate.metrics.robustness import duration_check
from tts_gen.evaluate.metrics.world import WorldFeatures, analyze, dtw_path
from tts_gen.evaluate.pipeline.store import RowLog, row_key


class Scorer:
    """Scores the rows of an :class:`tts_gen.evaluate.pipeline.synthesis.Evaluator` into ``utterances.jsonl``."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.config = evaluator.config
        self.out: Path = evaluator.out
        self.sample_rate = evaluator.audio.sample_rate
        self.log = RowLog(self.out / "utterances.jsonl")
        self.by_id = {utt.id: utt for utt in evaluator.utterances}
        self._dnsmos = None
        self._reference_world: dict[str, WorldFeatures] = {}

    # ------------------------------------------------------------------------------------------ models

    @property
    def recognizer(self):
        return self.evaluator.recognizer

    @property
    def dnsmos(self):
        if self._dnsmos is None:
            from tts_gen.evaluate.metrics.dnsmos import Dnsmos

            self._dnsmos = Dnsmos()
        return self._dnsmos

    def reference_world(self, utt_id: str) -> WorldFeatures:
        if utt_id not in self._reference_world:
            wav = load_wav(self.by_id[utt_id].audio, self.sample_rate).numpy()
            self._reference_world[utt_id] = analyze(wav, self.sample_rate, self.config.world)
        return self._reference_world[utt_id]

    # ------------------------------------------------------------------------------------------ rows

    def reference_rows(self) -> list[dict]:
        """The recordings of the split as rows of the ``reference`` condition."""
        return [
            {
                "condition": "reference",
                "set": "test",
                "id": utt.id,
                "text": utt.text,
                "wav": str(Path(utt.audio).resolve()),
                "audio_seconds": utt.n_samples / self.sample_rate,
            }
            for utt in self.evaluator.utterances
        ]

    def pending(self) -> list[dict]:
        rows = self.reference_rows() + list(self.evaluator.synth_log.rows.values())
        return [row for row in rows if row_key(row) not in self.log]

    def run(self, progress: bool = True) -> None:
        pending = self.pending()
        if "asr" not in self.config.skip and pending:  # recognized in parallel first; score() then finds them
            wavs = [load_wav(self.wav_path(row["wav"]), self.sample_rate) for row in pending]
            self.recognizer.transcribe_many(wavs, self.sample_rate)
        for row in tqdm(pending, desc="score", unit="utt", disable=not progress, dynamic_ncols=True):
            self.log.append({**row, **self.score(row)})

    def wav_path(self, relative_or_absolute: str) -> Path:
        path = Path(relative_or_absolute)
        return path if path.is_absolute() else self.out / path

    def score(self, row: dict) -> dict[str, Any]:
        """Every metric that applies to ``row``."""
        skip = set(self.config.skip)
        wav = load_wav(self.wav_path(row["wav"]), self.sample_rate)
        metrics: dict[str, Any] = {}
        if row["set"] == "test" and row["condition"] != "reference" and "world" not in skip:
            metrics.update(self.spectral(row["id"], wav.numpy()))
        if row.get("diversity_wavs"):
            metrics.update(self.diversity(row))
        if "asr" not in skip:
            scores = self.recognizer.score(wav, self.sample_rate, row["text"])
            metrics.update(
                {("asr_hypothesis" if k == "hypothesis" else k): v for k, v in dataclasses.asdict(scores).items()}
            )
        if "dnsmos" not in skip:
            metrics.update(
                {f"dnsmos_{k}": v for k, v in dataclasses.asdict(self.dnsmos.score(wav, self.sample_rate)).items()}
            )
        if row["set"] == "robustness":
            check = duration_check(row["durations"], self.evaluator.frame_seconds, self.evaluator.reference_rate)
            metrics.update(
                {
                    "tokens_per_second": check.tokens_per_second,
                    "max_token_seconds": check.max_token_seconds,
                    "duration_outlier": check.outlier,
                }
            )
        return metrics

    def spectral(self, utt_id: str, wav: np.ndarray) -> dict[str, Any]:
        """MCD, log-F0 RMSE and V/UV error against the recording, along one DTW path."""
        generated = analyze(wav, self.sample_rate, self.config.world)
        reference = self.reference_world(utt_id)
        path = dtw_path(generated.mcep, reference.mcep)
        pitch = pitch_scores(generated.f0, reference.f0, path)
        return {
            "mcd_db": mel_cepstral_distortion(generated.mcep, reference.mcep, path),
            "log_f0_rmse": pitch.log_f0_rmse,
            "vuv_error": pitch.vuv_error,
            "voiced_frames": pitch.voiced_frames,
        }

    def diversity(self, row: dict) -> dict[str, Any]:
        tracks = [
            analyze(load_wav(self.wav_path(path), self.sample_rate).numpy(), self.sample_rate, self.config.world).f0
            for path in row["diversity_wavs"]
        ]
        scores = diversity_scores(tracks, row["diversity_durations"], self.evaluator.frame_seconds)
        return dataclasses.asdict(scores)
