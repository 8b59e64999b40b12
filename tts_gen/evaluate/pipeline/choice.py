"""The operating point: one sampling option of a family (its temperature, say) chosen on the validation split.

Each candidate value synthesizes the first ``choose_utts`` validation sentences and is scored on the word error
rate of the offline recognizer and the mel L1 at the aligner's durations. A few sentences make the word error rate
noisy: on 11 sentences a flow-matching run chose temperature 0.667 over 0 (WER 0.44 against 0.485), and on 53 test
sentences it then transcribed at 0.518 where temperature 0 gave 0.386. So the one-standard-error rule (Hastie,
Tibshirani & Friedman, The Elements of Statistical Learning, 2009, section 7.10) decides: of the candidates whose
word error rate is within one standard error of the lowest (the error of their paired per-sentence difference), the
one with the lowest mel L1 wins (the first in the given order on a tie); mel L1 decides alone when ASR is skipped.
The scores of every candidate and the choice are kept in ``eval.json`` (a rerun reuses them); the ``model``
condition of the test split then uses the chosen value.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from tqdm import tqdm

from tts_gen.audio.io import as_saved
from tts_gen.evaluate.pipeline.plan import parse_sweep, seed_for
from tts_gen.evaluate.pipeline.store import update_info


def candidate_scores(evaluator, name: str, value: Any, dataset, use_asr: bool) -> dict[str, Any]:
    """Mean word error rate (when ``use_asr``; with each sentence's in ``sentence_wers``) and mel L1 of one candidate
    over the validation sentences."""
    options = evaluator.decoder_options({name: value})
    wavs, l1s = [], []
    for index, utt in enumerate(dataset.utterances):
        seed = seed_for(evaluator.config.seed, "choose", name, value, utt.id)
        if use_asr:
            wavs.append(evaluator.synthesize(dataset.tokens[index], options, seed).wav)
        l1s.append(evaluator.mel_l1_at_true_durations(evaluator.batch_of(dataset, index), options, seed))
    wers = sentence_wers(evaluator, wavs, dataset)
    return {"wer": statistics.mean(wers) if wers else None, "sentence_wers": wers, "mel_l1": statistics.mean(l1s)}


def sentence_wers(evaluator, wavs: list, dataset) -> list[float]:
    """The word error rate of each of ``wavs``, one per sentence of ``dataset``, recognized in parallel once every
    one is synthesized, each as its saved file would be (so a waveform also saved by the test split's synthesis is
    the same audio to the recognizer, and its transcript is reused)."""
    if not wavs:
        return []
    texts = [utt.text for utt in dataset.utterances]
    saved = [as_saved(wav) for wav in wavs]
    return [s.wer for s in evaluator.recognizer.score_many(saved, evaluator.audio.sample_rate, texts)]


def mean_wer(evaluator, wavs: list, dataset) -> float | None:
    """The mean word error rate of ``wavs``, one per sentence of ``dataset`` (None without any)."""
    wers = sentence_wers(evaluator, wavs, dataset)
    return statistics.mean(wers) if wers else None


def within_one_standard_error(scores: dict[Any, dict[str, Any]]) -> list[Any]:
    """The candidates whose word error rate is within one standard error of the lowest one's: the mean of their
    paired per-sentence differences to it is at most the standard error of that mean."""
    lowest = min(scores, key=lambda value: scores[value]["wer"])
    close = []
    for value, score in scores.items():
        differences = [a - b for a, b in zip(score["sentence_wers"], scores[lowest]["sentence_wers"])]
        error = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0
        if statistics.mean(differences) <= error:
            close.append(value)
    return close


def chosen_value(scores: dict[Any, dict[str, Any]], use_asr: bool) -> Any:
    """The value the module docstring's rule chooses from the candidates' ``scores`` (in the candidates' order)."""
    candidates = within_one_standard_error(scores) if use_asr else list(scores)
    return min(candidates, key=lambda value: scores[value]["mel_l1"])


def choose_operating_point(evaluator, progress: bool = True) -> None:
    """Chooses the value of ``config.choose``'s option on the validation split (see the module docstring)."""
    from tts_gen.data.dataset import TTSDataset

    config = evaluator.config
    if not config.choose:
        return
    ((name, texts),) = config.choose.items()
    values, note = parse_sweep(evaluator.model.decoder.options_class, evaluator.family, name, texts)
    if note:
        evaluator.notes.append(note.replace("sweep", "choice"))
        return
    saved = evaluator.info.get("choice")
    if saved and saved.get("option") == name and saved.get("candidates") == values:
        evaluator.choose({name: saved["value"]})
        return
    utterances = evaluator.prepared.manifest("val")[: config.choose_utts or None]
    dataset = TTSDataset(utterances, evaluator.features, evaluator.tokenizer)
    use_asr = "asr" not in config.skip
    evaluator.model.eval()
    scores = {}
    for value in tqdm(values, desc=f"choose {name}", unit="value", disable=not progress):
        scores[value] = candidate_scores(evaluator, name, value, dataset, use_asr)
    best = chosen_value(scores, use_asr)
    choice = {
        "option": name,
        "candidates": values,
        "value": best,
        "split": "val",
        "utterances": len(utterances),
        "measure": "mel L1 of those within one standard error of the lowest WER" if use_asr else "mel L1",
        "scores": [{"value": value, **scores[value]} for value in values],
    }
    evaluator.info = update_info(evaluator.out / "eval.json", {"choice": choice})
    evaluator.choose({name: best})
