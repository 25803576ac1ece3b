"""Gestures in files: photos and videos, named one by one or found in folders, one record each.

Every file goes through ``gesture_pipeline`` (see ``stages``): a photo through IMAGE mode on its
own, a video through VIDEO mode, every frame, then the gesture stream's windows and smoothing. A
file that cannot be used is a record ``{"path", "error"}`` with a one-line reason; no hand in view
is the label ``"none"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from seqrec.features import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, HandLandmarker
from seqrec.features.files import find_files
from seqrec.pipelines.core.files import expand_inputs
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.recognizer import result_record
from seqrec.pipelines.hands.stages import gesture_pipeline

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
NO_MEDIA_IN_FOLDER = "no images or videos in this folder"


def find_media_files(folder: str | os.PathLike) -> list[Path]:
    """Images and videos under ``folder`` (recursively, by extension in any case), sorted."""
    return find_files(folder, MEDIA_EXTENSIONS)


def expand_media_inputs(paths: Iterable[str]) -> list[tuple[str, str | None]]:
    """Files as given and folders expanded to their images and videos.

    Returns (path, error) pairs: ``error`` is set for a folder holding none, and the folder is
    kept so the caller reports it like any other failed input.
    """
    return expand_inputs(paths, find_media_files, NO_MEDIA_IN_FOLDER)


def recognize_file(model: GestureModel, landmarks: HandLandmarker, path: str, flip: bool = False) -> dict:
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
    return result_record(gesture_pipeline(model, landmarks, flip)({"path": path}))
