"""Turning raw media into float32 [T, D] arrays: ``audio`` (decoding, resampling, live input,
voice activity, MFCCs, augmentation) and ``vision`` (frame sources, the MediaPipe hand
landmarker, the landmark layout, landmark features and augmentation).

The names below load on first use, so ``import seqrec.features`` costs nothing until one is used.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seqrec.features.audio.augment import (
        AudioAugmentConfig as AudioAugmentConfig,
    )
    from seqrec.features.audio.augment import (
        augment_audio as augment_audio,
    )
    from seqrec.features.audio.augment import (
        coloured_noise as coloured_noise,
    )
    from seqrec.features.audio.reading import (
        AUDIO_EXTENSIONS as AUDIO_EXTENSIONS,
    )
    from seqrec.features.audio.reading import (
        MAX_SECONDS as MAX_SECONDS,
    )
    from seqrec.features.audio.reading import (
        MAX_STREAM_SECONDS as MAX_STREAM_SECONDS,
    )
    from seqrec.features.audio.reading import (
        SAMPLE_RATE as SAMPLE_RATE,
    )
    from seqrec.features.audio.reading import (
        audio_duration as audio_duration,
    )
    from seqrec.features.audio.reading import (
        find_audio_files as find_audio_files,
    )
    from seqrec.features.audio.reading import (
        is_silent as is_silent,
    )
    from seqrec.features.audio.reading import (
        load_audio as load_audio,
    )
    from seqrec.features.audio.reading import (
        resample as resample,
    )
    from seqrec.features.audio.reading import (
        resample_stream as resample_stream,
    )
    from seqrec.features.audio.reading import (
        stream_audio as stream_audio,
    )
    from seqrec.features.audio.spectral import (
        SpectralConfig as SpectralConfig,
    )
    from seqrec.features.audio.spectral import (
        cmvn as cmvn,
    )
    from seqrec.features.audio.spectral import (
        spectral_features as spectral_features,
    )
    from seqrec.features.audio.spectral import (
        spectral_features_batch as spectral_features_batch,
    )
    from seqrec.features.audio.vad import (
        StreamingSegmenter as StreamingSegmenter,
    )
    from seqrec.features.audio.vad import (
        Utterance as Utterance,
    )
    from seqrec.features.audio.vad import (
        VadConfig as VadConfig,
    )
    from seqrec.features.errors import InputError as InputError
    from seqrec.features.vision.frames import (
        IMAGE_EXTENSIONS as IMAGE_EXTENSIONS,
    )
    from seqrec.features.vision.frames import (
        VIDEO_EXTENSIONS as VIDEO_EXTENSIONS,
    )
    from seqrec.features.vision.frames import (
        FrameSource as FrameSource,
    )
    from seqrec.features.vision.frames import (
        as_rgb8 as as_rgb8,
    )
    from seqrec.features.vision.frames import (
        read_image as read_image,
    )
    from seqrec.features.vision.hand_layout import (
        FINGERS as FINGERS,
    )
    from seqrec.features.vision.hand_layout import (
        HAND_SIDES as HAND_SIDES,
    )
    from seqrec.features.vision.hand_layout import (
        MIDDLE_MCP as MIDDLE_MCP,
    )
    from seqrec.features.vision.hand_layout import (
        N_COORDS as N_COORDS,
    )
    from seqrec.features.vision.hand_layout import (
        N_HAND_LANDMARKS as N_HAND_LANDMARKS,
    )
    from seqrec.features.vision.hand_layout import (
        N_HANDS as N_HANDS,
    )
    from seqrec.features.vision.hand_layout import (
        WRIST as WRIST,
    )
    from seqrec.features.vision.landmark_augment import (
        LandmarkAugmentConfig as LandmarkAugmentConfig,
    )
    from seqrec.features.vision.landmark_augment import (
        augment_landmarks as augment_landmarks,
    )
    from seqrec.features.vision.landmark_augment import (
        hold_pose as hold_pose,
    )
    from seqrec.features.vision.landmark_features import LandmarkFeatures as LandmarkFeatures
    from seqrec.features.vision.landmarker import (
        HAND_MODEL_SHA256 as HAND_MODEL_SHA256,
    )
    from seqrec.features.vision.landmarker import (
        MAX_SIDE as MAX_SIDE,
    )
    from seqrec.features.vision.landmarker import (
        MIN_SIDE as MIN_SIDE,
    )
    from seqrec.features.vision.landmarker import (
        HandLandmarker as HandLandmarker,
    )
    from seqrec.features.vision.landmarker import (
        HandLandmarkerConfig as HandLandmarkerConfig,
    )
    from seqrec.features.vision.landmarker import (
        Hands as Hands,
    )
    from seqrec.features.vision.landmarker import (
        HandTracker as HandTracker,
    )
    from seqrec.features.vision.landmarker import (
        ModelFileError as ModelFileError,
    )
    from seqrec.features.vision.landmarker import (
        load_hand_model as load_hand_model,
    )

# Name -> module, imported when the name is first asked for (PEP 562): importing the package
# loads nothing heavy, so a command that needs none of it starts at once.
_LAZY = {
    "AUDIO_EXTENSIONS": "seqrec.features.audio.reading",
    "MAX_SECONDS": "seqrec.features.audio.reading",
    "MAX_STREAM_SECONDS": "seqrec.features.audio.reading",
    "SAMPLE_RATE": "seqrec.features.audio.reading",
    "audio_duration": "seqrec.features.audio.reading",
    "find_audio_files": "seqrec.features.audio.reading",
    "is_silent": "seqrec.features.audio.reading",
    "load_audio": "seqrec.features.audio.reading",
    "resample": "seqrec.features.audio.reading",
    "resample_stream": "seqrec.features.audio.reading",
    "stream_audio": "seqrec.features.audio.reading",
    "AudioAugmentConfig": "seqrec.features.audio.augment",
    "augment_audio": "seqrec.features.audio.augment",
    "coloured_noise": "seqrec.features.audio.augment",
    "InputError": "seqrec.features.errors",
    "FrameSource": "seqrec.features.vision.frames",
    "IMAGE_EXTENSIONS": "seqrec.features.vision.frames",
    "VIDEO_EXTENSIONS": "seqrec.features.vision.frames",
    "as_rgb8": "seqrec.features.vision.frames",
    "read_image": "seqrec.features.vision.frames",
    "FINGERS": "seqrec.features.vision.hand_layout",
    "HAND_SIDES": "seqrec.features.vision.hand_layout",
    "MIDDLE_MCP": "seqrec.features.vision.hand_layout",
    "N_COORDS": "seqrec.features.vision.hand_layout",
    "N_HANDS": "seqrec.features.vision.hand_layout",
    "N_HAND_LANDMARKS": "seqrec.features.vision.hand_layout",
    "WRIST": "seqrec.features.vision.hand_layout",
    "HAND_MODEL_SHA256": "seqrec.features.vision.landmarker",
    "HandLandmarker": "seqrec.features.vision.landmarker",
    "HandLandmarkerConfig": "seqrec.features.vision.landmarker",
    "HandTracker": "seqrec.features.vision.landmarker",
    "Hands": "seqrec.features.vision.landmarker",
    "MAX_SIDE": "seqrec.features.vision.landmarker",
    "MIN_SIDE": "seqrec.features.vision.landmarker",
    "ModelFileError": "seqrec.features.vision.landmarker",
    "load_hand_model": "seqrec.features.vision.landmarker",
    "LandmarkAugmentConfig": "seqrec.features.vision.landmark_augment",
    "augment_landmarks": "seqrec.features.vision.landmark_augment",
    "hold_pose": "seqrec.features.vision.landmark_augment",
    "LandmarkFeatures": "seqrec.features.vision.landmark_features",
    "SpectralConfig": "seqrec.features.audio.spectral",
    "cmvn": "seqrec.features.audio.spectral",
    "spectral_features": "seqrec.features.audio.spectral",
    "spectral_features_batch": "seqrec.features.audio.spectral",
    "StreamingSegmenter": "seqrec.features.audio.vad",
    "Utterance": "seqrec.features.audio.vad",
    "VadConfig": "seqrec.features.audio.vad",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AUDIO_EXTENSIONS",
    "FINGERS",
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
    "HandLandmarker",
    "HandLandmarkerConfig",
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
