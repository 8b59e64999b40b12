"""The contract every registered decoder family must keep (runs over the registry, CPU-size configs)."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import ROOT
from tests.models.helpers import N_MELS, demo_decoder, random_batch
from tts_gen.experiment import load_experiment
from tts_gen.models.decoders.base import AdversarialDecoder, Decoder
from tts_gen.models.decoders.registry import DECODERS, build_decoder, decoder_entry
from tts_gen.models.tts import TTSModel
from tts_gen.trainable import AdversarialTerms

FAMILIES = sorted(DECODERS)


def batch(frame_multiple: int, lengths=(37, 23)):
    """A random batch with odd lengths (rounded down to the family's frame multiple)."""
    lengths = [n // frame_multiple * frame_multiple for n in lengths]
    return *random_batch(lengths, noise=0.5, seed=1), lengths


def all_terms(decoder: Decoder, cond, mask, target) -> dict[str, torch.Tensor]:
    """Every loss term the trainer would compute, generator and discriminator."""
    out = decoder.loss(cond, mask, target)
    terms = dict(out.terms)
    if isinstance(decoder, AdversarialDecoder):
        assert out.mel is not None and out.mel.shape == target.shape
        adversarial = AdversarialTerms(cond=cond, mask=mask, real=target, fake=out.mel)
        terms.update(decoder.adversarial_loss(adversarial))
        detached = AdversarialTerms(cond=cond, mask=mask, real=target, fake=out.mel.detach())
        terms.update(decoder.discriminator_loss(detached))
    return terms


@pytest.mark.parametrize("family", FAMILIES)
def test_losses_are_finite_and_named_on_odd_lengths(family):
    decoder = demo_decoder(family).train()
    cond, mask, target, _ = batch(decoder.frame_multiple)
    terms = all_terms(decoder, cond, mask, target)
    assert terms, "a decoder must return at least one loss term"
    for key, value in terms.items():
        assert key.startswith(f"{family}/"), f"loss key {key} must start with '{family}/'"
        assert value.dim() == 0 and torch.isfinite(value), f"{key} = {value}"


@pytest.mark.parametrize("family", FAMILIES)
def test_declared_loss_keys_are_the_terms_returned(family):
    decoder = demo_decoder(family).train()
    cond, mask, target, _ = batch(decoder.frame_multiple)
    assert sorted(all_terms(decoder, cond, mask, target)) == sorted(decoder.loss_keys())


@pytest.mark.parametrize("family", FAMILIES)
def test_gradients_reach_every_parameter_and_the_condition(family):
    decoder = demo_decoder(family).train()
    cond, mask, target, _ = batch(decoder.frame_multiple)
    cond.requires_grad_(True)
    parameters = list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3) if parameters else None
    for _ in range(2):  # the second pass sees parameters behind zero-initialised output layers move
        cond.grad = None
        decoder.zero_grad()
        sum(all_terms(decoder, cond, mask, target).values()).backward()
        if optimizer is not None:
            optimizer.step()
    assert cond.grad is not None and cond.grad.abs().sum() > 0, "the encoder would get no gradient"
    for name, parameter in decoder.named_parameters():
        assert parameter.grad is not None, f"{name} gets no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{name} has a non-finite gradient"
        assert parameter.grad.abs().sum() > 0, f"{name} gets an all-zero gradient"


@pytest.mark.parametrize("family", FAMILIES)
def test_generate_shape_and_zero_padding(family):
    decoder = demo_decoder(family).eval()
    cond, mask, _, lengths = batch(decoder.frame_multiple)
    with torch.no_grad():
        mel = decoder.generate(cond, mask, decoder.options())
    assert mel.shape == cond.shape
    assert torch.isfinite(mel).all()
    for i, length in enumerate(lengths):
        assert mel[i, :, length:].abs().sum() == 0
        assert mel[i, :, :length].abs().sum() > 0


@pytest.mark.parametrize("family", FAMILIES)
def test_seeded_determinism(family):
    decoder = demo_decoder(family).eval()
    cond, mask, target, _ = batch(decoder.frame_multiple)
    results = []
    for _ in range(2):
        torch.manual_seed(123)
        with torch.no_grad():
            results.append((decoder.generate(cond, mask, decoder.options()), decoder.loss(cond, mask, target).terms))
    assert torch.equal(results[0][0], results[1][0])
    for key in results[0][1]:
        assert torch.equal(results[0][1][key], results[1][1][key])


@pytest.mark.parametrize("family", FAMILIES)
def test_unknown_option_is_a_clear_error(family):
    decoder = demo_decoder(family)
    with pytest.raises(ValueError, match=f"the {family} decoder has no option bogus"):
        decoder.options(bogus=1)


def test_a_config_sets_the_default_sampling_options_and_a_call_overrides_them():
    config = load_experiment(
        ROOT / "egs" / "demo" / "flow_matching.yaml", ["model.decoder.sampling={temperature: 0.25}"]
    )
    decoder = build_decoder(config.model.decoder, N_MELS)
    assert decoder.options().temperature == 0.25 and decoder.options().steps == 5
    assert decoder.options(temperature=0.5).temperature == 0.5
    cond, mask, _, _ = batch(decoder.frame_multiple)
    torch.manual_seed(3)
    by_default = decoder.generate(cond, mask, decoder.options())
    torch.manual_seed(3)
    assert torch.equal(by_default, decoder.generate(cond, mask, decoder.options(temperature=0.25)))
    wrong = load_experiment(ROOT / "egs" / "demo" / "flow.yaml", ["model.decoder.sampling={steps: 4}"])
    with pytest.raises(ValueError, match="the flow decoder has no option steps"):
        build_decoder(wrong.model.decoder, N_MELS)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_loss_window_cuts_the_same_frames_from_condition_and_target_for_every_family(family, monkeypatch):
    config = load_experiment(ROOT / "egs" / "demo" / f"{family}.yaml", ["model.decoder.segment_frames=16"]).model
    torch.manual_seed(0)
    model = TTSModel(config, num_symbols=12, n_mels=N_MELS).train()
    model.freeze_encoder()  # the decoder's terms alone: the encoder is not run on the synthetic batch
    cond, mask, target = random_batch(lengths=(40, 12), seed=5)
    monkeypatch.setattr(model, "condition", lambda batch: (None, None, cond, target, mask))
    seen = []
    decoder_loss = model.decoder.loss
    monkeypatch.setattr(model.decoder, "loss", lambda c, m, t: seen.append((c, m, t)) or decoder_loss(c, m, t))
    out = model(batch=None)
    ((window_cond, window_mask, window_target),) = seen
    assert window_cond.shape == window_target.shape == (2, N_MELS, 16) and window_mask.shape == (2, 1, 16)
    assert window_mask.sum(dim=(1, 2)).tolist() == [16, 12], "a shorter utterance is kept whole"
    starts = [s for s in range(40 - 16 + 1) if torch.equal(cond[0, :, s : s + 16], window_cond[0])]
    assert len(starts) == 1 and torch.equal(target[0, :, starts[0] : starts[0] + 16], window_target[0])
    assert torch.equal(window_cond[1, :, :12], cond[1, :, :12]) and window_cond[1, :, 12:].abs().max() == 0
    assert all(torch.isfinite(value) for value in out.terms.values())
    if out.adversarial is not None:
        assert out.adversarial.real is window_target and out.adversarial.fake.shape[-1] == 16


@pytest.mark.parametrize("family", FAMILIES)
def test_a_negative_loss_window_is_a_config_error(family):
    with pytest.raises(ValueError, match="segment_frames must be >= 0"):
        decoder_entry(family).config_class(segment_frames=-1)
