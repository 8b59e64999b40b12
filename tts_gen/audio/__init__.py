"""Audio input/output, the log-mel features and Griffin-Lim."""

from tts_gen.audio.features import AudioConfig, linear_spectrogram, mel_filter_bank, mel_spectrogram
from tts_gen.audio.griffinlim import griffin_lim
from tts_gen.audio.io import AudioFileError, load_wav, resample, save_wav

__all__ = [
    "AudioConfig",
    "AudioFileError",
    "griffin_lim",
    "linear_spectrogram",
    "load_wav",
    "mel_filter_bank",
    "mel_spectrogram",
    "resample",
    "save_wav",
]
