"""A prepared data folder opened for one set of audio settings: its description, manifests, features and the
durations stored under each spine.

Training, vocoder training, teacher-forced dumps and evaluation all open a prepared folder through
:func:`open_prepared`, which refuses a folder whose preparation did not finish and one whose features were made
with other audio settings.

``tts-gen align`` stores the alignment durations of every utterance under one trained spine (text encoder +
duration predictor) in ``alignments/<spine id>.json``; the file names its spine, so durations are never used
with another one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.data.features import FeatureStore, feature_key
from tts_gen.data.manifest import PreparedInfo, Utterance, check_complete, read_manifest, read_prepared_info
from tts_gen.errors import TTSGenError
from tts_gen.files import write_json


class AudioSettingsMismatch(TTSGenError):
    """A prepared data folder (or dumped mels) was made with other audio settings than the model's."""


class MissingAlignments(TTSGenError):
    """No durations are stored for a spine in a prepared data folder, or they belong to another spine."""


@dataclass
class PreparedData:
    """``root``: the folder; ``info``: its ``prepare.json``; ``features``: its cache for the audio settings."""

    root: Path
    info: PreparedInfo
    features: FeatureStore

    def manifest(self, split: str) -> list[Utterance]:
        """The rows of ``<split>.jsonl``."""
        return read_manifest(self.root / f"{split}.jsonl")

    def alignments_path(self, spine_id: str) -> Path:
        return self.root / "alignments" / f"{spine_id}.json"

    def store_durations(self, spine: dict, durations: dict[str, list[int]]) -> Path:
        """Writes the durations (frames per token, by utterance id) aligned under ``spine`` (its ``id``, checkpoint
        and step); returns the file."""
        path = self.alignments_path(spine["id"])
        write_json(path, {"spine": spine, "feature_key": self.info.feature_key, "durations": durations})
        return path

    def stored_durations(self, spine_id: str) -> dict[str, list[int]]:
        """The durations stored under the spine ``spine_id``; missing ones, or a file of another spine or other
        features, are a :class:`MissingAlignments` error that says what to run."""
        path = self.alignments_path(spine_id)
        if not path.is_file():
            raise MissingAlignments(
                f"{self.root} holds no durations aligned under the spine {spine_id}; run "
                f"`tts-gen align --checkpoint SPINE_RUN --data {self.root}` with that spine first"
            )
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("spine", {}).get("id") != spine_id or stored.get("feature_key") != self.info.feature_key:
            raise MissingAlignments(f"{path} holds durations of another spine or other features; align again")
        return stored["durations"]


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
