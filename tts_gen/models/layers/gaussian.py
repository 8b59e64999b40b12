"""The diagonal Gaussian over a latent, shared by the families that sample one (VAE, flow)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class DiagonalGaussian:
    """A diagonal Gaussian over z: mean and log standard deviation, both (B, channels, T)."""

    mean: torch.Tensor
    log_std: torch.Tensor

    def sample(self, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """z = mean + temperature * std * eps, zero past ``mask`` (B, 1, T)."""
        noise = torch.randn_like(self.mean)
        return (self.mean + temperature * torch.exp(self.log_std) * noise) * mask
