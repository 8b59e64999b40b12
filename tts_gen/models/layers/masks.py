"""Masks and length arithmetic: the one implementation used everywhere."""

from __future__ import annotations

import torch


def sequence_mask(lengths: torch.Tensor, max_length: int | torch.Tensor | None = None) -> torch.Tensor:
    """(B,) lengths -> (B, 1, T) float mask, 1 inside each sequence and 0 past its length (T = the longest
    length unless given; kept a tensor, so that an exported graph follows the lengths of its input)."""
    max_length = lengths.max() if max_length is None else max_length
    positions = torch.arange(max_length, device=lengths.device)
    return (positions.unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(1).float()


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x (B, C, T) over its valid positions (mask (B, 1, T)): a scalar."""
    return (x * mask).sum() / (mask.sum() * x.shape[1]).clamp(min=1)


def masked_mean_per_item(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of each item of x (B, C, T) over its valid positions (mask (B, 1, T)): (B,)."""
    return (x * mask).sum((1, 2)) / (mask.sum((1, 2)) * x.shape[1]).clamp(min=1)


def round_up(length: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is >= ``length`` (>= 0); no division of a negative number, whose
    rounding differs between Python and ONNX, so that the same code also runs as an exported graph."""
    return (length + multiple - 1) // multiple * multiple


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pads the last dimension of ``x`` up to a multiple of ``multiple``."""
    extra = round_up(x.shape[-1], multiple) - x.shape[-1]
    return torch.nn.functional.pad(x, (0, extra))


def random_segments(
    x: torch.Tensor, lengths: torch.Tensor, segment: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cuts one random window of ``segment`` steps from each item (whole item, zero-padded, if shorter).

    Args:
        x: (B, C, T) batch.
        lengths: (B,) valid lengths.
        segment: window length in steps.
        generator: the random generator of the start indices (default: torch's, on the device of ``x``).

    Returns:
        the windows (B, C, segment) and their start indices (B,).
    """
    max_start = (lengths - segment).clamp(min=0)
    device = x.device if generator is None else generator.device  # drawn where it is used: no copy to wait for
    starts = (torch.rand(lengths.shape, generator=generator, device=device).to(x.device) * (max_start + 1)).long()
    if x.shape[-1] < segment:
        x = torch.nn.functional.pad(x, (0, segment - x.shape[-1]))
    index = starts.view(-1, 1, 1) + torch.arange(segment, device=x.device).view(1, 1, -1)  # (B, 1, segment)
    windows = torch.gather(x, -1, index.expand(-1, x.shape[1], -1))
    valid = sequence_mask((lengths - starts).clamp(max=segment), segment)
    return windows * valid, starts


def cut_segments(
    cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor, frames: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One random window of ``frames`` frames per item, the same window in cond, mask and target.

    A batch no longer than ``frames`` (or ``frames`` = 0) is returned whole. Uses the torch RNG. The mask's window
    carries no gradient, even when the condition's does.
    Shapes: cond, target (B, n_mels, T), mask (B, 1, T) -> (B, n_mels, frames), (B, 1, frames).
    """
    if frames <= 0 or cond.shape[-1] <= frames:
        return cond, mask, target
    n_mels = cond.shape[1]
    lengths = mask.sum(dim=(1, 2)).long()
    stacked = torch.cat([cond, target, mask], dim=1)  # (B, 2 n_mels + 1, T): one cut for all three
    windows, _ = random_segments(stacked, lengths, frames)
    return windows[:, :n_mels], windows[:, 2 * n_mels :].detach(), windows[:, n_mels : 2 * n_mels]
