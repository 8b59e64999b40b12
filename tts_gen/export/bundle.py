"""``tts-gen export``: a trained voice as an ONNX export or a safetensors release.

An ONNX export folder::

    acoustic.onnx   token ids -> mel (see tts_gen.export.onnx), sampling options fixed, metadata for sherpa-onnx
    vocoder.onnx    mel -> waveform (HiFi-GAN), when a vocoder was given
    tokens.txt      the symbol table;  lexicon.txt: the covered words in the model's units (tts_gen.export.sherpa)
    tts_gen.json    what tts_gen's own ONNX runtime needs: symbol table, audio settings, family and options

sherpa-onnx loads it as a Matcha-TTS model: ``acoustic_model=acoustic.onnx, vocoder=vocoder.onnx,
lexicon=lexicon.txt, tokens=tokens.txt``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_gen import __version__
from tts_gen.audio import AudioConfig
from tts_gen.config import to_dict
from tts_gen.experiment import ExperimentConfig
from tts_gen.export.onnx import (
    ExportError,
    check_acoustic,
    check_exportable,
    check_vocoder,
    export_acoustic,
    export_vocoder,
    set_metadata,
)
from tts_gen.export.runtime import ACOUSTIC_FILE, EXPORT_FORMAT, INFO_FILE, VOCODER_FILE
from tts_gen.export.sherpa import write_text_files
from tts_gen.files import temporary_path, write_json
from tts_gen.releases import VOCODER_FOLDER, load_weights, release_weights, write_release
from tts_gen.synthesize import load_acoustic_model
from tts_gen.text.pronunciations import read_pronunciations
from tts_gen.text.symbols import PAD, PUNCTUATION, WORD_BOUNDARY
from tts_gen.vocoders.loading import load_hifigan_generator

# Texts on which an export is checked against PyTorch, one by one and as a batch.
CHECK_TEXTS = ("Hi.", "Printing, in the only sense with which we are at present concerned, differs from most arts.")


@dataclass
class ExportReport:
    """What an export wrote: the folder, its files, the family and the sampling options fixed in it."""

    out_dir: Path
    files: list[str]
    family: str
    options: dict[str, Any] = field(default_factory=dict)
    words: int = 0
    mel_difference: float = 0.0


def _options_dict(options: Any) -> dict[str, Any]:
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}


def acoustic_metadata(config: ExperimentConfig, pad_id: int, options: dict[str, Any]) -> dict[str, Any]:
    """The metadata of ``acoustic.onnx``: the keys sherpa-onnx's Matcha-TTS model type reads, then tts_gen's."""
    return {
        "model_type": "matcha-tts",
        "language": "English",
        "voice": "en-us",
        "has_espeak": 0,
        "jieba": 1,  # sherpa-onnx releases before 2.0 choose their lexicon frontend with it
        "n_speakers": 1,
        "sample_rate": config.audio.sample_rate,
        "version": 1,
        "pad_id": pad_id,
        "use_eos_bos": 0,
        "add_blank": 1,
        "tts_gen_version": __version__,
        "family": config.model.decoder.family,
        "sampling": json.dumps({k: v for k, v in options.items() if k != "temperature"}),
        "default_noise_scale": options.get("temperature", 0.0),
        "n_mels": config.audio.n_mels,
        "hop_length": config.audio.hop_length,
        "comment": "tts_gen acoustic model; noise_scale is the sampling temperature",
    }


def vocoder_metadata(audio: AudioConfig) -> dict[str, Any]:
    """The metadata of ``vocoder.onnx`` (sherpa-onnx reads ``model_type``)."""
    return {
        "model_type": "hifigan",
        "sample_rate": audio.sample_rate,
        "n_mels": audio.n_mels,
        "hop_length": audio.hop_length,
        "tts_gen_version": __version__,
    }


def export_onnx(
    checkpoint: str | Path,
    out_dir: str | Path,
    vocoder: str | Path | None = None,
    word_texts: list[str] = (),
    gruut_words: bool = True,
    lexicon: str | Path | None = None,
    options: dict[str, Any] | None = None,
) -> ExportReport:
    """Exports a trained voice to ONNX (see the module docstring).

    Args:
        checkpoint: acoustic run folder, checkpoint file or release folder.
        out_dir: the export folder (created).
        vocoder: a HiFi-GAN run folder, checkpoint or release whose generator becomes ``vocoder.onnx``.
        word_texts: texts whose words ``lexicon.txt`` must cover (spelled by the full frontend).
        gruut_words: also cover every word of gruut's English lexicon.
        lexicon: the user's pronunciations (word -> phonemes), used over gruut's.
        options: sampling options to fix instead of the run's defaults (temperature stays an input).
    """
    out = Path(out_dir)
    model, config, tokenizer, payload = load_acoustic_model(checkpoint)
    check_exportable(model)
    fixed = model.decoder.options(**(options or {}))
    generator = audio = None
    if vocoder is not None:
        generator, audio = load_hifigan_generator(vocoder)
        if audio != config.audio:
            raise ExportError(f"the vocoder {vocoder} was trained with other audio settings than the acoustic model")
    out.mkdir(parents=True, exist_ok=True)
    pad_id, boundary_id = tokenizer.symbols.index(PAD), tokenizer.symbols.index(WORD_BOUNDARY)
    pause_ids = [tokenizer.symbols.index(mark) for mark in PUNCTUATION]
    fixed_dict = _options_dict(fixed)
    acoustic = temporary_path(out / ACOUSTIC_FILE)  # renamed once checked and described
    vocoder_path = temporary_path(out / VOCODER_FILE)
    files = [ACOUSTIC_FILE]
    try:
        export_acoustic(model, fixed, pad_id, boundary_id, pause_ids, acoustic, tokenizer.config.edge_pauses)
        difference = check_acoustic(acoustic, model, fixed, [tokenizer.encode(text) for text in CHECK_TEXTS])
        set_metadata(acoustic, acoustic_metadata(config, pad_id, fixed_dict))
        acoustic.replace(out / ACOUSTIC_FILE)
        if generator is not None:
            export_vocoder(generator, config.audio.n_mels, vocoder_path)
            check_vocoder(vocoder_path, generator, config.audio.n_mels)
            set_metadata(vocoder_path, vocoder_metadata(config.audio))
            vocoder_path.replace(out / VOCODER_FILE)
            files.append(VOCODER_FILE)
    finally:
        acoustic.unlink(missing_ok=True)
        vocoder_path.unlink(missing_ok=True)
    own = read_pronunciations(lexicon, tokenizer.table) if lexicon is not None else None
    words = write_text_files(out, tokenizer, word_texts, gruut_words, own)
    write_json(
        out / INFO_FILE,
        {
            "format": EXPORT_FORMAT,
            "format_version": 1,
            "family": config.model.decoder.family,
            "sampling": fixed_dict,
            "symbols": tokenizer.state_dict(),
            "audio": to_dict(config.audio),
            "acoustic": ACOUSTIC_FILE,
            "vocoder": VOCODER_FILE if generator is not None else None,
            "source": {"checkpoint": str(checkpoint), "step": payload.get("step"), "vocoder": str(vocoder or "")},
            "versions": payload.get("versions", {}),
        },
    )
    files += ["tokens.txt", "lexicon.txt", INFO_FILE]
    return ExportReport(out, files, config.model.decoder.family, fixed_dict, words, difference)


def export_release(checkpoint: str | Path, out_dir: str | Path, vocoder: str | Path | None = None) -> ExportReport:
    """Writes a safetensors release of an acoustic run (and of a vocoder, under ``vocoder/``): weights as
    safetensors, config, symbols and mel statistics as JSON (see :mod:`tts_gen.releases`)."""
    out = Path(out_dir)
    payload = load_weights(checkpoint, "acoustic")
    load_acoustic_model(checkpoint)  # the release must load: a symbol table this code does not know fails here
    files = ["release.json", "model.safetensors"]
    if vocoder is not None:
        voc_payload = load_weights(vocoder, "vocoder")
        if voc_payload["config"].get("audio") != payload["config"].get("audio"):
            raise ExportError(f"the vocoder {vocoder} was trained with other audio settings than the acoustic model")
        generator = {k: v for k, v in release_weights(voc_payload).items() if k.startswith("generator.")}
        write_release(out / VOCODER_FOLDER, voc_payload, generator)
        files += [f"{VOCODER_FOLDER}/release.json", f"{VOCODER_FOLDER}/model.safetensors"]
    write_release(out, payload, release_weights(payload))
    family = payload["config"]["model"]["decoder"]["family"]
    return ExportReport(out, files, family)
