"""The diffusion decoder: schedule, segments, sampler convergence, loss optimum, options and the command line."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tests.conftest import ROOT
from tests.models.helpers import N_MELS, assert_synth_errors, train_and_synthesize
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.diffusion import DiffusionDecoder
from tts_gen.models.decoders.registry import build_decoder
from tts_gen.models.layers.masks import cut_segments, sequence_mask
from tts_gen.models.layers.times import stratified_times
from tts_gen.models.layers.unet import UNet1D


def demo_decoder(family: str = "diffusion"):
    config = load_experiment(ROOT / "egs" / "demo" / f"{family}.yaml")
    torch.manual_seed(0)
    decoder = build_decoder(config.model.decoder, N_MELS).eval()
    nn.init.normal_(decoder.network.output.weight, std=0.02)  # an untrained network that does not output zero
    return decoder


def small_batch(lengths=(37, 23), seed=1):
    mask = sequence_mask(torch.tensor(lengths))
    cond = torch.randn(len(lengths), N_MELS, mask.shape[-1], generator=torch.Generator().manual_seed(seed)) * mask
    return cond, mask


class GaussianNoiseOracle:
    """The exact noise predictor E[eps | X_t] when X_0 - mu ~ N(mean, std^2) independently per bin."""

    def __init__(self, decoder: DiffusionDecoder, mean: float, std: float):
        self.decoder, self.mean, self.std = decoder, mean, std

    def __call__(self, x, mask, cond, t):
        alpha, sigma = (v.to(x.dtype).view(-1, 1, 1) for v in self.decoder.alpha_sigma(t.double()))
        variance = alpha**2 * self.std**2 + sigma**2
        return sigma * (x - cond - alpha * self.mean) / variance * mask


class Scaled:
    """``factor`` times the output of the predictor ``inner``."""

    def __init__(self, inner, factor: float):
        self.inner, self.factor = inner, factor

    def __call__(self, *args):
        return self.factor * self.inner(*args)


def exact_ode_solution(decoder: DiffusionDecoder, y1: torch.Tensor, mean: float, std: float, t_end: float):
    """Where the probability-flow ODE takes Y_1 at t = 1 for Gaussian data: the affine map between marginals."""

    def marginal(t: float) -> tuple[float, float]:
        alpha, sigma = (float(v) for v in decoder.alpha_sigma(torch.tensor(t, dtype=torch.float64)))
        return alpha, math.sqrt(alpha**2 * std**2 + sigma**2)

    (alpha_1, scale_1), (alpha_end, scale_end) = marginal(1.0), marginal(t_end)
    return alpha_end * mean + scale_end * (y1 - alpha_1 * mean) / scale_1


def test_schedule_matches_grad_tts():
    decoder = demo_decoder()
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    alpha, sigma = decoder.alpha_sigma(t)
    assert torch.allclose(alpha**2 + sigma**2, torch.ones_like(t))
    assert alpha[0] == 1 and sigma[0] == 0
    # beta from 0.05 to 20: int_0^1 beta = 10.025, so the terminal distribution is N(mu, I) up to alpha_1.
    assert math.isclose(float(alpha[-1]), math.exp(-0.5 * 10.025), rel_tol=1e-9)
    inner = t[1:]
    assert torch.allclose(decoder.time_for_log_snr(decoder.log_snr(inner)), inner, atol=1e-9)
    times = decoder.ode_times(8, torch.device("cpu"))
    assert times[0] == 1 and times[-1] == decoder.config.t_min and bool((times.diff() < 0).all())
    steps = decoder.log_snr(times).diff()
    assert torch.allclose(steps, steps[0].expand_as(steps)), "ODE steps must be uniform in log-SNR"


def test_training_times_are_stratified():
    torch.manual_seed(0)
    for batch in (1, 2, 7):
        times = stratified_times(batch, torch.device("cpu"))
        assert bool(((times >= 0) & (times < 1)).all())
        assert torch.equal((times * batch).floor().sort().values, torch.arange(batch).float())


def test_segments_are_cut_identically_from_cond_mask_and_target():
    frames, lengths = 10, torch.tensor([30, 7, 18])
    mask = sequence_mask(lengths)
    positions = torch.arange(mask.shape[-1]).float().expand(3, 4, -1)
    cond, target = positions * mask, (positions + 1000) * mask
    torch.manual_seed(0)
    cut_cond, cut_mask, cut_target = cut_segments(cond, mask, target, frames)
    assert cut_cond.shape == (3, 4, frames) and cut_mask.shape == (3, 1, frames)
    assert torch.equal(cut_mask.sum(dim=(1, 2)), lengths.clamp(max=frames).float())
    assert torch.equal((cut_target - 1000) * cut_mask, cut_cond), "target and cond windows must start together"
    starts = cut_cond[:, 0, 0]
    assert bool(((starts >= 0) & (starts <= (lengths - frames).clamp(min=0))).all())
    assert cut_segments(cond, mask, target, 0)[0] is cond, "segment_frames = 0 keeps whole utterances"
    # a condition that carries the encoder's gradient (joint training) leaves the mask's window without one, so that
    # the discriminator's step of an adversarial family does not reach back into the encoder's graph
    cut_cond, cut_mask, _ = cut_segments(cond.clone().requires_grad_(True), mask, target, frames)
    assert cut_cond.requires_grad and not cut_mask.requires_grad


def test_perfect_noise_predictor_gives_the_minimum_loss():
    decoder = demo_decoder()
    cond, mask = small_batch()
    torch.manual_seed(0)
    # target == cond: the noise is known exactly from X_t.
    decoder.predict_noise = GaussianNoiseOracle(decoder, mean=0.0, std=0.0)
    assert float(decoder.loss(cond, mask, cond).terms["diffusion/score"]) < 1e-10
    # For Gaussian data the exact E[eps | X_t] beats any rescaling of it.
    target = cond + (0.3 + 0.5 * torch.randn(cond.shape, generator=torch.Generator().manual_seed(2))) * mask
    cond, mask, target = (v.repeat(64, 1, 1) for v in (cond, mask, target))
    losses = {}
    for factor in (0.8, 1.0, 1.2):
        decoder.predict_noise = Scaled(GaussianNoiseOracle(decoder, mean=0.3, std=0.5), factor)
        torch.manual_seed(0)
        losses[factor] = float(decoder.loss(cond, mask, target).terms["diffusion/score"])
    assert losses[1.0] < losses[0.8] and losses[1.0] < losses[1.2], losses


def test_untrained_network_gives_the_exact_noise_for_a_gaussian_residual():
    config = load_experiment(ROOT / "egs" / "demo" / "diffusion.yaml").model.decoder
    decoder = build_decoder(config, N_MELS)  # the network's output layer starts at zero
    cond, mask = small_batch()
    x = cond + torch.randn(cond.shape, generator=torch.Generator().manual_seed(5)) * mask
    t = torch.tensor([0.2, 0.9])
    oracle = GaussianNoiseOracle(decoder, mean=0.0, std=config.residual_std)
    assert torch.allclose(decoder.predict_noise(x, mask, cond, t), oracle(x, mask, cond, t), atol=1e-6)


NFES = (4, 8, 16, 32, 64)


def ode_errors(sampler: str) -> list[float]:
    """Largest distance to the exact probability-flow endpoint for Gaussian data, at each NFE of ``NFES``."""
    decoder = demo_decoder()
    mean, std = 0.4, 0.3
    decoder.predict_noise = GaussianNoiseOracle(decoder, mean, std)
    cond, mask = (v.double() for v in small_batch())
    y1 = torch.randn(cond.shape, generator=torch.Generator().manual_seed(3)).double() * mask
    exact = exact_ode_solution(decoder, y1, mean, std, decoder.config.t_min) * mask
    errors = []
    for nfe in NFES:
        options = decoder.options(sampler=sampler, steps=1, temperature=0.0)
        steps = nfe // decoder.network_evaluations(options)
        options = decoder.options(sampler=sampler, steps=steps, temperature=0.0)
        assert decoder.network_evaluations(options) == nfe
        sample = decoder.reverse((cond + y1) * mask, mask, cond, options)
        errors.append(float((sample - cond - exact).abs().max()))
    return errors


@pytest.mark.parametrize("sampler, order", [("euler", 1), ("midpoint", 2), ("dpm_solver_2m", 2)])
def test_ode_samplers_converge_to_the_exact_flow_at_their_order(sampler, order):
    errors = ode_errors(sampler)
    assert all(a > b for a, b in zip(errors, errors[1:])), f"more evaluations must get closer: {errors}"
    assert errors[-1] < errors[1] / (0.3 * 8**order), f"slower than order {order}: {errors}"  # 3 doublings


def test_second_order_beats_first_order_at_equal_network_evaluations():
    euler, midpoint = ode_errors("euler"), ode_errors("midpoint")
    assert all(m < e for m, e in zip(midpoint, euler)), (euler, midpoint)


def test_steps_temperature_and_sampler_change_the_output():
    decoder = demo_decoder()
    cond, mask = small_batch()

    def sample(**options):
        torch.manual_seed(7)
        with torch.no_grad():
            return decoder.generate(cond, mask, decoder.options(**options))

    base = sample()
    assert not torch.allclose(base, sample(steps=4))
    assert not torch.allclose(base, sample(temperature=0.3))
    for sampler in ("sde", "euler", "dpm_solver_2m"):
        assert not torch.allclose(base, sample(sampler=sampler))
    assert torch.equal(base, sample())
    # Without terminal noise the ODE is deterministic whatever the seed.
    cold = sample(temperature=0.0)
    torch.manual_seed(99)
    assert torch.allclose(cold, decoder.generate(cond, mask, decoder.options(temperature=0.0)))
    # The stochastic sampler is not, even at zero temperature.
    stochastic = sample(sampler="sde", temperature=0.0)
    torch.manual_seed(99)
    assert not torch.allclose(stochastic, decoder.generate(cond, mask, decoder.options(sampler="sde", temperature=0.0)))


def test_bad_options_are_clear_errors():
    decoder = demo_decoder()
    with pytest.raises(
        ValueError, match="unknown diffusion sampler 'ode'; choose one of: euler, midpoint, dpm_solver_2m, sde"
    ):
        decoder.options(sampler="ode")
    with pytest.raises(ValueError, match="steps >= 1"):
        decoder.options(steps=0)


def test_network_output_does_not_depend_on_padding():
    decoder = demo_decoder()
    network: UNet1D = decoder.network
    cond, mask = small_batch(lengths=(37, 21))
    x = cond + torch.randn(cond.shape, generator=torch.Generator().manual_seed(4)) * mask
    t = torch.tensor([0.3, 0.7])
    with torch.no_grad():
        batched = network(x, mask, cond, t)
        alone = network(x[1:, :, :21], mask[1:, :, :21], cond[1:, :, :21], t[1:])
    assert torch.allclose(batched[1:, :, :21], alone, atol=1e-5)
    assert batched[1, :, 21:].abs().max() == 0


def check_paper_size_config(family: str) -> None:
    """``egs/ljspeech/<family>.yaml`` builds (2-second loss windows), gives a finite loss and samples in 2 steps."""
    config = load_experiment(ROOT / "egs" / "ljspeech" / f"{family}.yaml").model.decoder
    assert config.family == family and config.segment_frames == 172
    torch.manual_seed(0)
    decoder = build_decoder(config, N_MELS)
    assert 5e6 < sum(p.numel() for p in decoder.parameters()) < 15e6
    cond, mask = small_batch(lengths=(181, 60))
    terms = decoder.loss(cond, mask, cond + 0.1 * mask).terms
    assert all(torch.isfinite(value) for value in terms.values())
    with torch.no_grad():
        mel = decoder.eval().generate(cond, mask, decoder.options(steps=2))
    assert mel.shape == cond.shape and torch.isfinite(mel).all() and mel[1, :, 60:].abs().max() == 0


def test_paper_size_config():
    check_paper_size_config("diffusion")


def test_synth_command_with_steps_temperature_and_sampler(prepared_mini, tmp_path, capsys):
    options = ["--steps", "3", "--temperature", "0.5", "--option", "sampler=sde"]
    run = train_and_synthesize("diffusion", prepared_mini, tmp_path, capsys, options)
    assert_synth_errors(run, tmp_path, capsys, [
        (["--steps", "0"], "steps >= 1"),
        (["--option", "sampler=heun2"], "unknown diffusion sampler 'heun2'"),
        (["--option", "steps=two"], "option steps needs a whole number, got 'two'"),
        (["--option", "sampler"], "--option 'sampler' must look like NAME=VALUE"),
        (["--option", "guidance=2"], "the diffusion decoder has no option guidance"),
    ])  # fmt: skip
