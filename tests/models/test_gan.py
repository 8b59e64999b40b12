"""What is specific to the GAN decoder: the noise and its temperature, the random-window discriminators and
their masking, the least-squares losses, the adversarial trainer path with exact resume, and the CLI."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import ROOT, cli, train_cli
from tests.models.helpers import N_MELS, random_batch
from tts_gen.acoustic_run import griffin_lim_sample
from tts_gen.data import FeatureStore, TTSDataset, collate_tts
from tts_gen.experiment import build_tts_model, load_experiment
from tts_gen.models.decoders.gan import GANDecoder, GANDecoderConfig
from tts_gen.models.layers.discriminator import (
    DiscriminatorOutput,
    WindowDiscriminatorConfig,
    WindowPair,
    feature_matching_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from tts_gen.models.layers.masks import sequence_mask
from tts_gen.runs import read_metrics
from tts_gen.text import Tokenizer
from tts_gen.train.trainer import TrainData, Trainer
from tts_gen.trainable import AdversarialTerms

TINY_DISCRIMINATOR = WindowDiscriminatorConfig(windows=[8, 16, 64], channels=16, n_layers=2, kernel_size=3)
TINY_RUN = [
    "model.encoder.hidden_channels=32",
    "model.encoder.filter_channels=64",
    "model.encoder.n_layers=1",
    "model.encoder.duration_filter_channels=32",
    "model.decoder.hidden_channels=16",
    "model.decoder.n_stacks=1",
    "model.decoder.n_layers=2",
    "model.decoder.discriminator.channels=16",
    "model.decoder.discriminator.n_layers=2",
    "train.batch_size=2",
    "train.num_workers=0",
    "train.warmup_steps=2",
    "train.log_every=1",
]


def tiny_decoder(noise_channels: int = 4) -> GANDecoder:
    torch.manual_seed(0)
    config = GANDecoderConfig(
        noise_channels=noise_channels, hidden_channels=16, n_layers=2, n_stacks=2, discriminator=TINY_DISCRIMINATOR
    )
    return GANDecoder(config, N_MELS)


def generate(decoder, cond, mask, seed, **options):
    torch.manual_seed(seed)
    with torch.no_grad():
        return decoder.eval().generate(cond, mask, decoder.options(**options))


def test_temperature_scales_the_noise_and_zero_is_deterministic():
    decoder = tiny_decoder()
    cond, mask, _ = random_batch((40, 27))
    assert torch.equal(
        generate(decoder, cond, mask, 1, temperature=0.0), generate(decoder, cond, mask, 2, temperature=0.0)
    )
    noise_free = generate(decoder, cond, mask, 1, temperature=0.0)
    spread = [(generate(decoder, cond, mask, 1, temperature=t) - noise_free).abs().mean() for t in (0.1, 1.0)]
    assert spread[0] > 0, "the noise must change the output"
    assert spread[1] > 3 * spread[0], "a higher temperature must move the output further from the noise-free one"
    a, b = generate(decoder, cond, mask, 1), generate(decoder, cond, mask, 2)
    assert not torch.allclose(a, b), "two seeds at the default temperature gave the same mel"


def test_without_noise_channels_the_generator_is_deterministic():
    decoder = tiny_decoder(noise_channels=0)
    cond, mask, _ = random_batch((40, 27))
    assert torch.equal(generate(decoder, cond, mask, 1), generate(decoder, cond, mask, 2))


def outputs(scores, mask, features=()):
    return DiscriminatorOutput(
        scores=scores, score_mask=mask, features=list(features), feature_masks=[mask] * len(features)
    )


def test_least_squares_losses_reach_zero_at_their_targets_and_ignore_padding():
    mask = sequence_mask(torch.tensor([5, 3]))  # (2, 1, 5)
    garbage = 7.0 * (1 - mask)  # values past the mask must not count
    ones, zeros = torch.ones(2, 1, 5) * mask + garbage, garbage.clone()
    perfect = WindowPair(real=outputs(ones, mask), fake=outputs(zeros, mask))
    assert float(lsgan_discriminator_loss([perfect])) == 0.0
    assert float(lsgan_generator_loss([perfect])) == pytest.approx(1.0)  # every valid fake score is 0: (0 - 1)^2
    fooled = WindowPair(real=outputs(ones, mask), fake=outputs(ones.clone(), mask))
    assert float(lsgan_generator_loss([fooled])) == 0.0
    assert float(lsgan_discriminator_loss([fooled])) == pytest.approx(1.0)
    features = torch.randn(2, 3, 5) * mask
    shifted = features + 0.5 * mask + garbage
    pair = WindowPair(real=outputs(ones, mask, [features]), fake=outputs(zeros, mask, [shifted]))
    assert float(feature_matching_loss([pair])) == pytest.approx(0.5)


def test_discriminators_judge_the_same_window_of_real_and_fake():
    decoder = tiny_decoder()
    cond, mask, target = random_batch((40, 27))
    torch.manual_seed(5)
    with torch.no_grad():
        pairs = decoder.discriminator(target, target.clone(), cond, mask)
    assert len(pairs) == len(TINY_DISCRIMINATOR.windows)
    for pair, window in zip(pairs, TINY_DISCRIMINATOR.windows):
        assert pair.real.scores.shape[-1] == -(-min(window, mask.shape[-1]) // 2**TINY_DISCRIMINATOR.n_layers)
        assert torch.equal(pair.real.scores, pair.fake.scores)
    assert float(feature_matching_loss(pairs)) == 0.0


def test_padding_does_not_change_the_adversarial_losses():
    decoder = tiny_decoder().train()
    cond, mask, target = random_batch((40, 27))
    fake = decoder.loss(cond, mask, target).mel.detach()
    noisy = [x + 9.0 * torch.randn(x.shape) * (1 - mask) for x in (cond, target, fake)]
    results = []
    for c, t, f in ((cond, target, fake), noisy):
        torch.manual_seed(11)
        terms = AdversarialTerms(cond=c, mask=mask, real=t, fake=f)
        results.append({**decoder.discriminator_loss(terms), **decoder.adversarial_loss(terms)})
    for key in results[0]:
        assert torch.allclose(results[0][key], results[1][key]), key


def test_windows_come_from_the_torch_random_generator():
    decoder = tiny_decoder().train()
    cond, mask, target = random_batch(lengths=(200, 150))
    fake = decoder.loss(cond, mask, target).mel.detach()
    terms = AdversarialTerms(cond=cond, mask=mask, real=target, fake=fake)
    losses = []
    for seed in (1, 1, 2):
        torch.manual_seed(seed)
        losses.append(decoder.discriminator_loss(terms)["gan/discriminator"])
    assert torch.equal(losses[0], losses[1])
    assert not torch.equal(losses[0], losses[2])


def test_paper_size_config_builds_and_generates():
    config = load_experiment(ROOT / "egs" / "ljspeech" / "gan.yaml")
    torch.manual_seed(0)
    decoder = GANDecoder(config.model.decoder, N_MELS)
    cond, mask, _ = random_batch(lengths=(30, 21))
    mel = generate(decoder, cond, mask, 0)
    assert mel.shape == cond.shape and torch.isfinite(mel).all() and mel[1, :, 21:].abs().max() == 0
    assert len(decoder.discriminator.discriminators) == len(config.model.decoder.discriminator.windows)


def tiny_trainer(prepared, run_dir, overrides, seed=0):
    config = load_experiment(ROOT / "egs" / "demo" / "gan.yaml", TINY_RUN + overrides)
    tokenizer = Tokenizer(config.text)
    store = FeatureStore(prepared, config.audio)
    rows = sorted(TTSDataset.from_split(prepared, "train", store, tokenizer).utterances, key=lambda u: u.n_frames)[:5]
    train = TTSDataset(rows, store, tokenizer)
    data = TrainData(train, train, collate_tts, train.lengths, train.lengths)
    torch.manual_seed(seed)
    model = build_tts_model(config, tokenizer.num_symbols, store.stats())
    return Trainer(model, config.train, data, run_dir, {"kind": "acoustic"}, griffin_lim_sample(config.audio))


def test_adversarial_training_steps_both_networks_and_resumes_exactly(prepared_mini, tmp_path):
    overrides = ["train.max_steps=4", "train.val_every=100", "train.checkpoint_every=100"]
    straight = tiny_trainer(prepared_mini, tmp_path / "straight", overrides)
    before = {k: v.clone() for k, v in straight.model.state_dict().items()}
    straight.fit()
    after = straight.model.state_dict()
    moved = {
        prefix: any(not torch.equal(before[k], after[k]) for k in after if k.startswith(prefix))
        for prefix in ("decoder.generator.", "decoder.discriminator.", "encoder.")
    }
    assert all(moved.values()), f"parameters that did not move: {moved}"
    rows = [row for row in read_metrics(tmp_path / "straight") if row["split"] == "train"]
    assert {"gan/discriminator", "gan/adversarial", "gan/feature_matching", "gan/l1", "grad_norm/discriminator"} <= set(
        rows[-1]
    )

    tiny_trainer(prepared_mini, tmp_path / "resumed", overrides).fit(until_step=2)  # stops inside the first epoch
    resumed = tiny_trainer(prepared_mini, tmp_path / "resumed", overrides, seed=99)
    assert resumed.position.step == 2
    resumed.fit()
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), f"{name} differs after resume"
    for name in ("generator", "discriminator"):
        a, b = straight.optimizers[name].state_dict()["state"], resumed.optimizers[name].state_dict()["state"]
        assert all(torch.equal(a[i]["exp_avg"], b[i]["exp_avg"]) for i in a), f"{name} optimizer differs after resume"


def test_synth_cli_with_temperature_and_unknown_option(prepared_mini, tmp_path, capsys):
    run = tmp_path / "run"
    assert train_cli("gan", prepared_mini, run, [*TINY_RUN, "train.max_steps=3", "train.val_every=3"]) == 0
    for temperature in ("0", "0.7"):
        out = tmp_path / f"t{temperature}.wav"
        assert (
            cli("synth", "--checkpoint", run, "--text", "Hello there.", "--out", out, "--temperature", temperature) == 0
        )
        assert out.stat().st_size > 1000
    capsys.readouterr()
    assert cli("synth", "--checkpoint", run, "--text", "Hello.", "--out", tmp_path / "x.wav", "--steps", "4") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "the gan decoder has no option steps; its options are: temperature" in err
    assert not (tmp_path / "x.wav").exists()
