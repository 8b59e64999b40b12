"""``tts-gen evaluate``: plan the conditions (:mod:`plan`), synthesize and time them (:mod:`synthesis`), score
them (:mod:`scoring`), summarize (:mod:`summary`), all in a resumable evaluation folder (:mod:`store`);
:func:`tts_gen.evaluate.pipeline.runner.evaluate` runs the whole."""
