"""The flow decoder is exactly invertible, its loss is the exact negative log-likelihood, and it starts from cond."""

from __future__ import annotations

import math

import pytest
import torch

from tts_gen.models.decoders.flow import FlowDecoder, FlowDecoderConfig

N_MELS = 8


def tiny_flow(conditional_base: bool = False) -> FlowDecoder:
    torch.manual_seed(0)
    config = FlowDecoderConfig(
        hidden_channels=8, n_blocks=2, n_layers=2, kernel_size=3, dropout=0.0, conditional_base=conditional_base
    )
    decoder = FlowDecoder(config, N_MELS)
    if conditional_base:  # a base that is not N(0, I) yet: the projection starts at zero
        torch.nn.init.normal_(decoder.base.project.weight, std=0.3)
    return decoder


def random_pair(frames: int = 6):
    generator = torch.Generator().manual_seed(1)
    cond = torch.randn(1, N_MELS, frames, generator=generator)
    target = cond + 0.5 * torch.randn(1, N_MELS, frames, generator=generator) + 0.2
    return cond, torch.ones(1, 1, frames), target


def initialise(decoder: FlowDecoder, cond, mask, target) -> None:
    """One training-mode loss: ActNorm's data-dependent initialisation. Then evaluation mode."""
    decoder.train().loss(cond, mask, target)
    decoder.eval()


def forward_map(decoder: FlowDecoder, residual, cond, mask):
    (x, cond_sq), mask_sq = decoder._squeezed(residual, cond, mask=mask)
    for flow in decoder.flows:
        x, _ = flow(x, mask_sq, cond_sq)
    return x, cond_sq, mask_sq


def test_the_inverse_undoes_the_forward_map():
    decoder = tiny_flow()
    cond, mask, target = random_pair()
    initialise(decoder, cond, mask, target)
    with torch.no_grad():
        x, cond_sq, mask_sq = forward_map(decoder, target - cond, cond, mask)
        for flow in reversed(decoder.flows):
            x = flow.inverse(x, mask_sq, cond_sq)
    (expected,), _ = decoder._squeezed(target - cond, mask=mask)
    assert torch.allclose(x, expected, atol=1e-5)


@pytest.mark.parametrize("conditional_base", [False, True])
def test_the_loss_is_the_exact_negative_log_likelihood_per_mel_bin(conditional_base):
    decoder = tiny_flow(conditional_base)
    cond, mask, target = random_pair()
    initialise(decoder, cond, mask, target)
    with torch.no_grad():
        nll = float(decoder.loss(cond, mask, target).terms["flow/nll"])

    def f(flat_target):
        x, _, _ = forward_map(decoder, flat_target.view_as(target) - cond, cond, mask)
        return x.flatten()

    jacobian = torch.autograd.functional.jacobian(f, target.flatten())
    z = f(target.flatten()).detach()
    elements = target.numel()
    with torch.no_grad():
        (cond_sq,), mask_sq = decoder._squeezed(cond, mask=mask)
        base = decoder._base(cond_sq, mask_sq)
    mean, log_std = base.mean, base.log_std
    if conditional_base:
        assert log_std.abs().sum() > 0
    standardized = (z - mean.flatten()) * torch.exp(-log_std.flatten())
    log_density = (
        -0.5 * float((standardized**2).sum())
        - float(log_std.sum())
        - 0.5 * math.log(2 * math.pi) * elements
        + float(torch.slogdet(jacobian)[1])
    )
    assert abs(nll - (-log_density / elements)) < 1e-4


def test_a_fresh_flow_samples_close_to_cond_at_temperature_zero():
    decoder = tiny_flow()
    cond, mask, target = random_pair(frames=40)
    initialise(decoder, cond, mask, target)  # ActNorm centres and scales the residual target - cond
    with torch.no_grad():
        mel = decoder.generate(cond, mask, decoder.options(temperature=0.0))
    # f^-1(0) is the residual's mean (0.2 here, by construction): the sample is the encoder's prediction plus it
    assert (mel - cond - 0.2).abs().mean() < 0.1
    assert (mel - cond).abs().mean() < (target - cond).abs().mean()
