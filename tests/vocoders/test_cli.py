"""The vocoder from the command line: copy-synthesis, teacher-forced mels, fine-tuning on them, synthesis."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.conftest import MINI_CORPUS
from tests.vocoders.conftest import DEMO, TINY
from tts_gen.audio import AudioConfig, load_wav, mel_spectrogram
from tts_gen.cli import main
from tts_gen.data.features import FeatureStore
from tts_gen.data.manifest import read_manifest
from tts_gen.runs import load_checkpoint, resolve_checkpoint
from tts_gen.vocoders import VocoderMismatchError, load_hifigan, load_vocoder
from tts_gen.vocoders.data import MelSource, VocoderDataset
from tts_gen.vocoders.run import check_mels_dir


def test_vocode_a_recording_and_a_mel(vocoder_run, tmp_path):
    wav_path = MINI_CORPUS / "wavs" / "LJ001-0002.wav"
    out = tmp_path / "copy.wav"
    assert main(["vocode", str(wav_path), "--checkpoint", str(vocoder_run), "--out", str(out)]) == 0
    frames = mel_spectrogram(load_wav(wav_path, 22050)).shape[-1]
    assert sf.info(str(out)).frames == frames * 256 and sf.info(str(out)).samplerate == 22050

    mel = mel_spectrogram(load_wav(wav_path, 22050))[:, :40].numpy()
    np.save(tmp_path / "mel.npy", mel)
    chunked = tmp_path / "chunked.wav"
    assert (
        main(
            [
                "vocode",
                str(tmp_path / "mel.npy"),
                "--checkpoint",
                str(vocoder_run),
                "--out",
                str(chunked),
                "--chunk-frames",
                "7",
            ]
        )
        == 0
    )
    whole = load_hifigan(vocoder_run)(torch.from_numpy(mel).unsqueeze(0))[0]
    written, _ = sf.read(str(chunked), dtype="float32")
    assert written.shape == (40 * 256,)
    assert np.abs(written - whole.numpy().clip(-1, 1)).max() < 2 / 32768  # 16-bit rounding


def test_vocode_refuses_a_mel_of_the_wrong_shape(vocoder_run, tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((40, 10), dtype=np.float32))
    assert (
        main(["vocode", str(tmp_path / "bad.npy"), "--checkpoint", str(vocoder_run), "--out", str(tmp_path / "x.wav")])
        == 2
    )
    assert "expected a log-mel (80, frames)" in capsys.readouterr().err


def test_vocoder_of_other_audio_settings_is_refused(vocoder_run):
    assert load_vocoder(vocoder_run, AudioConfig()).name == "hifigan"
    with pytest.raises(VocoderMismatchError, match="f_max"):
        load_vocoder(vocoder_run, AudioConfig(f_max=7600.0))


def test_dump_mels_then_fine_tune_then_synthesize(acoustic_run, vocoder_run, prepared_mini, tmp_path):
    mels_dir = tmp_path / "mels"
    args = ["dump-mels", "--checkpoint", str(acoustic_run), "--data", str(prepared_mini), "--out", str(mels_dir)]
    assert main([*args, "--split", "train,val", "--batch-size", "4", "--option", "temperature=0.5"]) == 0
    rows = read_manifest(prepared_mini / "train.jsonl") + read_manifest(prepared_mini / "val.jsonl")
    for row in rows:  # the flow decoder works on even lengths: an odd recording loses its last frame
        mel = np.load(mels_dir / f"{row.id}.npy")
        assert mel.dtype == np.float32 and mel.shape == (80, row.n_frames // 2 * 2) and np.isfinite(mel).all()
    info = json.loads((mels_dir / "dump.json").read_text())
    assert info["counts"] == {"train": 7, "val": 1}
    check_mels_dir(mels_dir, AudioConfig())

    dataset = VocoderDataset(rows, MelSource(FeatureStore(prepared_mini, AudioConfig()), mels_dir), AudioConfig())
    odd = next(i for i, row in enumerate(rows) if row.n_frames % 2)
    item = dataset[odd]
    assert item["audio"].numel() == item["mel"].shape[-1] * 256 == (rows[odd].n_frames - 1) * 256

    tuned = tmp_path / "tuned"
    overrides = [
        *TINY,
        "train.max_steps=1",
        "train.val_every=1000",
        "train.seed=7",
        f"data.mels_dir={mels_dir}",
        f"train.init_from={vocoder_run}",
    ]
    assert (
        main(
            [
                "train",
                str(DEMO),
                "--data",
                str(prepared_mini),
                "--out",
                str(tuned),
                "--device",
                "cpu",
                "--set",
                *overrides,
            ]
        )
        == 0
    )
    payload = load_checkpoint(resolve_checkpoint(tuned))
    assert payload["config"]["data"]["mels_dir"] == str(mels_dir)
    start = load_checkpoint(resolve_checkpoint(vocoder_run))["model"]
    moved = max(float((payload["model"][k] - start[k]).abs().max()) for k in start if k.startswith("generator."))
    assert 0 < moved < 5e-3  # one step away from the trained weights (another seed would start elsewhere)

    out = tmp_path / "speech.wav"
    assert (
        main(
            [
                "synth",
                "--checkpoint",
                str(acoustic_run),
                "--text",
                "Printing, in the only sense.",
                "--out",
                str(out),
                "--vocoder",
                str(tuned),
            ]
        )
        == 0
    )
    assert sf.info(str(out)).frames > 256
