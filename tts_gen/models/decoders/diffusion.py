"""Diffusion decoder: Grad-TTS (Popov et al., 2021), conditioned on the shared encoder.

The forward SDE drifts the mel towards the condition ``mu`` (= ``cond``) while adding noise,

    dX_t = 1/2 beta(t) (mu - X_t) dt + sqrt(beta(t)) dW_t,   t in [0, 1],  beta(t) = beta_0 + (beta_1 - beta_0) t,

so with Y = X - mu it is the variance-preserving SDE of Song et al. (2021), and the marginal is
X_t = mu + alpha_t (X_0 - mu) + sigma_t eps with alpha_t = exp(-1/2 int_0^t beta), sigma_t^2 = 1 - alpha_t^2;
the terminal distribution is N(mu, I) (beta_0 = 0.05, beta_1 = 20 leave alpha_1 = 0.0067).

Why Grad-TTS rather than a standard DDPM: the noise is centred on the encoder's prior, so the reverse process
starts from a rough mel instead of pure noise, as the flow (N(cond, I)) and flow matching families do; the
families then share their starting distribution and differ only in how they cross it.

Training: the network predicts the noise eps from (X_t, mu, t); the loss ``diffusion/score`` is
mean ||eps_hat - eps||^2 over valid mel bins, which is Grad-TTS's weighted denoising score matching loss with
lambda_t = sigma_t^2 (the score is -eps_hat / sigma_t); the times of a batch are stratified. The network adds a
correction to the exact noise estimate for a Gaussian residual (see :meth:`DiffusionDecoder.predict_noise`).
Optionally (``segment_frames``) the loss is taken on one random window per utterance, cut identically from the
condition, the mask and the target, as Grad-TTS does with 2-second segments.

Sampling (``DiffusionOptions``): the terminal noise is drawn as mu + temperature * N(0, I), then

* ``sampler="euler"`` or ``"midpoint"`` (default): the probability-flow ODE written, as in DDIM and EDM (Song et
  al., 2021a; Karras et al., 2022), in z = (X_t - mu) / alpha_t and s = sigma_t / alpha_t, where it reads
  dz/ds = eps_hat, solved by the first- or second-order solver that the flow-matching decoder uses too
  (:mod:`tts_gen.models.layers.ode`), on steps spaced uniformly in log-SNR. Euler here is DDIM.
* ``sampler="dpm_solver_2m"``: the same ODE by the second-order multistep DPM-Solver-2M (Lu et al., 2022) in its
  noise-prediction form, one network evaluation per step. (The data-prediction form, DPM-Solver++, extrapolates
  estimates of X_0, and those made near t = 1 carry the noise estimate's error times 1 / alpha_1 = 150: at 4-6
  steps it strayed several times further from the converged sample than the noise-prediction form.)
* ``sampler="sde"``: Grad-TTS's stochastic reverse SDE with Euler-Maruyama steps uniform in t.

``steps`` counts solver steps; network evaluations (NFE) are ``steps`` times 2 for ``midpoint``, times 1 otherwise.

Changes for tts_gen: the network is the 1-D U-Net shared with flow matching (``tts_gen.models.layers.unet``)
instead of Grad-TTS's 2-D U-Net, much faster on a CPU; it predicts the noise rather than the score, as a
correction to the exact noise for a Gaussian residual (EDM's skip preconditioning); the ODE sampler is new; and
``temperature`` multiplies the noise's standard deviation as in every tts_gen family (Grad-TTS divides by its
temperature: Grad-TTS's 1.5 is 0.667 here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from tts_gen.models.decoders.base import Decoder, DecoderConfig, DecoderOutput
from tts_gen.models.layers.ode import ODE_SOLVERS, solve_ode, spaced
from tts_gen.models.layers.times import stratified_times
from tts_gen.models.layers.unet import UNet1D, UNet1DConfig

SAMPLERS = {**ODE_SOLVERS, "dpm_solver_2m": 1, "sde": 1}  # sampler -> network evaluations per step


@dataclass
class DiffusionDecoderConfig(DecoderConfig):
    """The diffusion decoder (defaults: Grad-TTS's noise schedule and segments on LJSpeech).

    Attributes:
        network: the denoising U-Net.
        beta_min, beta_max: beta(t) rises linearly from ``beta_min`` at t = 0 to ``beta_max`` at t = 1.
        t_min: training draws t uniformly in [t_min, 1]; the ODE sampler stops at t_min.
        residual_std: the network's output is added to the exact noise estimate for a residual target - cond
            distributed N(0, residual_std^2) per bin (normalized mel units), so it only learns the correction.
        segment_frames: the loss window (see :class:`DecoderConfig`); Grad-TTS's ``out_size``, 172 frames = 2 s.
    """

    family: str = "diffusion"
    network: UNet1DConfig = field(default_factory=UNet1DConfig)
    beta_min: float = 0.05
    beta_max: float = 20.0
    t_min: float = 1e-3
    residual_std: float = 0.5
    segment_frames: int = 172

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.beta_min <= self.beta_max:
            raise ValueError(f"need 0 < beta_min <= beta_max, got {self.beta_min} and {self.beta_max}")
        if not 0 < self.t_min < 1:
            raise ValueError(f"t_min must be in (0, 1), got {self.t_min}")
        if self.residual_std <= 0:
            raise ValueError(f"residual_std must be positive, got {self.residual_std}")


@dataclass
class DiffusionOptions:
    """Sampling options.

    Attributes:
        steps: reverse steps (solver steps; a ``midpoint`` step takes two network evaluations).
        temperature: standard deviation of the terminal noise around the condition (Grad-TTS: 1 / 1.5).
        sampler: ``euler`` or ``midpoint`` (probability-flow ODE, the solvers of flow matching too),
            ``dpm_solver_2m`` (the same ODE, multistep) or ``sde`` (Grad-TTS's reverse SDE).
    """

    steps: int = 5
    temperature: float = 0.667
    sampler: str = "midpoint"

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"the diffusion decoder needs steps >= 1, got {self.steps}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown diffusion sampler {self.sampler!r}; choose one of: {', '.join(SAMPLERS)}")


def record(path: list | None, t: float, x: torch.Tensor) -> None:
    """Appends (t, X_t) to a sampler's ``path`` when one is kept."""
    if path is not None:
        path.append((t, x))


class DiffusionDecoder(Decoder):
    """Grad-TTS decoder: noise prediction with the mu-centred VP SDE. Loss term: ``diffusion/score``."""

    options_class = DiffusionOptions

    def __init__(self, config: DiffusionDecoderConfig, n_mels: int):
        super().__init__(config, n_mels)
        self.network = UNet1D(config.network, n_mels)

    def loss_keys(self) -> tuple[str, ...]:
        return ("diffusion/score",)

    def network_evaluations(self, options: DiffusionOptions) -> int:
        return options.steps * SAMPLERS[options.sampler]

    # ------------------------------------------------------------------------------------------ schedule

    def integrated_beta(self, t: torch.Tensor) -> torch.Tensor:
        """int_0^t beta(s) ds, elementwise."""
        return self.config.beta_min * t + 0.5 * (self.config.beta_max - self.config.beta_min) * t**2

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Signal and noise scales of the marginal at t: alpha_t = exp(-B(t) / 2), sigma_t = sqrt(1 - alpha_t^2)."""
        integral = self.integrated_beta(t)
        return torch.exp(-0.5 * integral), torch.sqrt(-torch.expm1(-integral))

    def log_snr(self, t: torch.Tensor) -> torch.Tensor:
        """lambda_t = log(alpha_t / sigma_t)."""
        alpha, sigma = self.alpha_sigma(t)
        return torch.log(alpha) - torch.log(sigma)

    def time_for_log_snr(self, lam: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`log_snr`: solves B(t) = log(1 + exp(-2 lambda)) for t >= 0."""
        integral = torch.nn.functional.softplus(-2.0 * lam)
        b0, slope = self.config.beta_min, self.config.beta_max - self.config.beta_min
        return 2.0 * integral / (b0 + torch.sqrt(b0**2 + 2.0 * slope * integral))

    def ode_times(self, steps: int, device: torch.device) -> torch.Tensor:
        """steps + 1 times from 1 down to t_min, uniform in log-SNR (float64)."""
        ends = torch.tensor([1.0, self.config.t_min], dtype=torch.float64)
        lam = torch.linspace(float(self.log_snr(ends[0])), float(self.log_snr(ends[1])), steps + 1, dtype=torch.float64)
        times = self.time_for_log_snr(lam)
        times[0], times[-1] = 1.0, self.config.t_min
        return times.to(device)

    def predict_noise(self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """eps_hat (B, n_mels, T) from X_t, mu (B, n_mels, T), mask (B, 1, T) and t (B,).

        The exact E[eps | X_t] for a residual X_0 - mu ~ N(0, r^2) is sigma_t (X_t - mu) / (alpha_t^2 r^2 +
        sigma_t^2); the network adds its correction to it (EDM's skip preconditioning, Karras et al., 2022), so
        at high noise, where eps is almost X_t - mu, it has nothing to learn.
        """
        alpha, sigma = (v.to(x.dtype).view(-1, 1, 1) for v in self.alpha_sigma(t.double()))
        skip = sigma / (alpha**2 * self.config.residual_std**2 + sigma**2)
        return (skip * (x - cond) + self.network(x, mask, cond, t)) * mask

    # ------------------------------------------------------------------------------------------ training

    def loss(self, cond: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> DecoderOutput:
        t = self.config.t_min + (1.0 - self.config.t_min) * stratified_times(cond.shape[0], cond.device)
        alpha, sigma = (v.view(-1, 1, 1) for v in self.alpha_sigma(t))
        noise = torch.randn_like(target) * mask
        x_t = cond + alpha * (target - cond) + sigma * noise
        predicted = self.predict_noise(x_t * mask, mask, cond, t)
        score = (((predicted - noise) * mask) ** 2).sum() / (mask.sum() * self.n_mels)
        return DecoderOutput(terms={"diffusion/score": score})

    # ------------------------------------------------------------------------------------------ sampling

    def sample_ode(
        self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, steps: int, solver: str, path: list | None = None
    ) -> torch.Tensor:
        """The probability-flow ODE from t = 1 to t_min with ``solver`` (euler, midpoint) in z = (X - mu) / alpha and
        s = sigma / alpha, where dz/ds = eps_hat; x (B, n_mels, T) at t = 1. ``path`` (if given) receives
        (t, X_t) at every step."""
        times = self.ode_times(steps, x.device)
        alpha, sigma = self.alpha_sigma(times)
        grid = sigma / alpha  # (steps + 1,) decreasing

        def noise(z: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
            t = self.time_for_log_snr(-torch.log(s))
            return self.predict_noise(
                cond + float(self.alpha_sigma(t)[0]) * z, mask, cond, t.to(z.dtype).expand(z.shape[0])
            )

        states = [] if path is not None else None
        z = solve_ode(noise, (x - cond) / float(alpha[0]), grid, solver, states)
        if path is not None:
            path.extend((float(t), (cond + float(a) * state) * mask) for t, a, state in zip(times, alpha, states))
        return (cond + float(alpha[-1]) * z) * mask

    def sample_dpm_solver_2m(
        self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, steps: int, path: list | None = None
    ) -> torch.Tensor:
        """Multistep DPM-Solver-2M on the probability-flow ODE, from t = 1 to t_min; x (B, n_mels, T) at t = 1.

        With Y = X - mu and h = lambda_s - lambda_t, a step from t to s is
        Y_s = (alpha_s / alpha_t) Y_t - sigma_s (e^h - 1) e, where e is the noise estimate at t (first step) or
        its linear extrapolation from the two last estimates (second order).
        """
        times = self.ode_times(steps, x.device)
        previous_eps, previous_h = None, None
        record(path, 1.0, x)
        for i in range(steps):
            t, s = times[i], times[i + 1]
            eps = self.predict_noise(x, mask, cond, t.to(x.dtype).expand(x.shape[0]))
            (alpha_s, sigma_s), (alpha_t, _) = self.alpha_sigma(s), self.alpha_sigma(t)
            h = float(self.log_snr(s) - self.log_snr(t))
            estimate = eps
            if previous_eps is not None:
                r = previous_h / h
                estimate = (1 + 0.5 / r) * eps - (0.5 / r) * previous_eps
            y = float(alpha_s / alpha_t) * (x - cond) - float(sigma_s) * math.expm1(h) * estimate
            x = (cond + y) * mask
            previous_eps, previous_h = eps, h
            record(path, float(s), x)
        return x

    def sample_sde(
        self, x: torch.Tensor, mask: torch.Tensor, cond: torch.Tensor, steps: int, path: list | None = None
    ) -> torch.Tensor:
        """Grad-TTS's reverse SDE, Euler-Maruyama with ``steps`` equal steps in t, the network evaluated at
        the middle of each step; x (B, n_mels, T) at t = 1."""
        h = 1.0 / steps
        record(path, 1.0, x)
        for i in range(steps):
            t = torch.tensor(1.0 - (i + 0.5) * h, dtype=torch.float64, device=x.device)
            beta = self.config.beta_min + (self.config.beta_max - self.config.beta_min) * float(t)
            _, sigma = self.alpha_sigma(t)
            eps = self.predict_noise(x, mask, cond, t.to(x.dtype).expand(x.shape[0]))
            score = -eps / float(sigma)
            drift = 0.5 * (x - cond) + score  # reverse-time drift divided by beta
            x = (x + beta * h * drift + math.sqrt(beta * h) * torch.randn_like(x)) * mask
            record(path, 1.0 - (i + 1) * h, x)
        return x

    def generate(self, cond: torch.Tensor, mask: torch.Tensor, options: DiffusionOptions) -> torch.Tensor:
        x = (cond + options.temperature * torch.randn_like(cond)) * mask
        return self.reverse(x, mask, cond, options)

    def reverse(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        cond: torch.Tensor,
        options: DiffusionOptions,
        path: list | None = None,
    ) -> torch.Tensor:
        """The sampler of ``options`` from x (B, n_mels, T) at t = 1 to the mel; ``path`` (if given) receives
        (t, X_t) at every step."""
        if options.sampler == "sde":
            return self.sample_sde(x, mask, cond, options.steps, path)
        if options.sampler == "dpm_solver_2m":
            return self.sample_dpm_solver_2m(x, mask, cond, options.steps, path)
        return self.sample_ode(x, mask, cond, options.steps, options.sampler, path)

    def trajectory(self, cond: torch.Tensor, mask: torch.Tensor, options: DiffusionOptions) -> list:
        """X_t from the noise around the prior (t = 1) to the mel, at five evenly spaced steps of the sampler."""
        path: list = []
        self.reverse((cond + options.temperature * torch.randn_like(cond)) * mask, mask, cond, options, path)
        return [(f"t = {t:.2f}", state) for t, state in spaced(path)]
