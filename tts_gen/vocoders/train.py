"""Training HiFi-GAN with the one trainer of tts_gen (``tts-gen train-vocoder``).

:class:`HiFiGANModel` is a trainable model in the sense of :mod:`tts_gen.train.interface`: its forward cuts
random segments (``vocoder.segment_samples``, HiFi-GAN: 8192 samples) from whole utterances with the torch
random generator of the main process (saved in checkpoints, so a resumed run is exact), runs the generator
and returns the mel-L1 term; the trainer then steps the discriminators on ``discriminator_loss`` and the
generator on the mel-L1, least-squares adversarial and feature-matching terms (Kong et al., 2020: weights
45, 1 and 2 in ``train.loss_weights``). In evaluation mode the forward vocodes whole utterances instead.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from tts_gen.audio import AudioConfig, mel_spectrogram
from tts_gen.config import ConfigError, from_dict, save_config, to_dict
from tts_gen.data.features import FeatureStore, feature_key
from tts_gen.data.manifest import read_prepared_info
from tts_gen.models.decoders.base import AdversarialTerms
from tts_gen.models.layers.masks import random_segments, sequence_mask
from tts_gen.train.checkpoint import CheckpointError, latest_checkpoint, load_checkpoint, load_submodules, resolve_checkpoint
from tts_gen.train.interface import Sample, StepOutput
from tts_gen.vocoders.config import HiFiGANConfig, VocoderExperimentConfig, load_vocoder_experiment
from tts_gen.vocoders.data import MelSource, VocoderBatch, VocoderDataset, collate_vocoder
from tts_gen.vocoders.discriminators import (
    HiFiGANDiscriminator,
    discriminator_lsgan_loss,
    feature_matching_loss,
    generator_lsgan_loss,
)
from tts_gen.vocoders.hifigan import HiFiGANGenerator


@dataclass
class Segments:
    """Random training windows: mel (B, n_mels, S / hop), audio (B, 1, S), mask (B, 1, S / hop) of the
    frames that lie inside their utterance (shorter utterances are padded with silence)."""

    mel: torch.Tensor
    audio: torch.Tensor
    mask: torch.Tensor


def cut_segments(batch: VocoderBatch, segment_frames: int, audio: AudioConfig) -> Segments:
    """Cuts one random window of ``segment_frames`` frames (and its samples) from each utterance.

    The audio is folded into frames so that one call of the shared ``random_segments`` cuts mel and audio
    at the same place; it draws from the torch random generator.
    """
    batch_size, n_mels, frames = batch.mel.shape
    hop = audio.hop_length
    folded = batch.audio.view(batch_size, frames, hop).transpose(1, 2)  # (B, hop, T): column i = frame i
    windows, starts = random_segments(torch.cat([batch.mel, folded], dim=1), batch.lengths, segment_frames)
    mask = sequence_mask((batch.lengths - starts).clamp(max=segment_frames), segment_frames)  # (B, 1, S_f)
    mel = windows[:, :n_mels] * mask + audio.log_floor * (1 - mask)  # padding is silence, not log-mel 0
    wav = windows[:, n_mels:].transpose(1, 2).reshape(batch_size, 1, segment_frames * hop)  # (B, 1, S_f * hop)
    return Segments(mel=mel, audio=wav, mask=mask)


def masked_mel_l1(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, audio: AudioConfig) -> torch.Tensor:
    """Mean absolute log-mel difference over the valid frames; fake, real (B, 1, T * hop), mask (B, 1, T)."""
    difference = (mel_spectrogram(fake[:, 0], audio) - mel_spectrogram(real[:, 0], audio)).abs()  # (B, n_mels, T)
    return (difference * mask).sum() / (mask.sum() * difference.shape[1]).clamp(min=1)


class HiFiGANModel(nn.Module):
    """Generator + discriminators as one trainable model for :class:`tts_gen.train.trainer.Trainer`.

    Args:
        config: the vocoder section of the run's config.
        audio: the audio settings of the mels it inverts.
    """

    def __init__(self, config: HiFiGANConfig, audio: AudioConfig):
        super().__init__()
        self.config = config
        self.audio = audio
        self.generator = HiFiGANGenerator(config.generator, audio.n_mels)
        self.discriminator = HiFiGANDiscriminator(config.discriminator)
        self.loss_audio = dataclasses.replace(audio, f_max=config.loss_f_max or audio.sample_rate / 2)

    def forward(self, batch: VocoderBatch) -> StepOutput:
        """Training: random segments, ``vocoder/mel_l1`` and what the adversarial steps need; evaluation:
        whole utterances and ``vocoder/mel_l1`` only."""
        if not self.training:
            mask = sequence_mask(batch.lengths, batch.mel.shape[-1])  # (B, 1, T)
            mel = batch.mel * mask + self.audio.log_floor * (1 - mask)
            fake = self.generator(mel) * mask.repeat_interleave(self.audio.hop_length, dim=-1)
            real = batch.audio.unsqueeze(1)
            return StepOutput({"vocoder/mel_l1": masked_mel_l1(fake, real, mask, self.loss_audio)})
        segments = cut_segments(batch, self.config.segment_samples // self.audio.hop_length, self.audio)
        sample_mask = segments.mask.repeat_interleave(self.audio.hop_length, dim=-1)  # (B, 1, S)
        fake = self.generator(segments.mel) * sample_mask
        terms = {"vocoder/mel_l1": masked_mel_l1(fake, segments.audio, segments.mask, self.loss_audio)}
        adversarial = AdversarialTerms(cond=segments.mel, mask=sample_mask, real=segments.audio, fake=fake)
        return StepOutput(terms=terms, adversarial=adversarial)

    def discriminator_loss(self, adversarial: AdversarialTerms) -> dict[str, torch.Tensor]:
        """``vocoder/discriminator``: the least-squares loss of every sub-discriminator (fake detached)."""
        real = self.discriminator(adversarial.real)
        fake = self.discriminator(adversarial.fake)
        return {"vocoder/discriminator": discriminator_lsgan_loss(real, fake)}

    def adversarial_loss(self, adversarial: AdversarialTerms) -> dict[str, torch.Tensor]:
        """``vocoder/adversarial`` and ``vocoder/feature_matching`` of the generator."""
        fake = self.discriminator(adversarial.fake)
        with torch.no_grad():
            real = self.discriminator(adversarial.real)
        return {
            "vocoder/adversarial": generator_lsgan_loss(fake),
            "vocoder/feature_matching": feature_matching_loss(real, fake),
        }

    @torch.no_grad()
    def validation_sample(self, batch: VocoderBatch) -> Sample:
        """The first utterance of ``batch`` vocoded whole, with the mel of the result."""
        frames = int(batch.lengths[0])
        mel = batch.mel[:1, :, :frames]
        wav = self.generator(mel)[0, 0].float()
        return Sample(target_mel=mel[0], predicted_mel=mel_spectrogram(wav, self.audio), audio=wav)


def sample_audio(audio: AudioConfig):
    """The trainer's ``sample_audio``: the vocoded waveform of a :class:`Sample` and its rate."""

    def from_sample(sample: Sample):
        return sample.audio, audio.sample_rate

    return from_sample


def check_mels_dir(mels_dir: Path, audio: AudioConfig) -> None:
    """Dumped mels must have been made with the run's audio settings (``dump.json`` says which)."""
    info_path = mels_dir / "dump.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{mels_dir} has no dump.json; write the mels with `tts-gen dump-mels`")
    dumped = from_dict(AudioConfig, json.loads(info_path.read_text())["audio"], "audio")
    if dumped != audio:
        raise ConfigError(f"the mels in {mels_dir} were made with other audio settings than the vocoder config's")


def vocoder_datasets(config: VocoderExperimentConfig, data_dir: Path):
    """Train and validation datasets of a prepared data folder (ground-truth or dumped mels)."""
    from tts_gen.train.trainer import TrainData

    info = read_prepared_info(data_dir)
    if info.feature_key != feature_key(config.audio):
        raise ConfigError(
            f"{data_dir} was prepared with other audio settings than the vocoder config's; run "
            "`tts-gen data prepare --config CONFIG.yaml` into a new data folder"
        )
    mels_dir = Path(config.data.mels_dir) if config.data.mels_dir else None
    if mels_dir is not None:
        check_mels_dir(mels_dir, config.audio)
    mels = MelSource(FeatureStore(data_dir, config.audio), mels_dir)
    train = VocoderDataset.from_split(data_dir, "train", mels, config.audio)
    val = VocoderDataset.from_split(data_dir, "val", mels, config.audio)
    return TrainData(train, val, collate_vocoder, train.lengths, val.lengths), info


def vocoder_payload(path: str | Path) -> dict:
    """The payload of a vocoder checkpoint (a run folder's best, or a file); another kind is an error."""
    payload = load_checkpoint(resolve_checkpoint(path))
    if payload.get("kind") != "vocoder":
        raise CheckpointError(f"{path} is a {payload.get('kind')} checkpoint, not a vocoder")
    return payload


def initialize_from(model: HiFiGANModel, config: VocoderExperimentConfig, verbose: bool = True) -> None:
    """Loads ``train.init_modules`` of ``model`` from the vocoder ``train.init_from`` (same sizes and audio);
    ``verbose`` prints what was copied (the main process of a distributed run only)."""
    init_from = config.train.init_from
    payload = vocoder_payload(init_from)
    source = from_dict(VocoderExperimentConfig, payload["config"])
    if source.audio != config.audio:
        raise ConfigError(f"train.init_from {init_from} was trained with other audio settings")
    copied = load_submodules(model, payload["model"], config.train.init_modules)
    if verbose:
        print(f"initialised {copied} tensors from {init_from} at step {payload['step']}")


def train_vocoder(
    config_path: str | Path,
    data_dir: str | Path,
    run_dir: str | Path,
    overrides: list[str] | None = None,
    device: str = "auto",
    until_step: int | None = None,
):
    """``tts-gen train-vocoder``: trains (or resumes) a vocoder run; returns the final position."""
    from tts_gen.experiment import check_resumable
    from tts_gen.train.distributed import setup_distributed
    from tts_gen.train.trainer import Trainer

    config = load_vocoder_experiment(config_path, overrides)
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    check_resumable(run_dir, config)
    context = setup_distributed(device)
    data, info = vocoder_datasets(config, data_dir)
    torch.manual_seed(config.train.seed)
    model = HiFiGANModel(config.vocoder, config.audio)
    if config.train.init_from and latest_checkpoint(run_dir) is None:
        initialize_from(model, config, context.is_main)
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.yaml")
    metadata = {
        "kind": "vocoder",
        "config": to_dict(config),
        "data": {"corpus": info.corpus, "data_dir": str(data_dir.resolve()), "mels_dir": config.data.mels_dir},
    }
    trainer = Trainer(model, config.train, data, run_dir, metadata, sample_audio(config.audio), context)
    return trainer.fit(until_step)
