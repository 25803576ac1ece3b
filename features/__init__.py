"""Turning raw media into float32 [T, D] arrays."""
from .augment import AudioAugmentConfig, augment_audio, coloured_noise
from .audio import (
    AUDIO_EXTENSIONS,
    MAX_SECONDS,
    MAX_STREAM_SECONDS,
    SAMPLE_RATE,
    audio_duration,
    find_audio_files,
    is_silent,
    load_audio,
    resample,
    resample_stream,
    stream_audio,
)
from .errors import InputError
from .spectral import SpectralConfig, cmvn, spectral_features
from .vad import StreamingSegmenter, Utterance, VadConfig

__all__ = [
    "AudioAugmentConfig",
    "augment_audio",
    "coloured_noise",
    "AUDIO_EXTENSIONS",
    "MAX_SECONDS",
    "MAX_STREAM_SECONDS",
    "SAMPLE_RATE",
    "InputError",
    "SpectralConfig",
    "StreamingSegmenter",
    "Utterance",
    "VadConfig",
    "audio_duration",
    "cmvn",
    "find_audio_files",
    "is_silent",
    "load_audio",
    "resample",
    "resample_stream",
    "spectral_features",
    "stream_audio",
]
