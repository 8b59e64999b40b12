"""The HiFi-GAN generator and discriminators: published sizes, exact chunking, inference form, shapes."""

from __future__ import annotations

import copy

import pytest
import torch

from tests.conftest import ROOT
from tts_gen.audio import AudioConfig
from tts_gen.config import ConfigError
from tts_gen.vocoders.base import VocoderMismatchError
from tts_gen.vocoders.config import load_vocoder_experiment
from tts_gen.vocoders.discriminators import DiscriminatorConfig, HiFiGANDiscriminator
from tts_gen.vocoders.hifigan import HiFiGAN, HiFiGANGenerator, HiFiGANGeneratorConfig, PolyphaseUpsample

SMALL = HiFiGANGeneratorConfig(
    upsample_rates=[8, 8, 4],
    upsample_kernel_sizes=[16, 16, 8],
    upsample_initial_channel=32,
    resblock_kernel_sizes=[3, 7],
    resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
)


def small_generator(config: HiFiGANGeneratorConfig = SMALL) -> HiFiGANGenerator:
    torch.manual_seed(0)
    generator = HiFiGANGenerator(config, 80).eval()
    with torch.no_grad():  # weights far from the tiny initialisation, so that differences would show
        for parameter in generator.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return generator


@pytest.mark.parametrize("version, million", [(1, 13.92), (2, 0.92), (3, 1.46)])
def test_ljspeech_configs_have_the_published_generator_sizes(version, million):
    config = load_vocoder_experiment(ROOT / "egs" / "ljspeech" / f"hifigan_v{version}.yaml")
    generator = HiFiGANGenerator(config.vocoder.generator, config.audio.n_mels).remove_weight_norm()
    assert sum(p.numel() for p in generator.parameters()) / 1e6 == pytest.approx(million, abs=0.01)
    assert config.train.loss_weights["vocoder/mel_l1"] == 45.0
    assert config.train.loss_weights["vocoder/feature_matching"] == 2.0


def test_config_refuses_rates_that_do_not_make_the_hop():
    with pytest.raises(ConfigError, match="hop"):
        load_vocoder_experiment(
            ROOT / "egs" / "demo" / "hifigan.yaml",
            ["vocoder.generator.upsample_rates=[8,8,2]", "vocoder.generator.upsample_kernel_sizes=[16,16,4]"],
        )


def test_output_shape_range_and_hop():
    generator = small_generator()
    with torch.no_grad():
        wav = generator(torch.randn(2, 80, 13))
    assert wav.shape == (2, 1, 13 * 256)
    assert float(wav.abs().max()) <= 1.0


@pytest.mark.parametrize("resblock", [1, 2])
def test_multi_receptive_field_fusion_is_the_mean_of_residual_stacks(resblock):
    """The MRF written out as in the paper: each stack's layer is x + conv_n(lrelu(... conv_1(lrelu(x))))."""
    config = HiFiGANGeneratorConfig(**{**SMALL.__dict__, "resblock": resblock})
    mrf = small_generator(config).mrfs[0]
    x = torch.randn(2, mrf.stacks[0].layers[0][0].in_channels, 50)
    lrelu = torch.nn.functional.leaky_relu
    outputs = []
    for stack in mrf.stacks:
        y = x
        for convs in stack.layers:
            h = y
            for conv in convs:
                h = conv(lrelu(h, config.lrelu_slope))
            y = y + h
        outputs.append(y)
    with torch.no_grad():
        torch.testing.assert_close(mrf(x), sum(outputs) / len(outputs), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kernel, rate", [(16, 8), (4, 2), (8, 4), (7, 3), (3, 3)])
def test_polyphase_upsample_equals_the_transposed_convolution(kernel, rate):
    torch.manual_seed(0)
    transposed = torch.nn.ConvTranspose1d(6, 5, kernel, rate, padding=(kernel - rate) // 2)
    x = torch.randn(2, 6, 11)
    polyphase = PolyphaseUpsample(transposed)(x)  # (B, C, 1, T) channels-last
    assert polyphase.dim() == 4
    torch.testing.assert_close(polyphase.squeeze(2), transposed(x), atol=1e-6, rtol=1e-5)


def test_weight_norm_removal_and_inference_form_keep_the_output():
    generator = small_generator()
    mel = torch.randn(1, 80, 40)
    with torch.no_grad():
        reference = generator(mel)
        plain = copy.deepcopy(generator).remove_weight_norm()
        fast = copy.deepcopy(generator).for_inference()
        assert not any("parametrizations" in name for name, _ in plain.named_parameters())
        assert not any(isinstance(m, torch.nn.ConvTranspose1d) for m in fast.modules())
        torch.testing.assert_close(plain(mel), reference, atol=1e-5, rtol=0)
        torch.testing.assert_close(fast(mel), reference, atol=1e-5, rtol=0)
        torch.testing.assert_close(generator(mel), reference, atol=0, rtol=0)  # the original is untouched


def test_receptive_field_bounds_the_influence_of_a_frame():
    generator = small_generator()
    reach = generator.receptive_field()
    mel = torch.randn(1, 80, 4 * reach + 1, requires_grad=True)
    centre = 2 * reach
    generator(mel)[0, 0, centre * 256 : (centre + 1) * 256].sum().backward()
    influence = mel.grad.abs().sum(1)[0]  # (frames,)
    touched = torch.nonzero(influence).flatten()
    assert int(touched.min()) >= centre - reach and int(touched.max()) <= centre + reach
    assert int(touched.max()) - int(touched.min()) >= reach  # the bound is not loose by more than half


@pytest.mark.parametrize("chunk_frames", [1, 8, 100])
def test_chunked_vocoding_equals_one_pass(chunk_frames):
    generator = small_generator().for_inference()
    mel = torch.randn(2, 80, 33)
    with torch.no_grad():
        whole = generator(mel)
        pieces = list(generator.chunks(mel, chunk_frames))
        chunked = generator.vocode_chunked(mel, chunk_frames)
    assert len(pieces) == -(-33 // chunk_frames)
    assert chunked.shape == whole.shape
    assert float((chunked - whole).abs().max()) < 1e-4


def test_vocoder_refuses_other_audio_settings():
    vocoder = HiFiGAN(small_generator(), AudioConfig())
    vocoder.check_audio(AudioConfig())
    with pytest.raises(VocoderMismatchError, match="f_max"):
        vocoder.check_audio(AudioConfig(f_max=7600.0))
    with pytest.raises(ValueError, match="hop"):
        HiFiGAN(small_generator(), AudioConfig(hop_length=128, win_length=512, n_fft=512))
    assert vocoder(torch.randn(1, 80, 9)).shape == (1, 9 * 256)


def test_discriminators_judge_every_period_and_scale():
    config = DiscriminatorConfig(
        periods=[2, 3, 5],
        period_channels=[4, 8, 8],
        n_scales=2,
        scale_channels=[8, 8, 8],
        scale_kernel_sizes=[15, 41, 5],
        scale_strides=[1, 4, 1],
        scale_groups=[1, 4, 1],
    )
    judgement = HiFiGANDiscriminator(config)(torch.randn(2, 1, 1001))
    assert len(judgement.scores) == len(judgement.features) == 5
    assert all(score.shape[0] == 2 and score.dim() == 2 for score in judgement.scores)
    assert [len(maps) for maps in judgement.features] == [4, 4, 4, 4, 4]
    assert judgement.features[0][0].shape[-1] == 2 and judgement.features[2][0].shape[-1] == 5  # folded by period
