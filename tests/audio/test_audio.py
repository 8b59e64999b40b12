"""Audio loading, the log-mel (against an independent librosa computation) and Griffin-Lim."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.conftest import MINI_CORPUS
from tts_gen.audio import AudioConfig, AudioFileError, griffin_lim, load_wav, mel_spectrogram, save_wav
from tts_gen.audio.io import as_saved

CLIPS = sorted((MINI_CORPUS / "wavs").glob("*.wav"))[:4]


def librosa_log_mel(wav: np.ndarray, config: AudioConfig) -> np.ndarray:
    """The HiFi-GAN log-mel written independently with librosa, in float64."""
    import librosa

    padded = np.pad(wav.astype(np.float64), (config.padding, config.padding), mode="reflect")
    stft = librosa.stft(
        padded,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window="hann",
        center=False,
    )
    magnitude = np.sqrt(np.abs(stft) ** 2 + 1e-9)
    basis = librosa.filters.mel(
        sr=config.sample_rate,
        n_fft=config.n_fft,
        n_mels=config.n_mels,
        fmin=config.f_min,
        fmax=config.f_max,
        norm="slaney",
    )
    return np.log(np.maximum(basis @ magnitude, config.log_clamp))


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
def test_log_mel_matches_librosa_on_real_clips(clip):
    config = AudioConfig()
    wav = load_wav(clip, config.sample_rate)
    mel = mel_spectrogram(wav, config)
    assert mel.shape == (80, wav.numel() // 256) == (80, config.num_frames(wav.numel()))
    assert np.abs(mel.numpy() - librosa_log_mel(wav.numpy(), config)).max() < 1e-3


def test_log_mel_is_batched_and_consistent():
    config = AudioConfig()
    wavs = [load_wav(clip, config.sample_rate)[:30000] for clip in CLIPS[:2]]
    batch = mel_spectrogram(torch.stack(wavs), config)
    assert batch.shape == (2, 80, 30000 // 256)
    assert torch.allclose(batch[1], mel_spectrogram(wavs[1], config), atol=1e-5)
    assert float(mel_spectrogram(torch.zeros(4096), config).max()) == pytest.approx(np.log(1e-5) + 0.0, abs=0.05)


def test_load_wav_mixes_to_mono_and_resamples(tmp_path):
    t = np.arange(16000) / 16000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1) * 0.5
    sf.write(tmp_path / "stereo.flac", stereo, 16000)
    wav = load_wav(tmp_path / "stereo.flac", 22050)
    assert wav.shape == (22050,) and wav.dtype == torch.float32
    assert float(wav.abs().max()) == pytest.approx(0.25, abs=0.01)


def test_bad_audio_is_rejected_naming_the_file(tmp_path):
    (tmp_path / "garbage.wav").write_bytes(b"not a wav file at all")
    with pytest.raises(AudioFileError, match="garbage.wav"):
        load_wav(tmp_path / "garbage.wav", 22050)
    sf.write(tmp_path / "empty.wav", np.zeros(0), 22050)
    with pytest.raises(AudioFileError, match="empty.wav is empty"):
        load_wav(tmp_path / "empty.wav", 22050)
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2], dtype=np.float32), 22050, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="nan.wav holds non-finite"):
        load_wav(tmp_path / "nan.wav", 22050)
    with pytest.raises(AudioFileError, match="does not exist"):
        load_wav(tmp_path / "missing.wav", 22050)


def test_save_wav_roundtrip(tmp_path):
    wav = torch.linspace(-1, 1, 1000)
    save_wav(tmp_path / "x.wav", wav, 22050)
    back = load_wav(tmp_path / "x.wav", 22050)
    assert torch.allclose(back, wav, atol=1e-4)
    assert not list(tmp_path.glob(".*tmp"))


def test_as_saved_is_exactly_what_a_saved_file_reads_back(tmp_path):
    wav = 1.2 * torch.sin(torch.linspace(0, 300, 5000)) * torch.linspace(0, 1, 5000) + 1e-5  # clips and rounds
    save_wav(tmp_path / "x.wav", wav, 22050)
    in_memory = as_saved(wav)
    assert in_memory.dtype == np.float32 and np.array_equal(in_memory, load_wav(tmp_path / "x.wav", 22050).numpy())
    assert not np.array_equal(in_memory, wav.numpy().clip(-1, 1)), "16-bit rounding changes the samples"


def test_griffin_lim_inverts_a_real_mel():
    config = AudioConfig()
    wav = load_wav(CLIPS[0], config.sample_rate)
    mel = mel_spectrogram(wav, config)
    rebuilt = griffin_lim(mel, config, n_iter=32, power=1.0)
    assert rebuilt.shape == (mel.shape[-1] * config.hop_length,)
    error = (mel_spectrogram(rebuilt, config) - mel).abs().mean()
    noise_error = (mel_spectrogram(torch.randn_like(rebuilt) * 0.1, config) - mel).abs().mean()
    assert error < 0.5 and error < noise_error / 3
    torch.testing.assert_close(griffin_lim(mel, config, n_iter=4), griffin_lim(mel, config, n_iter=4))
