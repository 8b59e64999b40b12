"""Metric functions, each family in its own module: :mod:`world` (WORLD analysis and DTW, shared by) :mod:`mcd`
(mel-cepstral distortion, mel-L1) and :mod:`f0` (log-F0 RMSE, voicing error); :mod:`asr` (WER/CER),
:mod:`dnsmos`, :mod:`speed` (real-time factor, parameters, memory), :mod:`diversity`, :mod:`likelihood`,
:mod:`robustness`; :mod:`stats` (bootstrap intervals, paired tests) and :mod:`catalogue` (what each metric is
and which direction is better). Heavy dependencies (pyworld, pocketsphinx, onnxruntime) are imported only when
a metric needs them."""
