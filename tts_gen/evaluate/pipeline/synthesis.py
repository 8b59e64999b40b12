"""The synthesis phase of ``tts-gen evaluate``: load the model, plan the conditions, synthesize and time.

Test sentences are synthesized from the manifest's tokens as one sequence each (as the model was trained),
not split into sentences as ``tts-gen synth`` does, so that they stay comparable with their recordings.

``eval.json`` records, besides what was evaluated, how the model was trained (its budget: steps, batch,
utterance passes, minutes, device, learning rate, loss window; its protocol and spine), how it samples (sampler
and network evaluations) and the machine's load around the timed syntheses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tts_gen.audio import save_wav
from tts_gen.evaluate.metrics.likelihood import likelihood_terms, loss_terms
from tts_gen.evaluate.metrics.mcd import mel_l1
from tts_gen.evaluate.metrics.robustness import robustness_sentences
from tts_gen.evaluate.metrics.speed import PeakMemory, parameter_count, real_time_factor
from tts_gen.evaluate.pipeline.plan import NFE, EvaluationConfig, Job, condition_name, parse_sweep, seed_for
from tts_gen.evaluate.pipeline.store import RowLog, git_state, update_info, write_or_check_identity
from tts_gen.files import atomic_write, save_npy
from tts_gen.runs import checkpoint_run_dir, resolve_checkpoint
from tts_gen.runtime import hardware, resolve_device, synchronize
from tts_gen.spine import spine_of_run


@dataclass
class SynthOutput:
    """mel: raw log-mel (n_mels, T) on the CPU; wav (T * hop,); durations per token (frames); seconds spent."""

    mel: torch.Tensor
    wav: torch.Tensor
    durations: list[int]
    acoustic_seconds: float
    vocoder_seconds: float


def training_budget(payload: dict, experiment) -> dict[str, Any]:
    """What a run was allowed (``max_steps``, ``max_minutes``; 0 = no limit), what it spent to reach the evaluated
    checkpoint (best.pt may come before the end), and how it trained: the budget a report row states."""
    decoder, train = experiment.model.decoder, experiment.train
    window = decoder.segment_frames  # every family has the setting
    seconds = window * experiment.audio.hop_length / experiment.audio.sample_rate
    return {
        "max_steps": train.max_steps,
        "max_minutes": train.max_minutes,
        "steps": payload.get("step"),
        "batch_size": train.batch_size,
        "utterances": payload.get("utterances_seen"),
        "minutes": (payload.get("train_seconds") or 0.0) / 60,
        "device": payload.get("train_device"),
        "learning_rate": train.learning_rate,
        "loss_window": f"{window} frames ({seconds:.1f} s)" if window else "whole utterances",
        "best_metric": payload.get("best_metric"),
        "best_value": payload.get("best_val"),
    }


def sampling_of(decoder, options: Any) -> dict[str, Any]:
    """The sampler of ``options`` and its network evaluations per sample (NFE)."""
    nfe = decoder.network_evaluations(options)
    default = "one pass" if nfe == 1 else "autoregressive"
    return {"sampler": getattr(options, "sampler", default), "nfe": nfe}


class Evaluator:
    """Loads the model, vocoder and split of an :class:`EvaluationConfig` and runs the synthesis phase."""

    def __init__(self, config: EvaluationConfig):
        from tts_gen.config import config_hash
        from tts_gen.data.dataset import TTSDataset
        from tts_gen.data.prepared import open_prepared
        from tts_gen.synthesize import load_acoustic_model
        from tts_gen.vocoders import load_vocoder

        self.config = config
        self.out = Path(config.out_dir)
        self.device = resolve_device(config.device)
        checkpoint = resolve_checkpoint(config.checkpoint).resolve()
        self.model, self.experiment, self.tokenizer, payload = load_acoustic_model(checkpoint, self.device)
        self.audio = self.experiment.audio
        self.vocoder = load_vocoder(config.vocoder, self.audio, self.device).eval()
        self.family = self.experiment.model.decoder.family
        data_dir = Path(config.data_dir).resolve()
        prepared = open_prepared(data_dir, self.audio)
        self.prepared = prepared
        self.features = prepared.features
        utterances = prepared.manifest(config.split)
        if config.max_utts > 0:
            utterances = utterances[: config.max_utts]
        if not utterances:
            raise ValueError(f"the {config.split} split of {data_dir} has no utterances")
        self.utterances = utterances
        self.dataset = TTSDataset(utterances, self.features, self.tokenizer)
        self.frame_seconds = self.audio.hop_length / self.audio.sample_rate
        self.notes: list[str] = []
        self.chosen: dict[str, Any] = {}  # the operating point, once chosen on the validation split
        self.defaults = dataclasses.asdict(self.model.decoder.options())
        self.sweeps = self._plan_sweeps()
        self._recognizer = None
        self.stochastic = "temperature" in self.defaults
        if config.diversity_samples >= 2 and "diversity" not in config.skip and not self.stochastic:
            self.notes.append(f"the {self.family} decoder has no temperature: diversity was not measured")
        vocoder = config.vocoder if config.vocoder == "griffin-lim" else str(Path(config.vocoder).resolve())
        self.info = write_or_check_identity(
            self.out / "eval.json",
            {
                "checkpoint": str(checkpoint),
                "checkpoint_step": payload.get("step"),
                "config_hash": config_hash(self.experiment),
                "data_dir": str(data_dir),
                "split": config.split,
                "vocoder": vocoder,
                "seed": config.seed,
                "length_scale": config.length_scale,
                "run_dir": checkpoint_run_dir(checkpoint),
                "family": self.family,
                "corpus": prepared.info.corpus,
                "training_corpus": payload.get("data", {}).get("corpus"),
                "train_seed": self.experiment.train.seed,
                "utterances": len(utterances),
                "options": self.defaults,
                "sampling": sampling_of(self.model.decoder, self.model.decoder.options()),
                "sweeps": {name: values for name, values in self.sweeps.items()},
                "protocol": "shared" if payload.get("spine") else "own encoder",
                "spine": spine_of_run(self.model, self.tokenizer, payload, checkpoint),
                "budget": training_budget(payload, self.experiment),
                "skip": list(config.skip),
                "world": dataclasses.asdict(config.world),
                "parameters": parameter_count(self.model, exclude=self.model.discriminator),
                "vocoder_parameters": parameter_count(self.vocoder),
                "device": str(self.device),
                "hardware": hardware(self.device),
                "git": git_state(Path(__file__).parent),
                "versions": payload.get("versions", {}),
            },
        )
        self.synth_log = RowLog(self.out / "synth.jsonl")
        self.meter: PeakMemory | None = None

    # ------------------------------------------------------------------------------------------ planning

    def _plan_sweeps(self) -> dict[str, list[Any]]:
        sweeps = {}
        for name, values in self.config.sweeps.items():
            converted, note = parse_sweep(self.model.decoder.options_class, self.family, name, values)
            if note:
                self.notes.append(note)
            elif name == NFE:
                sweeps[name] = self._reachable_nfes(converted)
            else:
                sweeps[name] = converted
        return sweeps

    def _reachable_nfes(self, values: list[int]) -> list[int]:
        per_step = self.model.decoder.network_evaluations(self.model.decoder.options(steps=1))
        reachable = [value for value in values if value >= per_step and value % per_step == 0]
        if len(reachable) < len(values):
            skipped = ", ".join(str(v) for v in values if v not in reachable)
            self.notes.append(f"the {self.family} sampler takes {per_step} evaluations per step: nfe {skipped} skipped")
        return reachable

    def sweep_options(self, name: str, value: Any) -> dict[str, Any]:
        """The options of one sweep point (an ``nfe`` point sets ``steps``)."""
        if name == NFE:
            return {"steps": value // self.model.decoder.network_evaluations(self.model.decoder.options(steps=1))}
        return {name: value}

    def decoder_options(self, overrides: dict[str, Any]) -> Any:
        """The family's options of a synthesis: the run's defaults, the chosen operating point, then ``overrides``."""
        return self.model.decoder.options(**{**self.chosen, **overrides})

    def choose(self, values: dict[str, Any]) -> None:
        """Makes ``values`` the operating point of every later synthesis and records it in ``eval.json``."""
        self.chosen = values
        options = self.decoder_options({})
        self.info = update_info(
            self.out / "eval.json",
            {
                "chosen": values,
                "options": dataclasses.asdict(options),
                "sampling": sampling_of(self.model.decoder, options),
            },
        )

    @property
    def recognizer(self):
        """The offline recognizer (loaded on first use)."""
        if self._recognizer is None:
            from tts_gen.evaluate.metrics.asr import Recognizer

            self._recognizer = Recognizer(self.config.transcript_cache or None)
        return self._recognizer

    @property
    def reference_rate(self) -> float:
        """Median speaking rate of the split's recordings, in tokens per second."""
        rates = [len(t) / (u.n_samples / self.audio.sample_rate) for u, t in zip(self.utterances, self.dataset.tokens)]
        return statistics.median(rates)

    def jobs(self) -> list[Job]:
        """Every synthesis of the evaluation, in the order they run."""
        test = [(i, utt, self.dataset.tokens[i]) for i, utt in enumerate(self.utterances)]
        swept = test[: self.config.sweep_utts or None]  # a sweep's conditions synthesize the first sentences only
        conditions: list[tuple[str, dict[str, Any], list]] = [("model", {}, test)]
        if "copy-synthesis" not in self.config.skip:
            conditions.insert(0, ("copy-synthesis", {}, test))
        for name, values in self.sweeps.items():
            conditions += [(condition_name(name, value), self.sweep_options(name, value), swept) for value in values]
        jobs = [
            Job(c, "test", utt.id, utt.text, tokens, options, i)
            for c, options, sentences in conditions
            for i, utt, tokens in sentences
        ]
        if "robustness" not in self.config.skip:
            sentences = robustness_sentences()
            if self.config.robustness_max >= 0:
                sentences = sentences[: self.config.robustness_max]
            for number, sentence in enumerate(sentences, start=1):
                jobs.append(
                    Job(
                        "robustness",
                        "robustness",
                        f"robust-{number:02d}",
                        sentence,
                        self.tokenizer.encode(sentence),
                        {},
                    )
                )
        return jobs

    def done(self, job: Job) -> bool:
        row = self.synth_log.get(job.key)
        return row is not None and (self.out / row["wav"]).is_file()

    # ------------------------------------------------------------------------------------------ running

    def run_synthesis(self, progress: bool = True) -> None:
        """Synthesizes every job not done yet (a warm-up synthesis first, so that timings are steady)."""
        todo = [job for job in self.jobs() if not self.done(job)]
        if not todo:
            return
        self.model.eval()
        self.synthesize(self.dataset.tokens[0], self.decoder_options({}), seed=0)  # warm-up, not recorded
        self.meter = PeakMemory(self.device)
        load = {"before": os.getloadavg()[0]}
        for job in tqdm(todo, desc="synthesize", unit="utt", disable=not progress, dynamic_ncols=True):
            self.synth_log.append(self.run_job(job))
        self.info = update_info(self.out / "eval.json", {"load_average": {**load, "after": os.getloadavg()[0]}})

    @torch.no_grad()
    def save_crossing(self) -> None:
        """The states of one sample's crossing from the family's starting point to the mel, for the first test
        sentence (``crossing.npz``, labels in ``eval.json``)."""
        if (self.out / "crossing.npz").is_file():
            return
        tokens = torch.tensor([self.dataset.tokens[0]], device=self.device)
        torch.manual_seed(seed_for(self.config.seed, "crossing"))
        states = self.model.trajectory(
            tokens, torch.tensor([tokens.shape[1]], device=self.device), self.decoder_options({})
        )
        with atomic_write(self.out / "crossing.npz") as handle:
            np.savez(handle, *[state.float().cpu().numpy() for _, state in states])
        labels = [label for label, _ in states]
        self.info = update_info(self.out / "eval.json", {"crossing": {"id": self.utterances[0].id, "labels": labels}})

    @torch.no_grad()
    def vocode(self, mel: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Raw log-mel (n_mels, T) -> (waveform (T * hop,) on the CPU, seconds)."""
        synchronize(self.device)
        started = time.perf_counter()
        wav = self.vocoder(mel.unsqueeze(0).to(self.device))[0].float()
        synchronize(self.device)
        return wav.cpu().clamp(-1, 1), time.perf_counter() - started

    @torch.no_grad()
    def synthesize(
        self, tokens: list[int], options: Any, seed: int, measure: bool = False, model: Any = None
    ) -> SynthOutput:
        """Token ids -> mel -> waveform with the family's ``options``, timed (and memory-measured); ``model``
        defaults to the evaluated one."""
        model = self.model if model is None else model
        torch.manual_seed(seed)
        x = torch.tensor([tokens], dtype=torch.long, device=self.device)
        lengths = torch.tensor([len(tokens)], dtype=torch.long, device=self.device)
        meter = self.meter if measure and self.meter is not None else contextlib.nullcontext()
        with meter:
            synchronize(self.device)
            started = time.perf_counter()
            synthesis = model.synthesize(x, lengths, options, self.config.length_scale)
            synchronize(self.device)
            acoustic_seconds = time.perf_counter() - started
            mel = synthesis.mel[0, :, : int(synthesis.lengths[0])]
            wav, vocoder_seconds = self.vocode(mel)
        durations = [int(d) for d in synthesis.durations[0, : len(tokens)].cpu()]
        return SynthOutput(mel.float().cpu(), wav, durations, acoustic_seconds, vocoder_seconds)

    def _save(self, condition: str, name: str, wav: torch.Tensor, mel: torch.Tensor | None) -> dict[str, str]:
        paths = {"wav": f"wavs/{condition}/{name}.wav"}
        save_wav(self.out / paths["wav"], wav, self.audio.sample_rate)
        if mel is not None:
            paths["mel"] = f"mels/{condition}/{name}.npy"
            save_npy(self.out / paths["mel"], mel.numpy())
        return paths

    def run_job(self, job: Job) -> dict:
        """Synthesizes one job and returns its row (paths, timings, durations and model-side metrics)."""
        seed = seed_for(self.config.seed, job.condition, job.set, job.id)
        row: dict[str, Any] = {"condition": job.condition, "set": job.set, "id": job.id, "text": job.text}
        if job.condition == "copy-synthesis":
            mel = self.features.load(job.id)
            wav, seconds = self.vocode(mel)
            row.update(self._save(job.condition, job.id, wav, None))
            audio_seconds = wav.numel() / self.audio.sample_rate
            return {**row, "audio_seconds": audio_seconds, "rtf_vocoder": real_time_factor(seconds, audio_seconds)}
        options = self.decoder_options(job.options)
        out = self.synthesize(job.tokens, options, seed, measure=True)
        audio_seconds = out.wav.numel() / self.audio.sample_rate
        row.update(self._save(job.condition, job.id, out.wav, out.mel))
        row.update(
            {
                "options": dataclasses.asdict(options),
                "nfe": self.model.decoder.network_evaluations(options),
                "seed": seed,
                "audio_seconds": audio_seconds,
                "durations": out.durations,
                "rtf_acoustic": real_time_factor(out.acoustic_seconds, audio_seconds),
                "rtf_vocoder": real_time_factor(out.vocoder_seconds, audio_seconds),
                "rtf_total": real_time_factor(out.acoustic_seconds + out.vocoder_seconds, audio_seconds),
                "peak_memory_mb": self.meter.last.peak_mb if self.meter else None,
                "memory_kind": self.meter.last.kind if self.meter else None,
            }
        )
        if job.set == "test":
            row.update(self._teacher_forced(job, options, seed))
        if job.condition == "model" and job.set == "test":
            row.update(self._diversity(job, options))
        return row

    def batch_of(self, dataset, index: int):
        from tts_gen.data.dataset import collate_tts

        return collate_tts([dataset[index]]).to(self.device)

    @torch.no_grad()
    def mel_l1_at_true_durations(self, batch, options: Any, seed: int, model: Any = None) -> float:
        """mel-L1 of the decoder's output at the aligner's durations against the recording (one-item batch)."""
        model = self.model if model is None else model
        torch.manual_seed(seed)
        synthesis = model.teacher_forced(batch, options)
        frames = int(synthesis.lengths[0])
        return mel_l1(synthesis.mel[0, :, :frames].float().cpu(), batch.y[0, :, :frames].cpu())

    @torch.no_grad()
    def _teacher_forced(self, job: Job, options: Any, seed: int) -> dict[str, Any]:
        """mel-L1 with the aligner's durations; for ``model``: the loss terms and the likelihood."""
        batch = self.batch_of(self.dataset, job.index)
        result: dict[str, Any] = {"mel_l1": self.mel_l1_at_true_durations(batch, options, seed)}
        reference_mel = self.out / f"mels/reference/{job.id}.npy"
        if not reference_mel.is_file():
            save_npy(reference_mel, batch.y[0, :, : int(batch.y_lengths[0])].cpu().numpy())
        if job.condition == "model" and "likelihood" not in self.config.skip:
            torch.manual_seed(seed)
            terms = loss_terms(self.model, batch)
            result.update({f"loss/{key}": value for key, value in terms.items()})
            likelihoods = likelihood_terms(terms)
            if likelihoods:
                name = sorted(likelihoods)[0]
                result.update({"nll": likelihoods[name], "nll_term": name})
        return result

    def _diversity(self, job: Job, options: Any) -> dict[str, Any]:
        """Several samples of the sentence (stochastic families), saved for the scoring phase."""
        samples = self.config.diversity_samples
        if samples < 2 or not self.stochastic or "diversity" in self.config.skip:
            return {}
        wavs, durations = [], []
        for k in range(samples):
            out = self.synthesize(job.tokens, options, seed_for(self.config.seed, "diversity", job.id, k))
            wavs.append(self._save("diversity", f"{job.id}_{k}", out.wav, None)["wav"])
            durations.append(out.durations)
        return {"diversity_wavs": wavs, "diversity_durations": durations}
