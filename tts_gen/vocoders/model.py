"""HiFi-GAN as a model the one trainer of tts_gen trains (generator + discriminators and their losses).

:class:`HiFiGANModel` is a trainable model in the sense of :mod:`tts_gen.trainable`: its forward cuts
random segments (``vocoder.segment_samples``, HiFi-GAN: 8192 samples) from whole utterances with the torch
random generator of the main process (saved in checkpoints, so a resumed run is exact), runs the generator
and returns the mel-L1 term; the trainer then steps the discriminators on ``discriminator_loss`` and the
generator on the mel-L1, least-squares adversarial and feature-matching terms (Kong et al., 2020: weights
45, 1 and 2 in ``train.loss_weights``). In evaluation mode the forward vocodes whole utterances instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from tts_gen.audio import AudioConfig, mel_spectrogram
from tts_gen.models.layers.masks import masked_mean, masked_mean_per_item, random_segments, sequence_mask
from tts_gen.trainable import AdversarialTerms, Sample, StepOutput
from tts_gen.vocoders.config import HiFiGANConfig
from tts_gen.vocoders.data import VocoderBatch
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


def cut_vocoder_segments(batch: VocoderBatch, segment_frames: int, audio: AudioConfig) -> Segments:
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


def mel_difference(fake: torch.Tensor, real: torch.Tensor, audio: AudioConfig) -> torch.Tensor:
    """|log-mel(fake) - log-mel(real)|: (B, n_mels, T) from waveforms (B, 1, T * hop)."""
    return (mel_spectrogram(fake[:, 0], audio) - mel_spectrogram(real[:, 0], audio)).abs()


class HiFiGANModel(nn.Module):
    """Generator + discriminators as one trainable model for the trainer. Validation chooses checkpoints on the
    mel L1 of whole vocoded utterances (``validation_metric``).

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

    validation_metric = "mel_l1"

    def loss_keys(self) -> tuple[str, ...]:
        return ("vocoder/mel_l1", "vocoder/adversarial", "vocoder/feature_matching", "vocoder/discriminator")

    def forward(self, batch: VocoderBatch) -> StepOutput:
        """Training: random segments, ``vocoder/mel_l1`` and what the adversarial steps need; evaluation:
        whole utterances and ``vocoder/mel_l1`` only."""
        if not self.training:
            difference, mask = self.whole_utterances(batch)
            return StepOutput({"vocoder/mel_l1": masked_mean(difference, mask)})
        segments = cut_vocoder_segments(batch, self.config.segment_samples // self.audio.hop_length, self.audio)
        sample_mask = segments.mask.repeat_interleave(self.audio.hop_length, dim=-1)  # (B, 1, S)
        fake = self.generator(segments.mel) * sample_mask
        difference = mel_difference(fake, segments.audio, self.loss_audio)
        terms = {"vocoder/mel_l1": masked_mean(difference, segments.mask)}
        adversarial = AdversarialTerms(cond=segments.mel, mask=sample_mask, real=segments.audio, fake=fake)
        return StepOutput(terms=terms, adversarial=adversarial)

    def whole_utterances(self, batch: VocoderBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocodes whole utterances: the log-mel difference (B, n_mels, T) to the recordings and its mask (B, 1, T)."""
        mask = sequence_mask(batch.lengths, batch.mel.shape[-1])  # (B, 1, T)
        mel = batch.mel * mask + self.audio.log_floor * (1 - mask)
        fake = self.generator(mel) * mask.repeat_interleave(self.audio.hop_length, dim=-1)
        return mel_difference(fake, batch.audio.unsqueeze(1), self.loss_audio), mask

    @torch.no_grad()
    def validation_error(self, batch: VocoderBatch) -> torch.Tensor:
        """Mean absolute log-mel error of each whole vocoded utterance: (B,)."""
        return masked_mean_per_item(*self.whole_utterances(batch))

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
