"""Training times of the continuous-time families (diffusion and flow matching)."""

from __future__ import annotations

import torch


def stratified_times(batch: int, device: torch.device) -> torch.Tensor:
    """(B,) times in [0, 1): t_i = (u + i / B) mod 1 with one u ~ U(0, 1), so each t_i is uniform and the batch
    has one time in each interval [k / B, (k + 1) / B) (Kingma et al., 2021). The loss of a batch then varies far
    less than with independent times. Uses the torch RNG."""
    offset = torch.rand(1, device=device)
    return torch.remainder(offset + torch.arange(batch, device=device) / batch, 1.0)
