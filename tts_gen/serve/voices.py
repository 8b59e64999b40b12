"""The voices a server offers: each a trained acoustic model (run, checkpoint or release) with its vocoder,
loaded once at start."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_gen.synthesize import Synthesizer


@dataclass
class Voice:
    """A named, loaded voice."""

    name: str
    source: str
    synthesizer: Synthesizer

    @property
    def family(self) -> str:
        return self.synthesizer.config.model.decoder.family

    def describe(self) -> dict[str, Any]:
        """What ``GET /voices`` says about the voice: its family, defaults and option types."""
        options = self.synthesizer.options()
        hints = typing.get_type_hints(type(options))
        return {
            "name": self.name,
            "family": self.family,
            "sample_rate": self.synthesizer.sample_rate,
            "text_mode": self.synthesizer.tokenizer.config.mode,
            "vocoder": self.synthesizer.vocoder.name,
            "options": {
                f.name: {"default": getattr(options, f.name), "type": hints[f.name].__name__}
                for f in dataclasses.fields(options)
            },
        }


def voice_name(spec: str) -> tuple[str, str]:
    """``NAME=PATH`` -> (NAME, PATH); ``PATH`` -> the run or release folder's name and PATH."""
    name, separator, path = spec.partition("=")
    if separator and name.strip() and path.strip():
        return name.strip(), path.strip()
    resolved = Path(spec)
    if resolved.is_file() and resolved.parent.name == "checkpoints":
        return resolved.parent.parent.name, spec
    return (resolved.stem if resolved.is_file() else resolved.name), spec


def load_voices(
    specs: list[str], vocoder: str | None = None, device: str = "cpu", lexicon: str | None = None
) -> dict[str, Voice]:
    """Loads every voice of ``specs`` (``PATH`` or ``NAME=PATH``); two voices of the same name are an error."""
    voices: dict[str, Voice] = {}
    for spec in specs:
        name, path = voice_name(spec)
        if name in voices:
            raise ValueError(f"two voices are named {name!r}; name them with --checkpoint NAME=PATH")
        synthesizer = Synthesizer.from_checkpoint(path, vocoder=vocoder, device=device, lexicon=lexicon)
        voices[name] = Voice(name, path, synthesizer)
    return voices
