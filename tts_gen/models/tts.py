"""The acoustic model: shared text encoder + aligner + a decoder of any registered family.

Training (Grad-TTS / Matcha-TTS recipe of alignment in mel space, Popov et al., 2021; Mehta et al., 2024):

1. the encoder gives a prior mean ``mu_x`` per token and log-durations;
2. monotonic alignment search between ``mu_x`` and the target mel (or external durations) gives integer
   durations, from which ``mu_y = expand(mu_x, durations)`` is the frame-level condition ``cond``;
3. the loss is the encoder's prior and duration terms (the same for every family) plus the decoder's terms, taken
   on the decoder's loss window (``decoder.segment_frames``: one random window per utterance, or the whole).

Mels are normalized per channel with the training statistics (model buffers) before the encoder and decoder
see them; :meth:`TTSModel.synthesize` returns raw natural-log mels for the vocoder.

In the shared protocol (:meth:`TTSModel.freeze_encoder`) the encoder and its duration predictor come from a
trained spine and stay as they are, the durations come with the batch (stored once under that spine by
``tts-gen align``), and the loss is the decoder's alone: every family of one spine sees the same durations and
condition, so differences between them are their decoders'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from tts_gen.data.dataset import TTSBatch
from tts_gen.data.features import MelStats
from tts_gen.models.alignment import (
    align,
    duration_loss,
    expand,
    lengthen_last_token,
    predicted_durations,
    prior_loss,
)
from tts_gen.models.decoders.base import AdversarialDecoder, DecoderConfig
from tts_gen.models.decoders.registry import build_decoder
from tts_gen.models.encoder import EncoderConfig, TextEncoder
from tts_gen.models.layers.masks import cut_segments, masked_mean_per_item, sequence_mask
from tts_gen.trainable import AdversarialTerms, Sample, StepOutput


@dataclass
class AlignerConfig:
    """``mas``: monotonic alignment search at every step; ``external``: durations from the manifest."""

    kind: Literal["mas", "external"] = "mas"


@dataclass
class TTSConfig:
    """The acoustic model: ``decoder.family`` picks the generative family."""

    decoder: DecoderConfig
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    aligner: AlignerConfig = field(default_factory=AlignerConfig)


@dataclass
class Synthesis:
    """mel: raw log-mel (B, n_mels, T), zero past ``lengths`` (B,); durations (B, T_text) in frames."""

    mel: torch.Tensor
    lengths: torch.Tensor
    durations: torch.Tensor


def trim_durations(durations: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """Shortens durations (B, T_text) from the end so that each row sums to at most ``totals`` (B,)."""
    ends = durations.cumsum(-1).clamp(max=totals.unsqueeze(-1))
    return torch.diff(ends, dim=-1, prepend=torch.zeros_like(ends[:, :1]))


class TTSModel(nn.Module):
    """Encoder + aligner + decoder, trainable by the trainer (see :mod:`tts_gen.trainable`).

    Validation chooses checkpoints on ``mel_l1`` (:meth:`validation_error`), the same measure for every family.
    """

    validation_metric = "mel_l1"

    def __init__(self, config: TTSConfig, num_symbols: int, n_mels: int, mel_stats: MelStats | None = None):
        super().__init__()
        self.config = config
        self.encoder_frozen = False
        self.encoder = TextEncoder(config.encoder, num_symbols, n_mels)
        self.decoder = build_decoder(config.decoder, n_mels)
        mean, std = mel_stats.tensors() if mel_stats else (torch.zeros(n_mels, 1), torch.ones(n_mels, 1))
        self.register_buffer("mel_mean", mean)
        self.register_buffer("mel_std", std)

    @property
    def discriminator(self) -> nn.Module | None:
        return self.decoder.discriminator if isinstance(self.decoder, AdversarialDecoder) else None

    @property
    def frame_multiple(self) -> int:
        return self.decoder.frame_multiple

    def loss_keys(self) -> tuple[str, ...]:
        encoder_terms = () if self.encoder_frozen else ("encoder/prior", "encoder/duration")
        return (*encoder_terms, *self.decoder.loss_keys())

    def freeze_encoder(self) -> None:
        """Keeps the encoder and its duration predictor as they are (no gradients, evaluation mode); training
        then takes the durations from the batch and returns the decoder's loss terms only."""
        self.encoder.requires_grad_(False)
        self.encoder_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True) -> TTSModel:
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self

    @property
    def durations_from_batch(self) -> bool:
        return self.encoder_frozen or self.config.aligner.kind == "external"

    def normalize(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.mel_mean) / self.mel_std

    def denormalize(self, mel: torch.Tensor) -> torch.Tensor:
        return mel * self.mel_std + self.mel_mean

    def condition(self, batch: TTSBatch):
        """Encoder + aligner on a training batch.

        Returns:
            (encoder output, durations (B, T_text), cond (B, n_mels, T), y (B, n_mels, T) normalized target,
            y_mask (B, 1, T)); lengths are trimmed to the decoder's frame multiple.
        """
        x_host, y_host = batch.lengths_on_host()  # checked and measured on the host: no wait for the device
        y_host = y_host // self.frame_multiple * self.frame_multiple
        short = (y_host < x_host).nonzero().flatten().tolist()
        if short:
            raise ValueError(
                f"utterance {', '.join(batch.ids[i] for i in short)} has fewer mel frames than tokens; "
                "leave it out of the data (tts-gen data prepare --skip-bad) or check its audio settings"
            )
        max_frames = int(y_host.max())
        y_lengths = batch.y_lengths // self.frame_multiple * self.frame_multiple
        y_mask = sequence_mask(y_lengths, max_frames)
        y = self.normalize(batch.y[..., :max_frames]) * y_mask
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.encoder_frozen):
            enc = self.encoder(batch.x, batch.x_lengths)
        if self.durations_from_batch:
            if batch.durations is None:
                raise ValueError("durations must come with the batch (stored or external), but it carries none")
            durations = trim_durations(batch.durations, y_lengths)
        else:
            durations = align(enc.mu_x, y, batch.x_lengths, y_lengths)
        cond = expand(enc.mu_x, durations, max_frames)
        return enc, durations, cond, y, y_mask

    def forward(self, batch: TTSBatch) -> StepOutput:
        """Training losses: ``encoder/prior``, ``encoder/duration`` (unless the encoder is frozen) and the
        decoder's terms."""
        enc, durations, cond, y, y_mask = self.condition(batch)
        terms = {}
        if not self.encoder_frozen:
            terms["encoder/prior"] = prior_loss(y, cond, y_mask)
            terms["encoder/duration"] = duration_loss(enc.log_durations, durations, enc.x_mask)
        cond, y_mask, y = cut_segments(cond, y_mask, y, self.decoder.config.segment_frames)  # the loss window
        out = self.decoder.loss(cond, y_mask, y)
        terms.update(out.terms)
        adversarial = None
        if self.discriminator is not None:
            adversarial = AdversarialTerms(cond=cond, mask=y_mask, real=y, fake=out.mel)
        return StepOutput(terms=terms, adversarial=adversarial)

    def discriminator_loss(self, adversarial: AdversarialTerms) -> dict[str, torch.Tensor]:
        return self.decoder.discriminator_loss(adversarial)

    def adversarial_loss(self, adversarial: AdversarialTerms) -> dict[str, torch.Tensor]:
        return self.decoder.adversarial_loss(adversarial)

    @torch.no_grad()
    def synthesize(
        self, x: torch.Tensor, x_lengths: torch.Tensor, options: Any = None, length_scale: float = 1.0
    ) -> Synthesis:
        """Token ids (B, T_text) -> raw log-mel with predicted durations (``length_scale`` > 1 is slower)."""
        options = self.decoder.options() if options is None else options
        cond, mask, durations = self.condition_from_text(x, x_lengths, length_scale)
        mel = self.decoder.generate(cond, mask, options)
        lengths = durations.sum(-1)
        spoken = sequence_mask(lengths, mel.shape[-1])  # without the frames added for the decoder's multiple
        return Synthesis(mel=self.denormalize(mel) * spoken, lengths=lengths, durations=durations)

    def condition_from_text(self, x: torch.Tensor, x_lengths: torch.Tensor, length_scale: float = 1.0):
        """Token ids (B, T_text) -> (cond (B, n_mels, T), mask (B, 1, T), durations (B, T_text)).

        ``durations`` are the predicted ones, the same for every family of one spine; the decoder's condition
        and mask lengthen each item's last token up to the family's frame multiple (the flow's squeeze), and
        :meth:`synthesize` drops those frames again."""
        enc = self.encoder(x, x_lengths)
        durations = predicted_durations(enc.log_durations, enc.x_mask, length_scale)
        decoded = lengthen_last_token(durations, enc.x_mask, self.frame_multiple)
        mask = sequence_mask(decoded.sum(-1))
        return expand(enc.mu_x, decoded, mask.shape[-1]), mask, durations

    @torch.no_grad()
    def trajectory(self, x: torch.Tensor, x_lengths: torch.Tensor, options: Any = None) -> list:
        """How the decoder crosses from its starting point to the mel for the text ``x`` (one item): (label,
        state (C, T)) pairs (see :meth:`Decoder.trajectory`), in the normalized mel space or the latent space."""
        options = self.decoder.options() if options is None else options
        cond, mask, _ = self.condition_from_text(x[:1], x_lengths[:1])
        return [(label, state[0]) for label, state in self.decoder.trajectory(cond, mask, options)]

    @torch.no_grad()
    def teacher_forced(self, batch: TTSBatch, options: Any = None) -> Synthesis:
        """Raw log-mel generated with the aligner's durations, frame-aligned with the target audio."""
        options = self.decoder.options() if options is None else options
        _, durations, cond, _, mask = self.condition(batch)
        mel = self.decoder.generate(cond, mask, options)
        return Synthesis(mel=self.denormalize(mel) * mask, lengths=mask.sum((1, 2)).long(), durations=durations)

    @torch.no_grad()
    def align_durations(self, batch: TTSBatch) -> torch.Tensor:
        """Monotonic alignment durations (B, T_text) of each whole utterance under this model's encoder, in
        fp32 whatever the autocast (what ``tts-gen align`` stores)."""
        mask = sequence_mask(batch.y_lengths, batch.y.shape[-1])
        enc = self.encoder(batch.x, batch.x_lengths)
        return align(enc.mu_x, self.normalize(batch.y) * mask, batch.x_lengths, batch.y_lengths)

    @torch.no_grad()
    def validation_error(self, batch: TTSBatch) -> torch.Tensor:
        """Per item (B,): the mean absolute error, in natural-log mel units per bin, between the recording's mel
        and the free-running decoder's (at the aligner's or the stored durations, default sampling options, the
        caller's random state): one measure for every family, independent of its loss."""
        synthesis = self.teacher_forced(batch)
        frames = synthesis.mel.shape[-1]
        mask = sequence_mask(synthesis.lengths, frames)
        return masked_mean_per_item((synthesis.mel - batch.y[..., :frames]).abs(), mask)

    @torch.no_grad()
    def validation_sample(self, batch: TTSBatch) -> Sample:
        """The first item of ``batch`` synthesized from its text, next to its recording's mel."""
        first = batch.x[:1, : int(batch.x_lengths[0])]
        synthesis = self.synthesize(first, batch.x_lengths[:1])
        return Sample(
            target_mel=batch.y[0, :, : int(batch.y_lengths[0])],
            predicted_mel=synthesis.mel[0, :, : int(synthesis.lengths[0])],
        )
