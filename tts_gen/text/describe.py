"""Human-readable view of what the text frontend does with a text (used by ``tts-gen text``)."""

from __future__ import annotations

from tts_gen.text.normalize import normalize_text
from tts_gen.text.symbols import WORD_BOUNDARY
from tts_gen.text.tokenizer import TextConfig, Tokenizer, has_speech


def describe_text(text: str, config: TextConfig) -> str:
    """Multi-line report: the input, the normalized text, the units (phonemes or characters) and the token ids
    the model reads (edge pauses included).

    Phonemes are shown word by word, phonemes of a word joined, pause marks attached ("hɛlˈoʊ, wˈɚld!"), and
    then unit by unit separated by "|" with the word boundary shown as "_".
    """
    tokenizer = Tokenizer(config)
    normalized = normalize_text(text)
    spoken = tokenizer.units_of_normalized(normalized)
    units = tokenizer.model_units(spoken)
    ids = tokenizer.units_to_ids(units)
    readable = "".join(spoken)
    separated = " | ".join("_" if unit == WORD_BOUNDARY else unit for unit in units)
    label = "phonemes" if config.mode == "phonemes" else "characters"
    return "\n".join(
        [
            f"text:       {text}",
            f"normalized: {normalized}",
            f"{label + ':':<11} {readable}",
            f"units ({len(units)}): {separated}",
            f"token ids ({len(ids)}): {ids}",
            f"symbol table: {config.mode} v{tokenizer.table.version} ({tokenizer.num_symbols} symbols)",
        ]
        + ([] if has_speech(units) else ["note: nothing to speak; encode() rejects this text"])
    )
