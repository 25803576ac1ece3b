"""Turning raw media into float32 [T, D] arrays.

The picture side (``frames``, ``hands``) needs OpenCV and MediaPipe; its names are imported on
first use, so ``import seqrec.features`` stays light for the audio side and for training.
"""

import importlib
from typing import TYPE_CHECKING

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
from .augment import AudioAugmentConfig, augment_audio, coloured_noise
from .errors import InputError
from .hand_layout import HAND_SIDES, MIDDLE_MCP, N_COORDS, N_HAND_LANDMARKS, N_HANDS, WRIST
from .landmark_augment import LandmarkAugmentConfig, augment_landmarks, hold_pose
from .landmark_features import LandmarkFeatures
from .spectral import SpectralConfig, cmvn, spectral_features, spectral_features_batch
from .vad import StreamingSegmenter, Utterance, VadConfig

if TYPE_CHECKING:
    from .frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, FrameSource, as_rgb8, read_image
    from .hands import (
        HAND_MODEL_SHA256,
        MAX_SIDE,
        MIN_SIDE,
        HandLandmarks,
        HandLandmarksConfig,
        Hands,
        HandTracker,
        ModelFileError,
        load_hand_model,
    )

# Name -> submodule, imported when the name is first asked for (PEP 562).
_LAZY = {
    "FrameSource": "frames",
    "IMAGE_EXTENSIONS": "frames",
    "VIDEO_EXTENSIONS": "frames",
    "as_rgb8": "frames",
    "read_image": "frames",
    "HAND_MODEL_SHA256": "hands",
    "HandLandmarks": "hands",
    "HandLandmarksConfig": "hands",
    "HandTracker": "hands",
    "Hands": "hands",
    "MAX_SIDE": "hands",
    "MIN_SIDE": "hands",
    "ModelFileError": "hands",
    "load_hand_model": "hands",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


# Includes the lazy names (``_LAZY``), spelled out so that tools can read them.
__all__ = [
    "AUDIO_EXTENSIONS",
    "HAND_MODEL_SHA256",
    "HAND_SIDES",
    "IMAGE_EXTENSIONS",
    "MAX_SECONDS",
    "MAX_SIDE",
    "MAX_STREAM_SECONDS",
    "MIDDLE_MCP",
    "MIN_SIDE",
    "N_COORDS",
    "N_HANDS",
    "N_HAND_LANDMARKS",
    "SAMPLE_RATE",
    "VIDEO_EXTENSIONS",
    "WRIST",
    "AudioAugmentConfig",
    "FrameSource",
    "HandLandmarks",
    "HandLandmarksConfig",
    "HandTracker",
    "Hands",
    "InputError",
    "LandmarkAugmentConfig",
    "LandmarkFeatures",
    "ModelFileError",
    "SpectralConfig",
    "StreamingSegmenter",
    "Utterance",
    "VadConfig",
    "as_rgb8",
    "audio_duration",
    "augment_audio",
    "augment_landmarks",
    "cmvn",
    "coloured_noise",
    "find_audio_files",
    "hold_pose",
    "is_silent",
    "load_audio",
    "load_hand_model",
    "read_image",
    "resample",
    "resample_stream",
    "spectral_features",
    "spectral_features_batch",
    "stream_audio",
]
