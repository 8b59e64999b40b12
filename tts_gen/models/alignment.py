"""Monotonic alignment search (MAS) and everything that turns durations into frames.

MAS (Glow-TTS, Kim et al., 2020) finds the monotonic, surjective alignment between text tokens and mel
frames that maximizes the log-likelihood of the target mel under the prior ``N(mu_x, I)`` of each token, as
Grad-TTS and Matcha-TTS do. The dynamic program has three implementations that give the same durations, bit for bit:

* on the host, a numba-compiled loop (JIT, no build step; the machine code is cached beside the module, so only the
  first process compiles it, 2.6 s on 2 CPU cores; where no folder is writable, every process does) over each
  utterance. Parts of the batch are searched at the same time by ``torch.get_num_threads()`` Python threads (the
  compiled loop releases the GIL), not by numba's parallel (OpenMP) layer, which resets the thread count of torch's
  OpenMP pool. Each utterance is searched alone, so the result does not depend on the number of threads;
* with torch ops on the tensor's own device (the default for CUDA tensors without Triton: the (B, T_text, T_mel)
  matrix never crosses to the host, and nothing waits for the device). A loop over the mel frames updates the
  (B, T_text) column of path scores of the whole batch at once, in the numba loop's arithmetic, and keeps one bool
  per cell, "this token's best path came from the previous token", from which a loop back over the frames reads the
  alignment;
* as one Triton kernel (:mod:`tts_gen.models.alignment_triton`, the default for CUDA tensors where Triton is
  installed): one program per utterance runs the same loop over the frames and the walk back without a launch per
  frame.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

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


def _compiled(function):
    """numba's nopython JIT of ``function``, without the GIL, its machine code cached on disk; where numba finds no
    writable folder for the cache (a read-only install and home), compiled in each process instead of failing at
    import."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(function)


@_compiled
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


@_compiled
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


SearchMethod = Literal["auto", "numba", "torch", "triton"]


def search_durations(
    log_likelihood: torch.Tensor,
    x_lengths: torch.Tensor,
    y_lengths: torch.Tensor,
    threads: int | None = None,
    method: SearchMethod = "auto",
) -> torch.Tensor:
    """The most likely monotonic alignment as durations: (B, T_text) int64 frames per token on the input's
    device, zero past each item's tokens (arguments as :func:`maximum_path`)."""
    _check_lengths(x_lengths, y_lengths)
    if method == "auto":
        method = _search_method(log_likelihood.device)
    if method == "triton":
        from tts_gen.models.alignment_triton import search_durations_triton

        return search_durations_triton(log_likelihood, x_lengths, y_lengths)
    if method == "torch":
        return _search_durations_torch(log_likelihood, x_lengths, y_lengths)
    if method != "numba":
        raise ValueError(f"unknown search method {method!r}; expected 'auto', 'numba', 'torch' or 'triton'")
    return _search_durations_numba(log_likelihood, x_lengths, y_lengths, threads)


def _search_method(device: torch.device, triton: bool | None = None) -> Literal["numba", "torch", "triton"]:
    """The search that ``method="auto"`` runs for a matrix on ``device``: on a CUDA device (no copy to the host)
    the Triton kernel when ``triton`` (default: whether Triton can run there), else torch ops; the compiled loop
    elsewhere."""
    if device.type != "cuda":
        return "numba"
    if triton is None:
        from tts_gen.models.alignment_triton import triton_available

        triton = triton_available(device) and triton_agrees(str(device))
    return "triton" if triton else "torch"


@functools.cache
def triton_agrees(device: str) -> bool:
    """Whether the Triton kernel finds the torch search's durations on ``device``, checked once per device and
    process on a small batch of random and tied log-likelihoods of several lengths (one wait for the device); if
    not, a warning says so and ``method="auto"`` keeps to the torch search there."""
    from tts_gen.models import alignment_triton

    generator = torch.Generator().manual_seed(0)
    value = torch.randn(6, 48, 160, generator=generator)
    value[0] = torch.randint(0, 3, (48, 160), generator=generator).float()  # many tied paths
    x_lengths = torch.tensor([48, 48, 30, 1, 17, 40])
    y_lengths = torch.tensor([160, 48, 100, 9, 160, 121])
    on_device = [t.to(device) for t in (value, x_lengths, y_lengths)]
    agree = torch.equal(alignment_triton.search_durations_triton(*on_device), _search_durations_torch(*on_device))
    if not agree:
        warnings.warn(
            f"the Triton alignment kernel disagrees with the torch search on {device}; using the torch search",
            stacklevel=2,
        )
    return agree


def _check_lengths(x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> None:
    """Raises ValueError when an item has fewer frames than tokens; on a CUDA device the check is queued with the
    device's work (a device-side assertion) instead of waiting for it."""
    fewer = y_lengths < x_lengths
    if fewer.is_cuda:
        torch._assert_async(~fewer.any(), "an utterance has fewer mel frames than tokens; it cannot be aligned")
    elif bool(fewer.any()):
        raise ValueError("an utterance has fewer mel frames than tokens; it cannot be aligned")


def _search_durations_numba(
    log_likelihood: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor, threads: int | None
) -> torch.Tensor:
    """:func:`search_durations` by the compiled loop, on the host, in ``threads`` threads."""
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


def _search_durations_torch(
    log_likelihood: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor
) -> torch.Tensor:
    """:func:`search_durations` by torch ops on the input's device, without waiting for it."""
    value = log_likelihood.detach().float()
    batch, t_text, t_mel = value.shape
    if t_text == 0 or t_mel == 0:
        return torch.zeros(batch, t_text, dtype=torch.long, device=value.device)
    advances = torch.empty(t_mel, batch, t_text, dtype=torch.bool, device=value.device)
    for y, (_, advance) in enumerate(_path_columns(value)):
        advances[y] = advance
    return _backtrack(advances, x_lengths.to(value.device), y_lengths.to(value.device))


def _path_columns(value: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The forward pass of MAS over a batch, one mel frame at a time, as the numba loop computes it.

    Args:
        value: (B, T_text, T_mel) float32 log-likelihoods.

    Yields:
        For each frame y: the (B, T_text) float32 path scores of column y, and the (B, T_text) bool "advance":
        the backtrack, standing on token x at frame y, moves to token x - 1 (x == y, or the previous column's
        score of x - 1 is strictly above that of x: ties keep the current token; never at x == 0).

    The recurrence does not depend on the lengths: each item's valid cells, ``x`` in
    ``[max(0, t_x + y - t_y), min(t_x, y + 1))``, only read valid cells of the previous column, so padding, whatever
    its values, never reaches them. The sums are made as in the numba loop, in float64 (where the missing
    predecessor is the float64 -1e30) and rounded to float32, so that the scores are the same bits.
    """
    batch, t_text, t_mel = value.shape
    tokens = torch.arange(t_text, device=value.device)
    no_predecessor = torch.full((batch, 1), NEG_INF, dtype=torch.float64, device=value.device)
    never_at_first = torch.zeros(batch, 1, dtype=torch.bool, device=value.device)
    start = torch.where(tokens == 0, 0.0, NEG_INF).to(torch.float64)  # (T_text,) every path starts at (0, 0)
    scores = (value[:, :, 0].double() + start).float()
    yield scores, (tokens > 0).expand(batch, t_text)
    for y in range(1, t_mel):
        previous = scores.double()
        stay = previous.masked_fill(tokens >= y, NEG_INF) if y < t_text else previous
        advance_from = torch.cat([no_predecessor, previous[:, :-1]], dim=1)
        scores = (value[:, :, y].double() + torch.maximum(stay, advance_from)).float()
        advance = torch.cat([never_at_first, previous[:, 1:] < previous[:, :-1]], dim=1)
        yield scores, (advance | (tokens >= y)) if y < t_text else advance


def _backtrack(advances: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> torch.Tensor:
    """(B, T_text) int64 durations read back from the last frame of each item, one token index per item.

    Args:
        advances: (T_mel, B, T_text) bool, the decisions of :func:`_path_columns`.
        x_lengths, y_lengths: (B,) tokens and frames per item, on the decisions' device.
    """
    t_mel, batch, t_text = advances.shape
    in_item = torch.arange(t_mel, device=advances.device) < y_lengths.unsqueeze(1)  # (B, T_mel)
    index = (x_lengths.long() - 1).clamp(min=0)  # (B,) each item starts on its last token
    token_of_frame = torch.empty(batch, t_mel, dtype=torch.long, device=advances.device)
    for y in range(t_mel - 1, -1, -1):
        token_of_frame[:, y] = index
        moves = advances[y].gather(1, index.unsqueeze(1)).squeeze(1) & in_item[:, y]
        index = index - moves.long()
    durations = torch.zeros(batch, t_text, dtype=torch.long, device=advances.device)
    return durations.scatter_add_(1, token_of_frame, in_item.long())


def maximum_path(
    log_likelihood: torch.Tensor,
    x_lengths: torch.Tensor,
    y_lengths: torch.Tensor,
    threads: int | None = None,
    method: SearchMethod = "auto",
) -> torch.Tensor:
    """The most likely monotonic alignment.

    Args:
        log_likelihood: (B, T_text, T_mel) score of each frame under each token.
        x_lengths: (B,) tokens per item; y_lengths: (B,) frames per item (>= tokens).
        threads: utterances searched at the same time (default ``torch.get_num_threads()``) by the numba search;
            the result is the same.
        method: ``"numba"`` (on the host), ``"torch"`` or ``"triton"`` (on the input's device) or ``"auto"``
            (triton for a CUDA tensor where Triton is installed, else torch; numba otherwise); the result is the same.

    Returns:
        (B, T_text, T_mel) 0/1 alignment on the input's device, zero outside the lengths.
    """
    durations = search_durations(log_likelihood, x_lengths, y_lengths, threads, method)
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
