"""Flow-matching decoder: conditional flow matching with the optimal-transport path (Lipman et al., 2023), as the
decoder of Matcha-TTS (Mehta et al., 2024), conditioned on the shared encoder.

With Y = X - mu (mu = ``cond``), the path from noise Y_0 = z ~ N(0, I) to the data Y_1 = target - mu is

    Y_t = (1 - (1 - sigma_min) t) z + t Y_1,      target velocity  u = Y_1 - (1 - sigma_min) z,

and the network v(X_t, mu, t) is trained by the loss ``flow_matching/velocity`` = mean ||v - u||^2 over valid
mel bins (t ~ U(0, 1), stratified across the batch). Sampling integrates dX/dt = v from X_0 = mu + temperature * z
to t = 1 in ``steps`` equal steps of the solver ``sampler``: ``euler`` (Matcha-TTS's; one network evaluation per
step) or ``midpoint`` (second order, two), the solvers the diffusion decoder uses too
(:mod:`tts_gen.models.layers.ode`).

Change for tts_gen (and from Matcha-TTS, whose noise is N(0, I)): the noise is centred on the encoder's prior,
X_0 ~ N(mu, I), so the path only has to carry the residual between the prior and the mel. It is shorter and
straighter than a path from pure noise, which suits few Euler steps, and every noise-driven family of tts_gen
(flow, diffusion, flow matching) then starts from the same distribution. The network is the 1-D U-Net
shared with the diffusion decoder (``tts_gen.models.layers.unet``) instead of Matcha-TTS's U-Net with
Transformer blocks at every level, and its output is a correction to the exact velocity for a Gaussian residual
(see :meth:`FlowMatchingDecoder.predict_velocity`). Like the diffusion decoder, the loss may be taken on one random
window per utterance (``segment_frames``), as Matcha-TTS's optional ``out_size``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.ode import ODE_SOLVERS, solve_ode, spaced
from tts_gen.models.layers.times import stratified_times
from tts_gen.models.layers.unet import UNet1D, UNet1DConfig


@dataclass
class FlowMatchingDecoderConfig(DecoderConfig):
    """The flow-matching decoder (defaults: Matcha-TTS's sigma_min on LJSpeech).

    Attributes:
        network: the U-Net that predicts the velocity.
        sigma_min: standard deviation left around the data at t = 1.
        residual_std: the network's output is added to the exact velocity for a residual target - cond
            distributed N(0, residual_std^2) per bin (normalized mel units), so it only learns the correction.
    """

    family: str = "flow_matching"
    network: UNet1DConfig = field(default_factory=UNet1DConfig)
    sigma_min: float = 1e-4
    residual_std: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.sigma_min < 1:
            raise ValueError(f"sigma_min must be in [0, 1), got {self.sigma_min}")
        if self.residual_std <= 0:
            raise ValueError(f"residual_std must be positive, got {self.residual_std}")


@dataclass
class FlowMatchingOptions:
    """Sampling options: ``steps`` solver steps of ``sampler`` (``euler``: one network evaluation each, as
    Matcha-TTS; ``midpoint``: two); ``temperature`` is the noise's standard deviation around the condition
    (Matcha-TTS: 0.667)."""

    steps: int = 5
    temperature: float = 0.667
    sampler: str = "midpoint"

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"the flow_matching decoder needs steps >= 1, got {self.steps}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.sampler not in ODE_SOLVERS:
            raise ValueError(f"unknown flow_matching sampler {self.sampler!r}; choose one of: {', '.join(ODE_SOLVERS)}")


class FlowMatchingDecoder(Decoder):
    """Conditional flow matching (OT path) around the prior. Loss term: ``flow_matching/velocity``."""

    options_class = FlowMatchingOptions

    def __init__(self, config: FlowMatchingDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        self.network = UNet1D(config.network, n_mels)

    def loss_keys(self) -> tuple[str, ...]:
        return ("flow_matching/velocity",)

    def network_evaluations(self, options: FlowMatchingOptions) -> int:
        return options.steps * ODE_SOLVERS[options.sampler]

    def predict_velocity(
        self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        """v_hat (B, n_mels, T) from X_t, mu (B, n_mels, T), mask (B, 1, T) and t (B,).

        For a residual Y_1 ~ N(0, r^2) the exact velocity is E[u | Y_t] = (t r^2 - c a) / (a^2 + t^2 r^2) Y_t
        with a = 1 - c t, c = 1 - sigma_min; the network adds its correction to it (EDM's skip preconditioning,
        Karras et al., 2022), so near t = 0, where u is almost -(X_t - mu), it has nothing to learn.
        """
        t_ = t.view(-1, 1, 1)
        c, r2 = 1.0 - self.config.sigma_min, self.config.residual_std**2
        a = 1.0 - c * t_
        skip = (t_ * r2 - c * a) / (a**2 + t_**2 * r2)
        return (skip * (x - cond) + self.network(x, mask, cond, t)) * mask

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        t = stratified_times(cond.shape[0], cond.device)
        shrink = 1.0 - (1.0 - self.config.sigma_min) * t.view(-1, 1, 1)
        noise = torch.randn_like(target) * mask
        residual = (target - cond) * mask
        x_t = cond + shrink * noise + t.view(-1, 1, 1) * residual
        velocity = residual - (1.0 - self.config.sigma_min) * noise
        predicted = self.predict_velocity(x_t * mask, mask, cond, t)
        error = (((predicted - velocity) * mask) ** 2).sum() / (mask.sum() * self.n_mels)
        return DecoderOutput(terms={"flow_matching/velocity": error})

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: FlowMatchingOptions) -> torch.Tensor:
        return self.integrate(cond, mask, options)

    def integrate(
        self, cond: torch.Tensor, mask: torch.Tensor, options: FlowMatchingOptions, states: list | None = None
    ) -> torch.Tensor:
        """Draws X_0 around the prior and solves the ODE to t = 1; ``states`` (if given) receives every step's X_t."""
        x = (cond + options.temperature * torch.randn_like(cond)) * mask
        grid = torch.linspace(0.0, 1.0, options.steps + 1, dtype=torch.float64)

        def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self.predict_velocity(x, mask, cond, t.to(x.dtype).expand(x.shape[0]).to(x.device))

        return solve_ode(velocity, x, grid, options.sampler, states) * mask

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: FlowMatchingOptions) -> list:
        """X_t from the noise around the prior (t = 0) to the mel (t = 1), at five evenly spaced steps."""
        states: list = []
        self.integrate(cond, mask, options, states)
        times = torch.linspace(0.0, 1.0, options.steps + 1).tolist()
        return [(f"t = {t:.2f}", state) for t, state in spaced(list(zip(times, states)))]
