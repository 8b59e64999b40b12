"""Monotonic alignment search (MAS) and everything that turns durations into frames.

MAS (Glow-TTS, Kim et al., 2020) finds the monotonic, surjective alignment between text tokens and mel
frames that maximizes the log-likelihood of the target mel under the prior ``N(mu_x, I)`` of each token, as
Grad-TTS and Matcha-TTS do. The dynamic program runs in a numba-compiled loop (JIT, no build step) over each
utterance; tensors on a GPU are copied to the CPU for it. Parts of the batch are searched at the same time by
``torch.get_num_threads()`` Python threads (the compiled loop releases the GIL), not by numba's parallel (OpenMP)
layer, which resets the thread count of torch's OpenMP pool. Each utterance is searched alone, so the result
does not depend on the number of threads.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import torch

from tts_gen.errors import TTSGenError
from tts_gen.models.layers.masks import round_up
from tts_gen.validation import NonFiniteOutputError, finite_number

NEG_INF = -1e30
MAX_SENTENCE_FRAMES = 8192
"""The longest sentence synthesis produces, in mel frames (95 s at 22,050 Hz with a hop of 256): a longer
prediction (a huge ``length_scale``, a broken duration predictor) is an error before its memory is allocated."""


class SentenceTooLongError(TTSGenError, ValueError):
    """The predicted length of a sentence is above :data:`MAX_SENTENCE_FRAMES`."""


@numba.njit(cache=False, nogil=True)
def _maximum_path_one(value: np.ndarray, durations: np.ndarray, t_x: int, t_y: int) -> None:
    """In place: ``value`` (T_x, T_y) log-likelihoods become path scores, ``durations`` (zeros, >= T_x) get the
    frames of each token on the best alignment.

    Each frame belongs to exactly one token, every token gets at least one frame, and the token index never
    decreases. Ties keep the current token.
    """
    for y in range(t_y):
        for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
            stay = value[x, y - 1] if x < y else NEG_INF
            if x == 0:
                advance = 0.0 if y == 0 else NEG_INF
            else:
                advance = value[x - 1, y - 1]
            value[x, y] += max(stay, advance)
    index = t_x - 1
    for y in range(t_y - 1, -1, -1):
        durations[index] += 1
        if index != 0 and (index == y or value[index, y - 1] < value[index - 1, y - 1]):
            index -= 1


@numba.njit(cache=False, nogil=True)
def _maximum_path_batch(log_likelihood: np.ndarray, durations: np.ndarray, t_xs: np.ndarray, t_ys: np.ndarray) -> None:
    """``durations[b]`` = the best alignment of each item; ``log_likelihood`` (B, T_x, T_y) is only read: each
    item's scores are copied to a scratch array of its own lengths (small enough to stay in the core's cache)."""
    for b in range(log_likelihood.shape[0]):
        value = log_likelihood[b, : t_xs[b], : t_ys[b]].copy()
        _maximum_path_one(value, durations[b], t_xs[b], t_ys[b])


_pools: dict[int, ThreadPoolExecutor] = {}


def _search_pool(threads: int) -> ThreadPoolExecutor:
    """The search's pool of ``threads`` threads, made once and reused by every later call."""
    if threads not in _pools:
        _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="mas")
    return _pools[threads]


def search_durations(
    log_likelihood: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor, threads: int | None = None
) -> torch.Tensor:
    """The most likely monotonic alignment as durations: (B, T_text) int64 frames per token on the input's
    device, zero past each item's tokens (searched on the host; arguments as :func:`maximum_path`)."""
    if bool((y_lengths < x_lengths).any()):
        raise ValueError("an utterance has fewer mel frames than tokens; it cannot be aligned")
    value = log_likelihood.detach().float().cpu().numpy()  # read only
    durations = np.zeros(value.shape[:2], dtype=np.int64)
    t_xs = x_lengths.cpu().numpy().astype(np.int64)
    t_ys = y_lengths.cpu().numpy().astype(np.int64)
    threads = min(torch.get_num_threads() if threads is None else threads, len(value))
    if threads <= 1:
        _maximum_path_batch(value, durations, t_xs, t_ys)
    else:
        parts = np.array_split(np.arange(len(value)), threads)  # contiguous slices: views, not copies
        jobs = [
            _search_pool(threads).submit(
                _maximum_path_batch, value[i[0] : i[-1] + 1], durations[i[0] : i[-1] + 1], t_xs[i], t_ys[i]
            )
            for i in parts
        ]
        for job in jobs:
            job.result()
    return torch.from_numpy(durations).to(log_likelihood.device)  # only (B, T_text) crosses to the device


def maximum_path(
    log_likelihood: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor, threads: int | None = None
) -> torch.Tensor:
    """The most likely monotonic alignment.

    Args:
        log_likelihood: (B, T_text, T_mel) score of each frame under each token.
        x_lengths: (B,) tokens per item; y_lengths: (B,) frames per item (>= tokens).
        threads: utterances searched at the same time (default ``torch.get_num_threads()``); the result is the same.

    Returns:
        (B, T_text, T_mel) 0/1 alignment on the input's device, zero outside the lengths.
    """
    durations = search_durations(log_likelihood, x_lengths, y_lengths, threads)
    return durations_to_path(durations, log_likelihood.shape[-1]).to(log_likelihood.dtype)


def gaussian_log_likelihood(mu_x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log N(y_j; mu_i, I) summed over mel channels, for every token i and frame j.

    Args:
        mu_x: (B, n_mels, T_text) prior means; y: (B, n_mels, T_mel) target.

    Returns:
        (B, T_text, T_mel) log-likelihoods.
    """
    n_mels = mu_x.shape[1]
    mu_x, y = mu_x.float(), y.float()
    mu_sq = (mu_x**2).sum(1).unsqueeze(-1)  # (B, T_text, 1)
    y_sq = (y**2).sum(1).unsqueeze(1)  # (B, 1, T_mel)
    constant = -0.5 * (mu_sq + y_sq + n_mels * math.log(2 * math.pi))  # (B, T_text, T_mel)
    return torch.baddbmm(constant, mu_x.transpose(1, 2), y)  # + (B, T_text, n_mels) @ (B, n_mels, T_mel)


def align(mu_x: torch.Tensor, y: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> torch.Tensor:
    """MAS durations: (B, T_text) integer frames per token, summing to each ``y_lengths``. The log-likelihood is
    computed in fp32 whatever the autocast (as Grad-TTS and Matcha-TTS do): in bf16 a few percent of the token
    durations move by a frame."""
    with torch.no_grad(), torch.autocast(mu_x.device.type, enabled=False):
        return search_durations(gaussian_log_likelihood(mu_x, y), x_lengths, y_lengths)


def durations_to_path(durations: torch.Tensor, max_frames: int | None = None) -> torch.Tensor:
    """(B, T_text) integer durations -> (B, T_text, T_mel) 0/1 hard alignment (token i covers its frames)."""
    ends = durations.cumsum(-1)  # (B, T_text)
    starts = ends - durations
    max_frames = int(ends[:, -1].max()) if max_frames is None else max_frames
    frames = torch.arange(max_frames, device=durations.device).view(1, 1, -1)
    return ((frames >= starts.unsqueeze(-1)) & (frames < ends.unsqueeze(-1))).float()


def expand(h: torch.Tensor, durations: torch.Tensor, max_frames: int | None = None) -> torch.Tensor:
    """Repeats each token's vector for its frames: (B, C, T_text) -> (B, C, T_mel), zero past the lengths."""
    path = durations_to_path(durations, max_frames).to(h.dtype)
    return h @ path  # (B, C, T_text) @ (B, T_text, T_mel)


def predicted_durations(
    log_durations: torch.Tensor,
    x_mask: torch.Tensor,
    length_scale: float | torch.Tensor = 1.0,
    frame_multiple: int = 1,
    max_frames: int = MAX_SENTENCE_FRAMES,
) -> torch.Tensor:
    """Integer durations from predicted log-durations, as Glow-TTS / Grad-TTS do at synthesis.

    ``ceil(exp(log_d) * length_scale)`` frames per token; when the decoder needs lengths in multiples of
    ``frame_multiple``, the missing frames are added to each item's last token.

    Args:
        log_durations: (B, 1, T_text); x_mask: (B, 1, T_text).
        length_scale: a finite number > 0 (> 1 speaks slower), or a tensor (an exported graph's input; then
            neither it nor the length is checked, as a graph cannot raise).
        max_frames: the longest sentence allowed, checked before anything of that length is allocated.

    Returns:
        (B, T_text) long durations, zero on padded tokens, each row summing to >= 1 frame.

    Raises:
        NumberOutOfRangeError: ``length_scale`` is not a finite number > 0.
        SentenceTooLongError: a sentence would be longer than ``max_frames`` frames.
    """
    if isinstance(length_scale, torch.Tensor):
        frames = torch.ceil(torch.exp(log_durations.float()) * x_mask * length_scale)
    else:
        frames = _checked_frames(log_durations, x_mask, length_scale, max_frames)
    return lengthen_last_token(frames.squeeze(1).long(), x_mask, frame_multiple)


def lengthen_last_token(durations: torch.Tensor, x_mask: torch.Tensor, frame_multiple: int) -> torch.Tensor:
    """``durations`` (B, T_text) with each item's last token lengthened so that the item lasts at least one frame
    and a multiple of ``frame_multiple`` frames (x_mask (B, 1, T_text))."""
    totals = durations.sum(-1).clamp(min=1)
    target = round_up(totals, frame_multiple)
    last = x_mask.squeeze(1).long().sum(-1) - 1  # (B,) index of each item's last token
    durations = durations.clone()
    durations[torch.arange(durations.shape[0]), last] += target - durations.sum(-1)
    return durations


def _checked_frames(
    log_durations: torch.Tensor, x_mask: torch.Tensor, length_scale: float, max_frames: int
) -> torch.Tensor:
    """(B, 1, T_text) frames per token, after checking ``length_scale`` and each sentence's total length."""
    length_scale = finite_number(length_scale, "length_scale", minimum=0.0, above_minimum=True)
    frames = torch.ceil(torch.exp(log_durations.float()) * x_mask * length_scale)  # may be inf
    totals = frames.sum((1, 2))  # (B,)
    if bool(torch.isnan(totals).any()):
        raise NonFiniteOutputError("the duration predictor gave non-finite durations; the checkpoint is damaged")
    if float(totals.max()) > max_frames:
        raise SentenceTooLongError(
            f"a sentence would last {float(totals.max()):.0f} frames, more than the maximum of {max_frames} frames "
            f"per sentence; lower length_scale ({length_scale:g}) or split the sentence"
        )
    return frames


def prior_loss(y: torch.Tensor, mu_y: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the target under N(mu_y, I) per mel bin (Grad-TTS's prior loss)."""
    nll = 0.5 * ((y - mu_y) ** 2 + math.log(2 * math.pi)) * y_mask
    return nll.sum() / (y_mask.sum() * y.shape[1])


def duration_loss(log_durations: torch.Tensor, durations: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error between predicted log-durations and ``log(1e-8 + durations)`` over the tokens."""
    target = torch.log(1e-8 + durations.unsqueeze(1).float()) * x_mask
    return ((log_durations - target) ** 2 * x_mask).sum() / x_mask.sum()
