"""Evaluation of trained models: per-utterance metrics, ``tts-gen evaluate`` and the ``tts-gen compare`` report.

One module per metric family: :mod:`~tts_gen.evaluate.world` (WORLD analysis and DTW shared by)
:mod:`~tts_gen.evaluate.mcd` (mel-cepstral distortion, mel-L1) and :mod:`~tts_gen.evaluate.f0` (log-F0 RMSE,
voicing error); :mod:`~tts_gen.evaluate.asr` (WER/CER), :mod:`~tts_gen.evaluate.dnsmos`,
:mod:`~tts_gen.evaluate.speed` (real-time factor, parameters, memory), :mod:`~tts_gen.evaluate.diversity`,
:mod:`~tts_gen.evaluate.likelihood` and :mod:`~tts_gen.evaluate.robustness`. Heavy dependencies (pyworld,
pocketsphinx, onnxruntime) are imported only when a metric needs them.
"""
