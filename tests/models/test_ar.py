"""What is specific to the autoregressive family: the step loop, the reduction factor, sampling options, the
Gaussian likelihood, configs and the command line."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal

from tests.conftest import ROOT
from tests.models.helpers import N_MELS, assert_synth_errors, random_batch, train_and_synthesize
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.ar import ARDecoder, ARDecoderConfig, AROptions, fold, gaussian_nll, unfold
from tts_gen.models.layers.masks import sequence_mask


def tiny_decoder(**changes) -> ARDecoder:
    sizes = dict(prenet_channels=16, cond_channels=24, cond_layers=2, lstm_channels=32, lstm_layers=2)
    sizes.update(postnet_layers=0)
    config = ARDecoderConfig(**{**sizes, **changes})
    torch.manual_seed(0)
    return ARDecoder(config, N_MELS).eval()


def test_fold_and_unfold_group_r_frames_per_step():
    x = torch.arange(2 * 3 * 12, dtype=torch.float).view(2, 3, 12)
    steps = fold(x, 4)
    assert steps.shape == (2, 3, 12)
    assert torch.equal(steps[1, 2, 3:6], x[1, :, 9])  # step 2 holds frames 8..11 (3 channels each); 9 is second
    assert torch.equal(unfold(steps, 4), x)


def test_gaussian_nll_matches_torch_and_ignores_padding():
    cond, mask, target = random_batch()
    mean, log_scale = torch.randn_like(target), 0.3 * torch.randn_like(target)
    expected = -Normal(mean, log_scale.exp()).log_prob(target)
    expected = (expected * mask).sum() / (mask.sum() * N_MELS)
    assert torch.allclose(gaussian_nll(target, mean, log_scale, mask), expected, atol=1e-5)
    garbage = target + 100 * (1 - mask)
    assert torch.allclose(gaussian_nll(garbage, mean, log_scale, mask), expected, atol=1e-5)


@pytest.mark.parametrize("r", [1, 3])
def test_step_loop_reproduces_the_teacher_forced_lstm(r):
    """The step function (one matrix product per layer) computes the same network as the fused LSTM."""
    decoder = tiny_decoder(reduction_factor=r)
    cond, mask, target = random_batch((19, 12))
    with torch.no_grad():
        teacher_forced = decoder.loss(cond, mask, target).mel  # (B, n_mels, T): the mean, dropout off in eval
        cond_p, mask_p, target_p = decoder._padded(cond, mask, target)
        features = decoder._condition(cond_p, mask_p)
        inputs = decoder.step_inputs(features, fold(cond_p, r))
        state = decoder.initial_state(2, cond)
        previous = torch.zeros(2, N_MELS)
        means = []
        for index in range(features.shape[1]):
            stats, state = decoder.step(previous, index, inputs, state, AROptions(prenet_dropout=False))
            means.append(stats.chunk(2, dim=-1)[0])
            previous = target_p[:, :, (index + 1) * r - 1]
        stepped = unfold(torch.stack(means, dim=1), r)[..., : cond.shape[-1]] * mask
    assert torch.allclose(stepped, teacher_forced, atol=1e-5)


@pytest.mark.parametrize("r, length", [(1, 10), (3, 10), (3, 20), (4, 21)])
def test_synthesis_takes_ceil_length_over_r_steps_on_a_state_of_fixed_size(r, length):
    decoder = tiny_decoder(reduction_factor=r)
    calls, state_sizes = [], set()
    original = decoder.step

    def counting_step(previous, index, inputs, state, options):
        calls.append(index)
        state_sizes.add(tuple(t.numel() for t in state.hidden + state.cell))
        return original(previous, index, inputs, state, options)

    decoder.step = counting_step
    mask = sequence_mask(torch.tensor([length, length - 3]))
    with torch.no_grad():
        mel = decoder.generate(torch.randn(2, N_MELS, length) * mask, mask, decoder.options())
    assert calls == list(range(math.ceil(length / r)))
    assert state_sizes == {(2 * 32,) * 4}  # 2 layers x (hidden, cell), each (B, lstm_channels)
    assert mel.shape == (2, N_MELS, length)
    assert mel[1, :, length - 3 :].abs().max() == 0 and mel[1, :, : length - 3].abs().sum() > 0


@pytest.mark.parametrize("r", [2, 3])
def test_reduction_factor_handles_lengths_that_are_not_multiples(r):
    decoder = tiny_decoder(reduction_factor=r, postnet_layers=2, postnet_channels=16).train()
    cond, mask, target = random_batch((17, 10))
    out = decoder.loss(cond, mask, target)
    assert set(out.terms) == {"ar/nll", "ar/postnet"} and all(torch.isfinite(v) for v in out.terms.values())
    assert out.mel.shape == target.shape and out.mel[1, :, 10:].abs().max() == 0
    # values past the mask (here in the padded last step of item 1) change nothing
    decoder.eval()
    clean = decoder.loss(cond, mask, target).terms
    noisy = decoder.loss(cond, mask, target + 5 * (1 - mask)).terms
    assert all(torch.allclose(clean[key], noisy[key]) for key in clean)


def test_temperature_scales_the_sampled_spread_and_zero_is_the_mean():
    decoder = tiny_decoder(reduction_factor=2)
    cond, mask, _ = random_batch((16, 16))

    def sample(temperature: float, seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        with torch.no_grad():
            return decoder.generate(cond, mask, decoder.options(temperature=temperature, prenet_dropout=False))

    assert torch.equal(sample(0.0, 1), sample(0.0, 2))  # the mean path draws nothing
    spread_low = (sample(0.3, 1) - sample(0.3, 2)).std()
    spread_high = (sample(1.0, 1) - sample(1.0, 2)).std()
    assert spread_low > 0 and spread_high > 2 * spread_low


def test_prenet_dropout_at_synthesis_is_an_option():
    decoder = tiny_decoder(reduction_factor=2)
    cond, mask, _ = random_batch((16, 16))
    outputs = {}
    for dropout in (True, False):
        for seed in (1, 2):
            torch.manual_seed(seed)
            with torch.no_grad():
                outputs[dropout, seed] = decoder.generate(cond, mask, decoder.options(prenet_dropout=dropout))
    assert not torch.equal(outputs[True, 1], outputs[True, 2])
    assert torch.equal(outputs[False, 1], outputs[False, 2])


def test_bad_options_and_sizes_are_clear_errors():
    decoder = tiny_decoder()
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        decoder.options(temperature=-0.5)
    with pytest.raises(ValueError, match="the ar decoder has no option steps; its options are: temperature, prenet_"):
        decoder.options(steps=3)
    with pytest.raises(ValueError, match="reduction_factor must be >= 1"):
        ARDecoderConfig(reduction_factor=0)
    with pytest.raises(ValueError, match="postnet_layers must be >= 0"):
        ARDecoderConfig(postnet_layers=-1)


def test_ljspeech_config_builds_the_tacotron2_sized_networks():
    config = load_experiment(ROOT / "egs/ljspeech/ar.yaml").model.decoder
    assert (config.prenet_layers, config.prenet_channels, config.prenet_dropout) == (2, 256, 0.5)
    assert (config.postnet_layers, config.postnet_channels, config.postnet_kernel_size) == (5, 512, 5)
    decoder = ARDecoder(config, N_MELS).train()
    cond, mask, target = random_batch((13, 8))
    terms = decoder.loss(cond, mask, target).terms
    assert all(torch.isfinite(v) for v in terms.values())


def test_synth_command_with_temperature(prepared_mini, tmp_path, capsys):
    options = ["--temperature", "0.5", "--option", "prenet_dropout=true"]
    shrink = ["model.decoder.lstm_channels=64", "model.decoder.cond_channels=32"]
    run = train_and_synthesize("ar", prepared_mini, tmp_path, capsys, options, shrink)
    assert_synth_errors(run, tmp_path, capsys, [
        (["--steps", "4"], "the ar decoder has no option steps"),
        (["--temperature", "-1"], "temperature must be >= 0"),
        (["--option", "prenet_dropout=maybe"], "option prenet_dropout needs true or false"),
    ])  # fmt: skip
