"""HiFi-GAN trained by the shared trainer on real LJSpeech clips: finite losses, falling copy-synthesis error,
exact resume, checkpoints that carry what synthesis needs."""

from __future__ import annotations

import torch

from tests.vocoders.conftest import DEMO, TINY
from tts_gen.audio import AudioConfig
from tts_gen.data.features import FeatureStore
from tts_gen.runs import load_checkpoint, read_metrics, resolve_checkpoint
from tts_gen.train.trainer import TrainData, Trainer
from tts_gen.vocoders.config import load_vocoder_experiment
from tts_gen.vocoders.data import MelSource, VocoderDataset, collate_vocoder
from tts_gen.vocoders.model import HiFiGANModel, cut_vocoder_segments, sample_audio


def shortest_clips(prepared_mini, config, count: int = 2) -> VocoderDataset:
    dataset = VocoderDataset.from_split(
        prepared_mini, "train", MelSource(FeatureStore(prepared_mini, config.audio)), config.audio
    )
    return VocoderDataset(sorted(dataset.utterances, key=lambda u: u.n_frames)[:count], dataset.mels, config.audio)


def make_trainer(config, data, run_dir) -> Trainer:
    torch.manual_seed(config.train.seed)
    model = HiFiGANModel(config.vocoder, config.audio)
    return Trainer(model, config.train, data, run_dir, {"kind": "vocoder"}, sample_audio(config.audio))


def copy_synthesis_error(model: HiFiGANModel, batch) -> float:
    model.eval()
    with torch.no_grad():
        return float(model(batch).terms["vocoder/mel_l1"])


def test_segments_cut_mel_and_audio_at_the_same_place(prepared_mini):
    config = load_vocoder_experiment(DEMO, TINY)
    clips = shortest_clips(prepared_mini, config, 3)
    batch = collate_vocoder([clips[i] for i in range(3)])
    torch.manual_seed(0)
    segments = cut_vocoder_segments(batch, 16, config.audio)
    assert segments.mel.shape == (3, 80, 16) and segments.audio.shape == (3, 1, 16 * 256)
    for i in range(3):  # each window's mel equals the mel of its own audio (away from the window's edges)
        from tts_gen.audio import mel_spectrogram

        own = mel_spectrogram(segments.audio[i, 0], config.audio)
        assert float((own[:, 2:-2] - segments.mel[i, :, 2:-2]).abs().max()) < 1e-3


def test_training_steps_are_finite_and_copy_synthesis_improves(prepared_mini, tmp_path):
    steps = 12
    config = load_vocoder_experiment(
        DEMO,
        [
            *TINY,
            f"train.max_steps={steps}",
            "train.val_every=1000",
            "train.checkpoint_every=1000",
            "train.learning_rate=2.0e-3",
        ],
    )
    clips = shortest_clips(prepared_mini, config)
    data = TrainData(clips, clips, collate_vocoder, clips.lengths, clips.lengths)
    trainer = make_trainer(config, data, tmp_path)
    batch = collate_vocoder([clips[0], clips[1]])
    before = copy_synthesis_error(trainer.model, batch)
    trainer.fit()
    rows = [row for row in read_metrics(tmp_path) if row["split"] == "train"]
    assert len(rows) == steps
    for key in ("vocoder/mel_l1", "vocoder/adversarial", "vocoder/feature_matching", "vocoder/discriminator", "loss"):
        assert all(torch.isfinite(torch.tensor(row[key])) for row in rows), key
    after = copy_synthesis_error(trainer.model, batch)
    print(f"copy-synthesis mel-L1 {before:.3f} -> {after:.3f}")
    assert after < 0.7 * before
    assert trainer.skipped_steps == 0


def test_resumed_run_continues_exactly(prepared_mini, tmp_path):
    config = load_vocoder_experiment(
        DEMO, [*TINY, "train.max_steps=4", "train.val_every=1000", "train.checkpoint_every=1000"]
    )
    clips = shortest_clips(prepared_mini, config, 3)
    data = TrainData(clips, clips, collate_vocoder, clips.lengths, clips.lengths)
    straight = make_trainer(config, data, tmp_path / "straight")
    straight.fit()
    interrupted = make_trainer(config, data, tmp_path / "resumed")
    interrupted.fit(until_step=2)
    torch.manual_seed(999)  # the resumed run must not depend on the state of the process
    resumed = make_trainer(config, data, tmp_path / "resumed")
    assert resumed.position.step == 2
    resumed.fit()
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    for name in ("generator", "discriminator"):
        assert str(straight.optimizers[name].state_dict()) == str(resumed.optimizers[name].state_dict())


def test_checkpoint_carries_kind_config_and_versions(vocoder_run):
    payload = load_checkpoint(resolve_checkpoint(vocoder_run))
    assert payload["kind"] == "vocoder"
    assert payload["config"]["audio"] == {k: getattr(AudioConfig(), k) for k in payload["config"]["audio"]}
    assert payload["config"]["vocoder"]["generator"]["upsample_initial_channel"] == 16
    assert {"tts_gen", "torch", "python"} <= set(payload["versions"])
    val = [row for row in read_metrics(vocoder_run) if row["split"] == "val"]
    assert val and "vocoder/mel_l1" in val[-1]
