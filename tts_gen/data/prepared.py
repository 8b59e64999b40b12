"""A prepared data folder opened for one set of audio settings: its description, manifests and features.

Training, vocoder training, teacher-forced dumps and evaluation all open a prepared folder through
:func:`open_prepared`, which refuses a folder whose preparation did not finish and one whose features were made
with other audio settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.data.features import FeatureStore, feature_key
from tts_gen.data.manifest import PreparedInfo, Utterance, check_complete, read_manifest, read_prepared_info
from tts_gen.errors import TTSGenError


class AudioSettingsMismatch(TTSGenError):
    """A prepared data folder (or dumped mels) was made with other audio settings than the model's."""


@dataclass
class PreparedData:
    """``root``: the folder; ``info``: its ``prepare.json``; ``features``: its cache for the audio settings."""

    root: Path
    info: PreparedInfo
    features: FeatureStore

    def manifest(self, split: str) -> list[Utterance]:
        """The rows of ``<split>.jsonl``."""
        return read_manifest(self.root / f"{split}.jsonl")


def open_prepared(data_dir: str | Path, audio: AudioConfig) -> PreparedData:
    """Opens ``data_dir`` for ``audio``.

    Raises:
        IncompleteDataError: its preparation did not finish, or its manifests changed since.
        AudioSettingsMismatch: it was prepared with other audio settings.
    """
    root = Path(data_dir)
    info = read_prepared_info(root)
    check_complete(root, info)
    if info.feature_key != feature_key(audio):
        raise AudioSettingsMismatch(
            f"{root} was prepared with other audio settings than the model's; prepare the corpus again with "
            "`tts-gen data prepare --config CONFIG.yaml` into a new data folder"
        )
    return PreparedData(root, info, FeatureStore(root, audio))
