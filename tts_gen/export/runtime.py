"""The runtime of an ONNX export: text -> waveform with onnxruntime and tts_gen's text frontend, without PyTorch.

``OnnxVoice(export_dir).speak(text) -> float32 waveform (T,)``: the text is split into sentences, tokenized with
the export's symbol table, and sent through ``acoustic.onnx`` in batches of at most ``max_tokens`` padded tokens,
then each sentence through ``vocoder.onnx``. PyTorch is imported only when another vocoder is asked for
(Griffin-Lim or a trained vocoder run), or when an export has no ``vocoder.onnx``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tts_gen.errors import TTSGenError
from tts_gen.text import Tokenizer, split_sentences
from tts_gen.text.pronunciations import read_pronunciations
from tts_gen.text.sentences import MAX_BATCH_TOKENS, SENTENCE_SILENCE, sentence_batches

ACOUSTIC_FILE = "acoustic.onnx"
VOCODER_FILE = "vocoder.onnx"
INFO_FILE = "tts_gen.json"
EXPORT_FORMAT = "tts_gen-onnx"
ACOUSTIC_INPUTS = ("x", "x_length", "noise_scale", "length_scale")
ACOUSTIC_OUTPUTS = ("mel", "mel_length")


class ExportFolderError(TTSGenError):
    """A folder is not a readable ONNX export of tts_gen."""


def session(path: str | Path, threads: int = 0):
    """An onnxruntime session of an exported graph on the CPU (``threads`` = 0: onnxruntime's choice)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_acoustic(acoustic, ids: list[list[int]], temperature: float, length_scale: float) -> list[np.ndarray]:
    """Mels (n_mels, T_i) of token id sequences through an acoustic session, as one zero-padded batch."""
    width = max(len(sequence) for sequence in ids)
    x = np.zeros((len(ids), width), dtype=np.int64)
    for row, sequence in enumerate(ids):
        x[row, : len(sequence)] = sequence
    mel, lengths = acoustic.run(
        list(ACOUSTIC_OUTPUTS),
        {
            "x": x,
            "x_length": np.array([len(s) for s in ids], dtype=np.int64),
            "noise_scale": np.array([temperature], dtype=np.float32),
            "length_scale": np.array([length_scale], dtype=np.float32),
        },
    )
    return [mel[i, :, : int(n)] for i, n in enumerate(lengths)]


def read_export_info(folder: str | Path) -> dict:
    """The ``tts_gen.json`` of an export folder."""
    path = Path(folder) / INFO_FILE
    if not path.is_file():
        raise ExportFolderError(
            f"{folder} is not an ONNX export of tts_gen (no {INFO_FILE}); make one with tts-gen export"
        )
    info = json.loads(path.read_text(encoding="utf-8"))
    if info.get("format") != EXPORT_FORMAT:
        raise ExportFolderError(f"{path} is not the description of a tts_gen ONNX export")
    if info.get("format_version", 0) > 1:
        raise ExportFolderError(f"{folder} was exported by a newer tts_gen; upgrade to read it")
    return info


class OnnxVoice:
    """An ONNX export as a voice.

    Args:
        folder: the export folder (``tts-gen export``).
        vocoder: None (the export's ``vocoder.onnx``, else Griffin-Lim), ``griffin-lim``, another ``.onnx``
            vocoder with the same interface, or a trained vocoder's run folder, checkpoint or release (PyTorch).
        lexicon: the user's pronunciations (word -> phonemes).
        threads: onnxruntime threads (0: its choice).
    """

    def __init__(
        self, folder: str | Path, vocoder: str | Path | None = None, lexicon: str | Path | None = None, threads: int = 0
    ):
        self.folder = Path(folder)
        self.info = read_export_info(folder)
        tokenizer = Tokenizer.from_state_dict(self.info["symbols"])
        if lexicon is not None:
            tokenizer = Tokenizer(tokenizer.config, read_pronunciations(lexicon, tokenizer.table))
        self.tokenizer = tokenizer
        self.sample_rate = int(self.info["audio"]["sample_rate"])
        self.temperature = float(self.info["sampling"].get("temperature", 0.0))
        self.acoustic = session(self.folder / self.info["acoustic"], threads)
        self.vocode = self._vocoder(vocoder, threads)

    def _vocoder(self, spec: str | Path | None, threads: int) -> Callable[[np.ndarray], np.ndarray]:
        """mel (n_mels, T) -> waveform (T * hop,)."""
        if spec is None and self.info.get("vocoder"):
            spec = self.folder / self.info["vocoder"]
        if spec is not None and str(spec).endswith(".onnx"):
            vocoder = session(spec, threads)
            name = vocoder.get_inputs()[0].name
            return lambda mel: vocoder.run(None, {name: mel[None].astype(np.float32)})[0].reshape(-1)
        return self._torch_vocoder(spec)

    def _torch_vocoder(self, spec: str | Path | None) -> Callable[[np.ndarray], np.ndarray]:
        import torch

        from tts_gen.audio import AudioConfig
        from tts_gen.vocoders import load_vocoder

        vocoder = load_vocoder(spec, AudioConfig(**self.info["audio"]))

        def vocode(mel: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return vocoder(torch.from_numpy(mel)[None])[0].numpy()

        return vocode

    @staticmethod
    def seed(value: int) -> None:
        """Seeds onnxruntime's random number generator (the sampling noise)."""
        import onnxruntime

        onnxruntime.set_seed(value)

    def mels(
        self, text: str, temperature: float | None = None, length_scale: float = 1.0, max_tokens: int = MAX_BATCH_TOKENS
    ) -> list[np.ndarray]:
        """The mel (n_mels, T_i) of each sentence of ``text``, in order."""
        if length_scale <= 0:
            raise ValueError(f"length_scale must be positive, got {length_scale}")
        temperature = self.temperature if temperature is None else temperature
        pieces = split_sentences(text) if text and text.strip() else []
        if not pieces:
            raise ValueError(f"the text {text!r} has nothing to speak")
        ids = [self.tokenizer.encode(piece) for piece in pieces]
        mels: list[np.ndarray | None] = [None] * len(ids)
        for batch in sentence_batches([len(i) for i in ids], max_tokens):
            for index, mel in zip(
                batch, run_acoustic(self.acoustic, [ids[i] for i in batch], temperature, length_scale)
            ):
                mels[index] = mel
        return mels

    def speak(
        self,
        text: str,
        temperature: float | None = None,
        length_scale: float = 1.0,
        sentence_silence: float = SENTENCE_SILENCE,
        max_tokens: int = MAX_BATCH_TOKENS,
    ) -> np.ndarray:
        """Text -> float32 waveform (T,) in [-1, 1]; ``temperature`` None: the run's default."""
        gap = np.zeros(round(sentence_silence * self.sample_rate), dtype=np.float32)
        pieces = []
        for index, mel in enumerate(self.mels(text, temperature, length_scale, max_tokens)):
            if index:
                pieces.append(gap)
            pieces.append(self.vocode(mel).astype(np.float32))
        return np.clip(np.concatenate(pieces), -1.0, 1.0)
