"""The vocoder interface: ``Vocoder(mel) -> wav`` with the :class:`AudioConfig` it expects."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from tts_gen.audio import AudioConfig
from tts_gen.errors import TTSGenError


class VocoderMismatchError(TTSGenError):
    """A vocoder's audio settings differ from the acoustic model's."""


class Vocoder(nn.Module):
    """Raw natural-log mel (B, n_mels, T) -> waveform (B, T * hop) in [-1, 1]."""

    name: str = ""

    def __init__(self, audio: AudioConfig):
        super().__init__()
        self.audio = audio

    def check_audio(self, audio: AudioConfig) -> None:
        """Raises :class:`VocoderMismatchError` unless ``audio`` equals the vocoder's settings."""
        if audio != self.audio:
            differences = [
                f"{name}: model {getattr(audio, name)} vs vocoder {getattr(self.audio, name)}"
                for name in audio.__dataclass_fields__
                if getattr(audio, name) != getattr(self.audio, name)
            ]
            raise VocoderMismatchError(
                f"the {self.name} vocoder was made for other audio settings ({'; '.join(differences)}); "
                "use a vocoder trained with the acoustic model's audio settings"
            )

    def pieces(self, mel: torch.Tensor, chunk_frames: int) -> Iterator[torch.Tensor]:
        """Vocodes one mel (1, n_mels, T) piece by piece, for streaming: waveform pieces (T_i,) that, joined,
        equal ``self(mel)[0]``. A vocoder that cannot vocode in exact pieces (Griffin-Lim) yields one piece."""
        yield self(mel)[0]
