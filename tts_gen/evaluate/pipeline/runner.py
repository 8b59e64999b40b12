"""``tts-gen evaluate``: synthesize a split's sentences with a trained model and score them.

Conditions (one row per condition and utterance in ``utterances.jsonl``):

* ``reference``: the recordings themselves (ASR and DNSMOS ceilings);
* ``copy-synthesis``: the recordings' mels through the same vocoder (the vocoder's own error);
* ``model``: text -> mel -> vocoder with the family's default options; plus per test sentence the mel-L1 of a
  mel generated with the aligner's durations, the model's loss terms (likelihood where it has one) and, for
  families with a ``temperature``, the diversity of several samples;
* one condition per sweep value (``steps=4``, ``temperature=0.3``...): quality against speed;
* ``robustness``: the shared robustness sentences (no recordings): ASR insertions/deletions, duration outliers.

Before them, an option may be chosen on the validation split (the operating point, :mod:`choice`); after them,
the run's kept checkpoints may be scored over its training (:mod:`curve`), and the states of one sample's
crossing from noise to mel are kept for the report (``crossing.npz``).

Work happens in two resumable phases: synthesis (model and vocoder only, so timings and memory are not
disturbed by the metric models), then scoring. See :mod:`tts_gen.evaluate.pipeline.store` for the folder layout.
"""

from __future__ import annotations

from tts_gen.evaluate.pipeline.choice import choose_operating_point
from tts_gen.evaluate.pipeline.curve import score_learning_curve
from tts_gen.evaluate.pipeline.plan import EvaluationConfig
from tts_gen.evaluate.pipeline.scoring import Scorer
from tts_gen.evaluate.pipeline.summary import write_summary
from tts_gen.evaluate.pipeline.synthesis import Evaluator


def evaluate(config: EvaluationConfig, progress: bool = True) -> dict:
    """Runs (or resumes) an evaluation; returns the summary also written to ``summary.json``."""
    evaluator = Evaluator(config)
    notes = list(evaluator.notes)
    complete = False
    try:
        choose_operating_point(evaluator, progress)
        evaluator.run_synthesis(progress)
        evaluator.save_crossing()
        Scorer(evaluator).run(progress)
        score_learning_curve(evaluator, progress)
        complete = True
    finally:
        summary = write_summary(evaluator, notes, complete)
    return summary
