"""Evaluation of trained models, grouped by job: metric functions (:mod:`tts_gen.evaluate.metrics`), the
``tts-gen evaluate`` pipeline (:mod:`tts_gen.evaluate.pipeline`) and the ``tts-gen compare`` report
(:mod:`tts_gen.evaluate.report`)."""
