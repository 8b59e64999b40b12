"""Monotonic alignment search (MAS, Glow-TTS, Kim et al., 2020) as one Triton kernel.

One program per utterance walks over its mel frames with the (T_text,) column of path scores as a vector: no
Python loop, no launch per frame, no wait for the device. The column of frame ``y`` is written to a
(B, T_mel, T_text) float32 buffer of path scores; the next frame reads it back at token offset -1 (the "advance"
predecessor) after a barrier, and the same program then walks back over the frames through that buffer to read
the durations. The arithmetic is the numba loop's of :mod:`tts_gen.models.alignment`: each sum is made in float64
(with the float64 -1e30 for a missing predecessor) and rounded to float32, and the backtrack compares the same
float32 scores with the same strict ``<`` (ties keep the current token), so the durations are the same, bit for bit.

Triton is optional: without it this module still imports (and :func:`triton_available` is False); the search
module imports this one only when the Triton search is asked for.
"""

from __future__ import annotations

import os

import torch

try:
    import triton
    import triton.language as tl

    jit = triton.jit
except ImportError:  # the kernel is then never launched
    triton = tl = None

    def jit(fn):
        return fn


from tts_gen.models.alignment import NEG_INF, _search_durations_torch

MAX_TOKENS = 4096
"""The most tokens the kernel holds as one vector; a longer text is searched by the torch ops instead."""


def triton_available(device: torch.device | str = "cuda") -> bool:
    """Whether the Triton search can run on ``device``: a CUDA device that torch sees, and Triton importable."""
    device = torch.device(device)
    return device.type == "cuda" and torch.cuda.is_available() and triton is not None


def search_durations_triton(
    log_likelihood: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor
) -> torch.Tensor:
    """The MAS durations by the Triton kernel, on the input's device, without waiting for it.

    Args:
        log_likelihood: (B, T_text, T_mel) score of each frame under each token (read as float32).
        x_lengths: (B,) tokens per item; y_lengths: (B,) frames per item (>= tokens); any integer dtype.

    Returns:
        (B, T_text) int64 frames per token, zero past each item's tokens: the numba search's durations.
    """
    if log_likelihood.shape[1] > MAX_TOKENS:
        return _search_durations_torch(log_likelihood, x_lengths, y_lengths)
    value = log_likelihood.detach().float().contiguous()
    batch, t_text, t_mel = value.shape
    durations = torch.zeros(batch, t_text, dtype=torch.long, device=value.device)
    if batch == 0 or t_text == 0 or t_mel == 0:
        return durations
    if not value.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError("the Triton search needs a CUDA tensor (or TRITON_INTERPRET=1 to run on the CPU)")
    x_lengths, y_lengths = (lengths.to(value.device).contiguous() for lengths in (x_lengths, y_lengths))
    return _run_kernel(value, x_lengths, y_lengths, durations)[1]


def _run_kernel(
    value: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor, durations: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One launch over the batch: value (B, T_text, T_mel) contiguous float32, lengths (B,) and durations
    (B, T_text) int64 zeros on its device -> the path scores (B, T_mel, T_text) float32 (meaningful in each item's
    valid cells only) and the filled durations."""
    batch, t_text, t_mel = value.shape
    scores = torch.empty(batch, t_mel, t_text, dtype=torch.float32, device=value.device)
    block = max(16, 1 << (t_text - 1).bit_length())
    _mas_kernel[(batch,)](
        value,
        x_lengths,
        y_lengths,
        scores,
        durations,
        t_text,
        t_mel,
        NEG_INF=NEG_INF,
        BLOCK=block,
        num_warps=min(max(block // 256, 1), 8),
    )
    return scores, durations


@jit
def _forward(value_ptr, scores_ptr, t_x, t_y, t_text, t_mel, NEG_INF: tl.constexpr, BLOCK: tl.constexpr):
    """Path scores of one item's frames ``[0, t_y)`` into ``scores_ptr`` (T_mel, T_text) float32, read from
    ``value_ptr`` (T_text, T_mel) float32, as the numba loop computes them (float64 sums rounded to float32).

    Cells outside the item's valid region are computed too; the valid cells never read them.
    """
    tokens = tl.arange(0, BLOCK)
    in_item = tokens < t_x
    missing = tl.full([BLOCK], NEG_INF, tl.float64)  # the float64 -1e30, not the float32 one
    start = tl.where(tokens == 0, tl.zeros([BLOCK], tl.float64), missing)  # every path starts at (0, 0)
    value = tl.load(value_ptr + tokens * t_mel, mask=in_item, other=0.0)
    column = (value.to(tl.float64) + start).to(tl.float32)
    tl.store(scores_ptr + tokens, column, mask=in_item)
    tl.debug_barrier()
    for y in range(1, t_y):
        value = tl.load(value_ptr + tokens * t_mel + y, mask=in_item, other=0.0)
        below = tl.load(scores_ptr + (y - 1) * t_text + tokens - 1, mask=in_item & (tokens > 0), other=0.0)
        stay = tl.where(tokens < y, column.to(tl.float64), missing)
        advance = tl.where(tokens > 0, below.to(tl.float64), missing)
        column = (value.to(tl.float64) + tl.maximum(stay, advance)).to(tl.float32)
        tl.store(scores_ptr + y * t_text + tokens, column, mask=in_item)
        tl.debug_barrier()  # the next frame reads this column at other tokens


@jit
def _backtrack(scores_ptr, durations_ptr, t_x, t_y, t_text):
    """Durations of one item into ``durations_ptr`` (T_text,) int64 (zeros on entry), from its last frame
    back: standing on token x at frame y, move to x - 1 when x == y or the score of x at frame y - 1 is
    strictly below that of x - 1 (ties keep the current token); never from token 0."""
    index = tl.maximum(t_x - 1, 0)
    end = t_y  # one past the last frame of the current token
    for step in range(0, t_y):
        y = t_y - 1 - step
        compare = (index > 0) & (index < y)
        stay = tl.load(scores_ptr + (y - 1) * t_text + index, mask=compare, other=0.0)
        advance = tl.load(scores_ptr + (y - 1) * t_text + index - 1, mask=compare, other=0.0)
        moves = (index > 0) & ((index == y) | (compare & (stay < advance)))
        tl.store(durations_ptr + index, (end - y).to(tl.int64), mask=moves)
        end = tl.where(moves, y, end)
        index = index - moves.to(tl.int32)
    tl.store(durations_ptr, end.to(tl.int64), mask=t_y > 0)


@jit
def _mas_kernel(
    value_ptr,
    x_lengths_ptr,
    y_lengths_ptr,
    scores_ptr,
    durations_ptr,
    t_text,
    t_mel,
    NEG_INF: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """Item ``program_id`` of value (B, T_text, T_mel) float32 -> its scores (B, T_mel, T_text) float32 and
    durations (B, T_text) int64; lengths (B,) are read here, clamped to the matrix."""
    item = tl.program_id(0).to(tl.int64)
    t_x = tl.minimum(tl.load(x_lengths_ptr + item).to(tl.int32), t_text)
    t_y = tl.minimum(tl.load(y_lengths_ptr + item).to(tl.int32), t_mel)
    scores_ptr += item * t_mel * t_text
    _forward(value_ptr + item * t_text * t_mel, scores_ptr, t_x, t_y, t_text, t_mel, NEG_INF, BLOCK)
    _backtrack(scores_ptr, durations_ptr + item * t_text, t_x, t_y, t_text)
