"""The operating point: one sampling option of a family (its temperature, say) chosen on the validation split.

Each candidate value synthesizes the first ``choose_utts`` validation sentences; the value with the lowest mean
word error rate of the offline recognizer wins, the mel L1 at the aligner's durations breaking ties (or deciding
alone when ASR is skipped). The scores of every candidate and the choice are kept in ``eval.json`` (a rerun
reuses them); the ``model`` condition of the test split then uses the chosen value.
"""

from __future__ import annotations

import statistics
from typing import Any

from tqdm import tqdm

from tts_gen.evaluate.pipeline.plan import parse_sweep, seed_for
from tts_gen.evaluate.pipeline.store import update_info


def candidate_scores(evaluator, name: str, value: Any, dataset, use_asr: bool) -> dict[str, float]:
    """Mean word error rate (when ``use_asr``) and mel L1 of one candidate over the validation sentences."""
    options = evaluator.decoder_options({name: value})
    wavs, l1s = [], []
    for index, utt in enumerate(dataset.utterances):
        seed = seed_for(evaluator.config.seed, "choose", name, value, utt.id)
        if use_asr:
            wavs.append(evaluator.synthesize(dataset.tokens[index], options, seed).wav)
        l1s.append(evaluator.mel_l1_at_true_durations(evaluator.batch_of(dataset, index), options, seed))
    return {"wer": mean_wer(evaluator, wavs, dataset), "mel_l1": statistics.mean(l1s)}


def mean_wer(evaluator, wavs: list, dataset) -> float | None:
    """The mean word error rate of ``wavs``, one per sentence of ``dataset`` (None without any), recognized in
    parallel once every one is synthesized."""
    if not wavs:
        return None
    texts = [utt.text for utt in dataset.utterances]
    return statistics.mean(s.wer for s in evaluator.recognizer.score_many(wavs, evaluator.audio.sample_rate, texts))


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
    best = min(values, key=lambda v: (scores[v]["wer"] if use_asr else 0.0, scores[v]["mel_l1"]))
    choice = {
        "option": name,
        "candidates": values,
        "value": best,
        "split": "val",
        "utterances": len(utterances),
        "measure": "WER, then mel L1" if use_asr else "mel L1",
        "scores": [{"value": value, **scores[value]} for value in values],
    }
    evaluator.info = update_info(evaluator.out / "eval.json", {"choice": choice})
    evaluator.choose({name: best})
