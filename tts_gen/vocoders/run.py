"""``tts-gen train-vocoder``: a HiFi-GAN run on ground-truth mels or on an acoustic model's dumped mels.

Fine-tuning on decoder output (Kong et al., 2020) starts from a trained vocoder with ``train.init_from`` and
reads the mels of ``tts-gen dump-mels`` from ``data.mels_dir``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tts_gen.audio import AudioConfig
from tts_gen.config import from_dict
from tts_gen.data.prepared import AudioSettingsMismatch, open_prepared
from tts_gen.train.run import RunSpec, train_run
from tts_gen.train.trainer import Position, TrainData
from tts_gen.vocoders.config import VocoderExperimentConfig, load_vocoder_experiment
from tts_gen.vocoders.data import MelSource, VocoderDataset, collate_vocoder
from tts_gen.vocoders.model import HiFiGANModel, sample_audio


def check_mels_dir(mels_dir: Path, audio: AudioConfig) -> None:
    """Dumped mels must have been made with the run's audio settings (``dump.json`` says which)."""
    info_path = mels_dir / "dump.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{mels_dir} has no dump.json; write the mels with `tts-gen dump-mels`")
    dumped = from_dict(AudioConfig, json.loads(info_path.read_text())["audio"], "audio")
    if dumped != audio:
        raise AudioSettingsMismatch(
            f"the mels in {mels_dir} were made with other audio settings than the vocoder config's"
        )


def vocoder_spec(config: VocoderExperimentConfig, data_dir: str | Path) -> RunSpec:
    """The run of ``config`` on a prepared data folder (ground-truth mels, or ``data.mels_dir``)."""
    prepared = open_prepared(data_dir, config.audio)
    mels_dir = Path(config.data.mels_dir) if config.data.mels_dir else None
    if mels_dir is not None:
        check_mels_dir(mels_dir, config.audio)
    mels = MelSource(prepared.features, mels_dir)
    train = VocoderDataset(prepared.manifest("train"), mels, config.audio)
    val = VocoderDataset(prepared.manifest("val"), mels, config.audio)
    data_info = {
        "corpus": prepared.info.corpus,
        "data_dir": str(prepared.root.resolve()),
        "mels_dir": config.data.mels_dir,
    }
    return RunSpec(
        kind="vocoder",
        config=config,
        data=TrainData(train, val, collate_vocoder, train.lengths, val.lengths),
        build_model=lambda: HiFiGANModel(config.vocoder, config.audio),
        sample_audio=sample_audio(config.audio),
        metadata={"data": data_info},
    )


def train_vocoder(
    config_path: str | Path,
    data_dir: str | Path,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    device: str = "auto",
    until_step: int | None = None,
) -> Position:
    """``tts-gen train-vocoder``: trains (or resumes) a vocoder run; returns the final position."""
    spec = vocoder_spec(load_vocoder_experiment(config_path, overrides), data_dir)
    return train_run(spec, run_dir, device, until_step)
