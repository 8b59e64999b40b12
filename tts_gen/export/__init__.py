"""A trained voice for applications: ONNX exports that onnxruntime and sherpa-onnx run, safetensors releases, and
the runtime of an ONNX export (which needs no PyTorch).

Nothing is imported here, so that the runtime (:mod:`tts_gen.export.runtime`) loads without PyTorch.
"""
