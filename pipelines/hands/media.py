"""Gestures in files: photos and videos, named one by one or found in folders, one record each.

A photo goes through IMAGE mode on its own; a video through VIDEO mode, every frame (decoded a
few frames ahead on a thread of its own), then the gesture stream's windows and smoothing
(``recognize_video``). A file that cannot be used is a
record ``{"path", "error"}`` with a one-line reason; no hand in view is the label ``"none"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from seqrec.features import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    FrameSource,
    HandLandmarks,
    InputError,
    read_image,
)
from seqrec.features.vision.frame_readers import read_ahead
from seqrec.features.vision.frames import FALLBACK_FPS
from seqrec.pipelines.hands.recognizer import GestureModel, recognize_image, recognize_video

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
NO_MEDIA_IN_FOLDER = "no images or videos in this folder"
NOT_MEDIA = "not an image or a video OpenCV can read"


def find_media_files(folder: str | os.PathLike) -> list[Path]:
    """Images and videos under ``folder`` (recursively, by extension in any case), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in MEDIA_EXTENSIONS and p.is_file())


def expand_media_inputs(paths: Iterable[str]) -> list[tuple[str, str | None]]:
    """Files as given and folders expanded to their images and videos.

    Returns (path, error) pairs: ``error`` is set for a folder holding none, and the folder is
    kept so the caller reports it like any other failed input.
    """
    expanded: list[tuple[str, str | None]] = []
    for path in paths:
        if Path(path).is_dir():
            found = find_media_files(path)
            if not found:
                expanded.append((path, NO_MEDIA_IN_FOLDER))
            expanded.extend((str(p), None) for p in found)
        else:
            expanded.append((path, None))
    return expanded


def recognize_file(model: GestureModel, landmarks: HandLandmarks, path: str, flip: bool = False) -> dict:
    """One photo or video, by its extension; a file with another extension is tried as both.

    Parameters
    ----------
    model : the gesture model
    landmarks : the hand landmarker (IMAGE mode for photos; a fresh tracker per video)
    path : the file, as the user gave it (kept as the record's ``path``)
    flip : mirror the pictures first (a selfie camera's recording)

    Returns
    -------
    dict
        a photo: ``{"path", "label", "score", "hands"}`` (and ``labels`` per head when the model
        has several); a video: ``{"path", "frames", "duration", "segments"}`` (and ``text``,
        ``symbols`` from a CTC model); a file that cannot be used: ``{"path", "error"}``.
    """
    suffix = Path(path).suffix.lower()
    try:
        if suffix in VIDEO_EXTENSIONS:
            return recognize_video_file(model, landmarks, path, flip)
        if suffix in IMAGE_EXTENSIONS:
            return recognize_image_file(model, landmarks, path, flip)
        return _recognize_unknown(model, landmarks, path, flip)
    except InputError as error:
        return {"path": path, "error": error.reason}


def recognize_image_file(
    model: GestureModel, landmarks: HandLandmarks, path: str, flip: bool = False
) -> dict:
    """A photo's record (see ``recognize_file``); raises ``InputError`` for one that cannot be used."""
    hands = landmarks.detect(read_image(path)[:, ::-1] if flip else path)
    return {"path": path, **recognize_image(model, hands)}


def recognize_video_file(
    model: GestureModel, landmarks: HandLandmarks, path: str, flip: bool = False
) -> dict:
    """A video's record (see ``recognize_file``), every frame processed; raises ``InputError``
    for one that cannot be used."""
    with FrameSource(path, flip=flip) as frames:
        hands = list(landmarks.track(read_ahead(frames)))  # decoding overlaps the landmarks
        frame_seconds = 1 / (frames.fps or FALLBACK_FPS)
    result = recognize_video(model, hands)
    duration = hands[-1].timestamp + frame_seconds
    return {"path": path, "frames": result.pop("frames"), "duration": round(duration, 3), **result}


def _recognize_unknown(model: GestureModel, landmarks: HandLandmarks, path: str, flip: bool) -> dict:
    """A file named explicitly with an extension neither list has: a photo if it reads as one,
    else a video if OpenCV opens it as one."""
    try:
        return recognize_image_file(model, landmarks, path, flip)
    except InputError as error:
        if not error.reason.startswith("not an image"):
            raise
    try:
        return recognize_video_file(model, landmarks, path, flip)
    except InputError as error:
        if error.reason.startswith("not a video"):
            raise InputError(path, NOT_MEDIA) from None
        raise
