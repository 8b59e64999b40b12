"""Matcha-TTS (Mehta et al., ICASSP 2024) as the peer of ``train_speed.py --peer matcha``: its own model at its
published LJSpeech size and its own training step, run from the installed ``matcha-tts`` package (imported here,
so importing this module fails with ImportError where Matcha-TTS or one of its modules is missing).

The training step is the one of its Lightning ``training_step`` (``BaseLightningClass.get_losses``): the sum of
the duration, prior and flow-matching losses of ``MatchaTTS.forward``, backward, gradient clipping at 5.0 (its
trainer's ``gradient_clip_val``) and an Adam step (lr 1e-4); Lightning's logging and hooks are left out. Its batches
are those of its data module: mels normalized with the LJSpeech statistics and padded to a multiple of 4 frames.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version

import torch
from matcha.models.matcha_tts import MatchaTTS
from matcha.utils import monotonic_align
from matcha.utils.model import fix_len_compatibility
from omegaconf import OmegaConf

from tts_gen.data import TTSBatch

VERSION = version("matcha-tts")

# Matcha-TTS v0.0.7.2 (github.com/shivammehta25/Matcha-TTS, commit 289ef51; the package ships no configs):
# configs/model/matcha.yaml with its encoder/default.yaml, decoder/default.yaml and cfm/default.yaml, and
# n_spks / data_statistics / load_durations from configs/data/ljspeech.yaml.
LJSPEECH_MODEL = {
    "n_vocab": 178,
    "n_spks": 1,
    "spk_emb_dim": 64,
    "n_feats": 80,
    "out_size": None,
    "prior_loss": True,
    "use_precomputed_durations": False,
    "data_statistics": {"mel_mean": -5.536622, "mel_std": 2.116101},
    "encoder": {
        "encoder_type": "RoPE Encoder",
        "encoder_params": {
            "n_feats": 80,
            "n_channels": 192,
            "filter_channels": 768,
            "filter_channels_dp": 256,
            "n_heads": 2,
            "n_layers": 6,
            "kernel_size": 3,
            "p_dropout": 0.1,
            "spk_emb_dim": 64,
            "n_spks": 1,
            "prenet": True,
        },
        "duration_predictor_params": {"filter_channels_dp": 256, "kernel_size": 3, "p_dropout": 0.1},
    },
    "decoder": {
        "channels": [256, 256],
        "dropout": 0.05,
        "attention_head_dim": 64,
        "n_blocks": 1,
        "num_mid_blocks": 2,
        "num_heads": 2,
        "act_fn": "snakebeta",
    },
    "cfm": {"name": "CFM", "solver": "euler", "sigma_min": 1e-4},
}
LEARNING_RATE = 1e-4  # configs/model/optimizer/adam.yaml (weight_decay 0)
GRAD_CLIP = 5.0  # configs/trainer/default.yaml: gradient_clip_val
PUBLISHED_PRECISION = "fp16"  # configs/trainer/default.yaml: precision 16-mixed (fp16 autocast, gradient scaler)
SEARCH_MODULE, SEARCH_FUNCTION = monotonic_align, "maximum_path"  # its alignment search (Cython), for a timer


def build_model() -> MatchaTTS:
    """MatchaTTS at its LJSpeech size, with random weights (18.2 M parameters)."""
    config = OmegaConf.create(LJSPEECH_MODEL)  # attribute access and ** as under Hydra
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # diffusers' deprecation of a layer Matcha-TTS uses
        return MatchaTTS(**config)


def matcha_batch(batch: TTSBatch) -> dict[str, torch.Tensor]:
    """The same utterances as Matcha-TTS's data module gives them: normalized mels, padded to 4 frames."""
    stats = LJSPEECH_MODEL["data_statistics"]
    frames = fix_len_compatibility(batch.y.shape[-1])
    y = torch.nn.functional.pad(batch.y, (0, frames - batch.y.shape[-1]))
    mask = torch.arange(frames, device=y.device) < batch.y_lengths[:, None, None]
    y = (y - stats["mel_mean"]) / stats["mel_std"] * mask
    return {"x": batch.x, "x_lengths": batch.x_lengths, "y": y, "y_lengths": batch.y_lengths}


class MatchaStep:
    """One training step of Matcha-TTS on a batch of :func:`matcha_batch`, in ``precision`` on CUDA
    (``fp16`` with a gradient scaler, as Lightning's 16-mixed; ``bf16``; ``fp32``), in fp32 elsewhere."""

    def __init__(self, model: MatchaTTS, device: torch.device, precision: str = PUBLISHED_PRECISION):
        self.model = model.to(device).train()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
        mixed = device.type == "cuda" and precision != "fp32"
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        self.autocast = torch.autocast(device.type, dtype=dtype, enabled=mixed)
        self.scaler = torch.amp.GradScaler(device.type, enabled=mixed and precision == "fp16")

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast:
            losses = self.model(**batch, spks=None, out_size=self.model.out_size, cond=None)
            loss = sum(losses[:3])  # duration, prior and flow-matching losses (then the alignment)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach()
