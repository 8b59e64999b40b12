"""The flow-matching decoder: shared network, loss optimum, Euler convergence, options and the command line."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import ROOT
from tests.models.helpers import assert_synth_errors, train_and_synthesize
from tests.models.test_diffusion import Scaled, check_paper_size_config, demo_decoder, small_batch
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.flow_matching import FlowMatchingDecoder
from tts_gen.models.decoders.registry import build_decoder
from tts_gen.models.layers.unet import UNet1D
from tts_gen.synthesize import Synthesizer


class GaussianVelocityOracle:
    """The exact velocity E[u | X_t] when X_1 - mu ~ N(mean, std^2) and X_0 - mu ~ N(0, 1), per bin."""

    def __init__(self, sigma_min: float, mean: float, std: float):
        self.sigma_min, self.mean, self.std = sigma_min, mean, std

    def __call__(self, x, mask, cond, t):
        t = t.view(-1, 1, 1)
        shrink = 1 - (1 - self.sigma_min) * t  # Y_t = shrink z + t Y_1
        variance = shrink**2 + t**2 * self.std**2
        covariance = t * self.std**2 - (1 - self.sigma_min) * shrink  # Cov(u, Y_t)
        return (self.mean + covariance / variance * (x - cond - t * self.mean)) * mask


def test_shares_the_diffusion_network():
    flow_matching, diffusion = demo_decoder("flow_matching"), demo_decoder("diffusion")
    assert type(flow_matching.network) is type(diffusion.network) is UNet1D
    assert flow_matching.network.config == diffusion.network.config


def test_perfect_velocity_gives_the_minimum_loss():
    decoder: FlowMatchingDecoder = demo_decoder("flow_matching")
    cond, mask = small_batch()
    sigma_min = decoder.config.sigma_min
    # target == cond: the velocity is known exactly from X_t.
    decoder.predict_velocity = GaussianVelocityOracle(sigma_min, mean=0.0, std=0.0)
    torch.manual_seed(0)
    assert float(decoder.loss(cond, mask, cond).terms["flow_matching/velocity"]) < 1e-8
    target = cond + (0.3 + 0.5 * torch.randn(cond.shape, generator=torch.Generator().manual_seed(2))) * mask
    cond, mask, target = (v.repeat(64, 1, 1) for v in (cond, mask, target))
    losses = {}
    for factor in (0.8, 1.0, 1.2):
        decoder.predict_velocity = Scaled(GaussianVelocityOracle(sigma_min, mean=0.3, std=0.5), factor)
        torch.manual_seed(0)
        losses[factor] = float(decoder.loss(cond, mask, target).terms["flow_matching/velocity"])
    assert losses[1.0] < losses[0.8] and losses[1.0] < losses[1.2], losses


def test_untrained_network_gives_the_exact_velocity_for_a_gaussian_residual():
    config = load_experiment(ROOT / "egs" / "demo" / "flow_matching.yaml").model.decoder
    decoder = build_decoder(config, 80)  # the network's output layer starts at zero
    cond, mask = small_batch()
    x = cond + torch.randn(cond.shape, generator=torch.Generator().manual_seed(5)) * mask
    t = torch.tensor([0.2, 0.9])
    oracle = GaussianVelocityOracle(config.sigma_min, mean=0.0, std=config.residual_std)
    assert torch.allclose(decoder.predict_velocity(x, mask, cond, t), oracle(x, mask, cond, t), atol=1e-6)


NFES = (2, 4, 8, 16, 32)


def ode_errors(sampler: str) -> list[float]:
    """Largest distance to the exact flow's endpoint for Gaussian data, at each NFE of ``NFES``."""
    decoder: FlowMatchingDecoder = demo_decoder("flow_matching")
    mean, std, sigma_min = 0.4, 0.3, decoder.config.sigma_min
    decoder.predict_velocity = GaussianVelocityOracle(sigma_min, mean, std)
    cond, mask = (v.double() for v in small_batch())
    errors = []
    for nfe in NFES:
        steps = nfe // decoder.network_evaluations(decoder.options(sampler=sampler, steps=1))
        options = decoder.options(sampler=sampler, steps=steps, temperature=1.0)
        assert decoder.network_evaluations(options) == nfe
        torch.manual_seed(5)  # the same z for every step count: generate draws cond + temperature * z
        noise = torch.randn_like(cond)
        torch.manual_seed(5)
        sample = decoder.generate(cond, mask, options)
        # The flow maps the marginals affinely: Y_1 = mean + sqrt(sigma_min^2 + std^2) z.
        exact = (mean + (sigma_min**2 + std**2) ** 0.5 * noise) * mask
        errors.append(float((sample - cond - exact).abs().max()))
    return errors


@pytest.mark.parametrize("sampler, order", [("euler", 1), ("midpoint", 2)])
def test_ode_samplers_converge_to_the_exact_flow_at_their_order(sampler, order):
    errors = ode_errors(sampler)
    ratio = 2**order * 0.8  # each doubling of the evaluations divides the error by about 2^order
    assert all(a > ratio * b for a, b in zip(errors[1:], errors[2:])), f"not order {order}: {errors}"
    assert errors[-1] < errors[1] / 5, errors


def test_second_order_beats_first_order_at_equal_network_evaluations():
    euler, midpoint = ode_errors("euler"), ode_errors("midpoint")
    assert all(m < e for m, e in zip(midpoint, euler)), (euler, midpoint)


def test_steps_and_temperature_change_the_output():
    decoder = demo_decoder("flow_matching")
    cond, mask = small_batch()

    def sample(**options):
        torch.manual_seed(7)
        with torch.no_grad():
            return decoder.generate(cond, mask, decoder.options(**options))

    base = sample()
    assert not torch.allclose(base, sample(steps=3))
    assert not torch.allclose(base, sample(sampler="euler"))
    assert not torch.allclose(base, sample(temperature=0.3))
    assert torch.equal(base, sample())
    cold = sample(temperature=0.0)
    torch.manual_seed(99)
    assert torch.allclose(cold, decoder.generate(cond, mask, decoder.options(temperature=0.0)))


def test_options_it_lacks_are_clear_errors():
    decoder = demo_decoder("flow_matching")
    expected = "the flow_matching decoder has no option guidance; its options are: steps, temperature, sampler"
    with pytest.raises(ValueError, match=expected):
        decoder.options(guidance=2.0)
    with pytest.raises(ValueError, match="unknown flow_matching sampler 'sde'; choose one of: euler, midpoint"):
        decoder.options(sampler="sde")
    with pytest.raises(ValueError, match="steps >= 1"):
        decoder.options(steps=0)


def test_paper_size_config():
    check_paper_size_config("flow_matching")


def test_synth_command_with_steps_and_temperature(prepared_mini, tmp_path, capsys):
    options = ["--steps", "2", "--temperature", "0.3", "--option", "sampler=euler"]
    run = train_and_synthesize("flow_matching", prepared_mini, tmp_path, capsys, options)
    assert_synth_errors(run, tmp_path, capsys, [(["--temperature", "-1"], "temperature must be >= 0")])
    synthesizer = Synthesizer.from_checkpoint(run)
    with pytest.raises(ValueError, match="unknown flow_matching sampler 'sde'"):
        synthesizer.tts("Hello.", sampler="sde")
