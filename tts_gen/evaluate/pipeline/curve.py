"""Learning curves: how a family's speech improves over its training.

Every step checkpoint kept in the run folder (``train.keep_every``) synthesizes the first ``curve_utts`` test
sentences at the evaluation's options; each gets the word error rate of the offline recognizer and the mel L1 at
the aligner's durations. Each sentence draws the noise of the test split's ``model`` condition, so the checkpoint
that was evaluated repeats its test rows exactly (its transcripts come from the recognizer's cache, not from a
second recognition) and the curve ends where the test rows begin. Rows go to ``curve.jsonl`` with the checkpoint's
training minutes and utterance passes, so that the report can draw quality against training time and against data
seen, family by family."""

from __future__ import annotations

import copy
import statistics
from pathlib import Path

from tqdm import tqdm

from tts_gen.data.dataset import TTSDataset
from tts_gen.evaluate.pipeline.choice import mean_wer
from tts_gen.evaluate.pipeline.plan import seed_for
from tts_gen.evaluate.pipeline.store import RowLog
from tts_gen.runs import load_checkpoint, step_checkpoints


def checkpoint_row(evaluator, model, payload: dict, dataset, use_asr: bool) -> dict:
    """The scores of one checkpoint's weights (loaded into ``model``) on ``dataset``."""
    options = evaluator.decoder_options({})
    wavs, l1s = [], []
    for index, utt in enumerate(dataset.utterances):
        seed = seed_for(evaluator.config.seed, "model", "test", utt.id)  # the test condition's draw
        if use_asr:
            wavs.append(evaluator.synthesize(dataset.tokens[index], options, seed, model=model).wav)
        l1s.append(evaluator.mel_l1_at_true_durations(evaluator.batch_of(dataset, index), options, seed, model=model))
    step = payload["step"]
    return {
        "condition": "curve",
        "set": "test",
        "id": f"step_{step:08d}",
        "step": step,
        "minutes": (payload.get("train_seconds") or 0.0) / 60,
        "utterances": payload.get("utterances_seen"),
        "n": len(dataset),
        "wer": mean_wer(evaluator, wavs, dataset),
        "mel_l1": statistics.mean(l1s),
    }


def score_learning_curve(evaluator, progress: bool = True) -> None:
    """Scores every step checkpoint of the evaluated run not scored yet into ``curve.jsonl``."""

    config = evaluator.config
    run_dir = evaluator.info.get("run_dir")
    if not config.learning_curve:
        return
    if not run_dir:
        evaluator.notes.append("the checkpoint is not in a run folder: no learning curve")
        return
    log = RowLog(evaluator.out / "curve.jsonl")
    todo = [path for path in step_checkpoints(run_dir) if ("curve", "test", Path(path).stem) not in log]
    utterances = evaluator.utterances[: config.curve_utts or None]
    dataset = TTSDataset(utterances, evaluator.features, evaluator.tokenizer)
    model = copy.deepcopy(evaluator.model)
    for path in tqdm(todo, desc="learning curve", unit="checkpoint", disable=not progress):
        payload = load_checkpoint(path, evaluator.device)
        model.load_state_dict(payload["ema"] or payload["model"])
        model.eval()
        log.append(checkpoint_row(evaluator, model, payload, dataset, "asr" not in config.skip))
