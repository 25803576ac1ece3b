"""Turning raw media into float32 [T, D] arrays."""
from .augment import AudioAugmentConfig, augment_audio, coloured_noise
from .audio import AUDIO_EXTENSIONS, MAX_SECONDS, SAMPLE_RATE, find_audio_files, is_silent, load_audio, resample
from .errors import InputError
from .spectral import SpectralConfig, cmvn, spectral_features

__all__ = [
    "AudioAugmentConfig",
    "augment_audio",
    "coloured_noise",
    "AUDIO_EXTENSIONS",
    "MAX_SECONDS",
    "SAMPLE_RATE",
    "InputError",
    "SpectralConfig",
    "cmvn",
    "find_audio_files",
    "is_silent",
    "load_audio",
    "resample",
    "spectral_features",
]
