"""What is specific to the VAE family: the KL, the free-bits floor, the Gaussian decoder, temperature, configs."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from tests.conftest import ROOT
from tests.models.helpers import N_MELS, assert_synth_errors, random_batch, train_and_synthesize
from tts_gen.config import ConfigError
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.vae import (
    DiagonalGaussian,
    VAEDecoder,
    VAEDecoderConfig,
    WaveNetSize,
    gaussian_kl,
    kl_per_frame,
)
from tts_gen.models.layers.masks import sequence_mask


def tiny_decoder(**changes) -> VAEDecoder:
    size = WaveNetSize(hidden_channels=16, kernel_size=3, n_layers=2)
    config = VAEDecoderConfig(z_channels=4, posterior=size, prior=size, decoder=size, **changes)
    torch.manual_seed(0)
    return VAEDecoder(config, N_MELS).eval()


def random_gaussian(shape, seed: int) -> DiagonalGaussian:
    generator = torch.Generator().manual_seed(seed)
    return DiagonalGaussian(torch.randn(shape, generator=generator), 0.5 * torch.randn(shape, generator=generator))


def test_kl_matches_torch_and_is_zero_for_equal_gaussians():
    q, p = random_gaussian((2, 4, 7), 0), random_gaussian((2, 4, 7), 1)
    expected = kl_divergence(Normal(q.mean, q.log_std.exp()), Normal(p.mean, p.log_std.exp()))
    assert torch.allclose(gaussian_kl(q, p), expected, atol=1e-5)
    assert gaussian_kl(q, q).abs().max() < 1e-6


def test_kl_term_is_zero_when_posterior_equals_prior():
    """With the prior's weights copied into the posterior, its condition input silenced and target == cond,
    q(z | mel, cond) = p(z | cond)."""
    decoder = tiny_decoder()
    cond, mask, target = random_batch()
    kl = decoder.loss(cond, mask, target).terms["vae/kl"]
    assert kl > 1e-3
    missing, unexpected = decoder.posterior.load_state_dict(decoder.prior.state_dict(), strict=False)
    assert not unexpected and all(name.startswith("network.cond_layer.") for name in missing)
    cond_layer = decoder.posterior.network.cond_layer
    with torch.no_grad():
        cond_layer.parametrizations.weight.original0.zero_()  # weight-norm magnitude: the weight becomes zero
        cond_layer.bias.zero_()
    assert decoder.loss(cond, mask, cond).terms["vae/kl"].abs() < 1e-6


def test_kl_is_per_frame_summed_over_channels_and_ignores_padding():
    q, p = random_gaussian((2, 4, 9), 0), random_gaussian((2, 4, 9), 1)
    mask = sequence_mask(torch.tensor([9, 5]))
    kl = gaussian_kl(q, p)
    expected = (kl[0].sum() + kl[1, :, :5].sum()) / 14
    assert torch.allclose(kl_per_frame(kl, mask, 0.0), expected)
    kl_changed = kl.clone()
    kl_changed[1, :, 5:] = 100.0
    assert torch.allclose(kl_per_frame(kl_changed, mask, 0.0), expected)


def test_free_bits_floor_each_channel_and_stop_its_gradient():
    mask = torch.ones(1, 1, 10)
    per_channel = torch.tensor([0.05, 0.2, 1.0]).view(1, 3, 1).repeat(1, 1, 10).requires_grad_()
    floored = kl_per_frame(per_channel, mask, free_bits=0.25)
    assert torch.allclose(floored, torch.tensor(0.25 + 0.25 + 1.0))
    floored.backward()
    grad = per_channel.grad[0, :, 0]
    assert grad[0] == 0 and grad[1] == 0 and grad[2] > 0
    assert torch.allclose(kl_per_frame(per_channel, mask, free_bits=0.0), torch.tensor(1.25))


def test_reconstruction_is_the_gaussian_nll_per_valid_mel_bin():
    decoder = tiny_decoder()
    with torch.no_grad():
        decoder.log_sigma.copy_(0.3 * torch.randn_like(decoder.log_sigma))
    cond, mask, target = random_batch()
    mean = cond + 0.1
    expected = -Normal(mean, decoder.log_sigma.exp()).log_prob(target)
    expected = (expected * mask).sum() / (mask.sum() * N_MELS)
    assert torch.allclose(decoder.reconstruction_nll(mean, target, mask), expected, atol=1e-5)
    target_padded = target + 5.0 * (1 - mask)
    assert torch.allclose(decoder.reconstruction_nll(mean, target_padded, mask), expected, atol=1e-5)


def randomized_output_layer(decoder: VAEDecoder) -> VAEDecoder:
    """The mel decoder's output layer starts at zero (mel = cond); give it weights so that z matters."""
    with torch.no_grad():
        decoder.decoder.end.weight.normal_(0, 0.3)
    return decoder


def test_temperature_scales_the_distance_from_the_prior_mean():
    decoder = randomized_output_layer(tiny_decoder())
    cond, mask, _ = random_batch()
    with torch.no_grad():
        at_mean = decoder.generate(cond, mask, decoder.options(temperature=0.0))
        assert torch.equal(at_mean, decoder.generate(cond, mask, decoder.options(temperature=0.0)))
        distances = []
        for temperature in (0.3, 1.0):
            torch.manual_seed(7)
            sample = decoder.generate(cond, mask, decoder.options(temperature=temperature))
            distances.append(float((sample - at_mean).norm()))
    assert 0 < distances[0] < 0.6 * distances[1]


def test_generation_of_an_item_does_not_depend_on_the_batch_padding():
    decoder = randomized_output_layer(tiny_decoder())
    cond, mask, _ = random_batch((19, 12))
    options = decoder.options(temperature=0.0)
    with torch.no_grad():
        batched = decoder.generate(cond, mask, options)
        alone = decoder.generate(cond[1:, :, :12], mask[1:, :, :12], options)
    assert torch.allclose(batched[1:, :, :12], alone, atol=1e-5)
    assert batched[1, :, 12:].abs().max() == 0


def test_bad_options_and_sizes_are_clear_errors():
    decoder = tiny_decoder()
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        decoder.options(temperature=-0.5)
    with pytest.raises(ValueError, match="the vae decoder has no option steps; its options are: temperature"):
        decoder.options(steps=4)
    with pytest.raises(ConfigError, match="free_bits must be >= 0"):
        load_experiment(ROOT / "egs/demo/vae.yaml", ["model.decoder.free_bits=-1"])
    with pytest.raises(ConfigError, match="unknown config key.*posterior.channels"):
        load_experiment(ROOT / "egs/demo/vae.yaml", ["model.decoder.posterior.channels=8"])


def test_ljspeech_config_builds_the_vits_sized_networks():
    config = load_experiment(ROOT / "egs/ljspeech/vae.yaml").model.decoder
    assert (config.posterior.n_layers, config.posterior.hidden_channels, config.posterior.kernel_size) == (16, 192, 5)
    decoder = VAEDecoder(config, N_MELS).train()
    cond, mask, target = random_batch((13, 8))
    terms = decoder.loss(cond, mask, target).terms
    assert set(terms) == {"vae/recon", "vae/kl"} and all(torch.isfinite(v) for v in terms.values())


def test_synth_command_with_temperature(prepared_mini, tmp_path, capsys):
    shrink = [f"model.decoder.{net}.n_layers=2" for net in ("posterior", "prior", "decoder")]
    run = train_and_synthesize("vae", prepared_mini, tmp_path, capsys, ["--temperature", "0.5"], shrink)
    assert_synth_errors(run, tmp_path, capsys, [
        (["--steps", "4"], "the vae decoder has no option steps"),
        (["--temperature", "-1"], "temperature must be >= 0"),
    ])  # fmt: skip
