"""Hand landmarks: MediaPipe's HandLandmarker on photos and on video or camera frames, one layout out.

Photos go through IMAGE mode, each on its own (``HandLandmarker.detect``); a video or a camera
through VIDEO mode, which tracks hands from frame to frame (``HandLandmarker.track``, or
``HandLandmarker.tracker()`` for frames pushed one at a time). Either way a picture becomes a
``Hands``: landmarks [2, 21, 3] in the layout of ``hand_layout``, with presence and scores. No
hand in view is a ``Hands`` with nothing present, never an error.

Handedness. MediaPipe labels each hand "Left" or "Right". With the model shipped here and
mediapipe >= 0.10.30 the label names the hand as it appears in the picture given, so in an
unmirrored picture (a rear camera, a video file, a webcam frame as OpenCV delivers it) it is the
person's own hand: the right hands in ios_thumbs_up.png, in the digit photos and in MediaPipe's
test video all come out "Right". (The legacy ``mp.solutions.hands`` documented the opposite, a
mirrored selfie picture.) A mirrored picture swaps the labels. seqrec takes pictures as
unmirrored: slot 0 holds the hand labelled "Right", the person's right hand. For a camera that
mirrors, un-mirror at the source with ``FrameSource(flip=True)``.

Pictures. Anything ``frames.as_rgb8`` accepts (grayscale, RGBA, 16-bit, float, BGR or RGB).
A picture under ``MIN_SIDE`` pixels on its shorter side is refused: MediaPipe still returns
hands there, but on digit photos shrunk to 16 px its landmarks stray 0.05 (in image widths) from
the same photos at 100 px, against 0.02 at 32 px and 0.008 at 64 px. A picture over
``max_side`` is downscaled first; landmarks are normalised, so they hold for the picture as given.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from seqrec.features.errors import InputError
from seqrec.features.vision.frames import as_rgb8, read_image
from seqrec.features.vision.hand_layout import HAND_SIDES, N_COORDS, N_HAND_LANDMARKS, N_HANDS

if TYPE_CHECKING:
    from typing_extensions import Self

# MediaPipe HandLandmarker (full), float16, version 1: see NOTICE and features/vision/assets.
HAND_MODEL_FILE = "assets/hand_landmarker.task"
HAND_MODEL_SHA256 = "fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1"

MIN_SIDE = 32
# The landmark model looks at a 224 px crop around each hand and the palm detector at 192 px of
# the whole picture, so pixels past this only cost time and memory.
MAX_SIDE = 1920
# IMAGE mode: when no hand is found, look again with a border of the picture's own edge pixels,
# these fractions of its longer side in turn. The palm detector misses hands that fill the frame
# or run off its edges (close-ups such as the 100x100 digit photos): on four samples of 100 of
# those it took detection from 74-87% to 100%, with the same landmarks (median 0.006 apart) on
# photos found either way.
RETRY_BORDERS = (0.25, 0.5)


class ModelFileError(RuntimeError):
    """The hand model file is missing, altered, or not a model MediaPipe can load."""


@dataclass(frozen=True)
class HandLandmarkerConfig:
    """How hands are found. The confidences are MediaPipe's own thresholds, each in [0, 1]."""

    min_detection_confidence: float = 0.5  # palm detector, on a picture or a frame without tracking
    min_presence_confidence: float = 0.5  # landmark model's "a hand is there"
    min_tracking_confidence: float = 0.5  # VIDEO mode: keep tracking instead of detecting anew
    max_side: int = MAX_SIDE
    retry_borders: tuple[float, ...] = RETRY_BORDERS  # () turns the retry off

    def __post_init__(self):
        for name in ("min_detection_confidence", "min_presence_confidence", "min_tracking_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)}")
        if self.max_side < MIN_SIDE:
            raise ValueError(f"max_side must be at least {MIN_SIDE}, not {self.max_side}")
        if any(not 0.0 < fraction <= 2.0 for fraction in self.retry_borders):
            raise ValueError(f"retry_borders must be fractions in (0, 2], not {self.retry_borders}")


@dataclass(frozen=True, eq=False)
class Hands:
    """The hands in one picture, in the fixed layout of ``hand_layout``.

    Attributes
    ----------
    landmarks : np.ndarray, shape [2, 21, 3], float32
        x, y normalised by the picture's width and height (0..1 inside it, a little beyond for a
        hand running off the edge); z is depth relative to the wrist, smaller nearer the camera,
        in about the units of x. Slot 0 the person's right hand, slot 1 the left; zeros where absent.
    present : np.ndarray, shape [2], bool
    score : np.ndarray, shape [2], float32
        how sure MediaPipe is that the hand in each slot is that slot's side; 0 where absent.
    handedness : (str | None, str | None)
        MediaPipe's label ("right", "left") for the hand in each slot. It differs from the slot's
        side only when both hands got the same label: the surer one keeps that side, the other
        takes the free slot with score ``1 - its score``.
    image_size : (width, height) of the picture as given.
    timestamp : seconds given to MediaPipe with this frame (VIDEO mode); None for a photo.
    """

    landmarks: np.ndarray
    present: np.ndarray
    score: np.ndarray
    handedness: tuple[str | None, str | None]
    image_size: tuple[int, int]
    timestamp: float | None = None

    @property
    def count(self) -> int:
        """How many hands were found (0, 1 or 2)."""
        return int(self.present.sum())

    @property
    def aspect(self) -> float:
        """Width over height: what turns normalised y into the units of x."""
        return self.image_size[0] / self.image_size[1]


class HandLandmarker:
    """MediaPipe's HandLandmarker with the model shipped in the package (checked by sha256).

    Parameters
    ----------
    config : HandLandmarkerConfig
    model_path : another ``.task`` bundle instead of the shipped one
    sha256 : the digest ``model_path`` must have (the shipped model is always checked)

    Raises
    ------
    ModelFileError
        the model file is missing, does not match its sha256, or does not load.
    """

    def __init__(
        self,
        config: HandLandmarkerConfig | None = None,
        model_path: str | os.PathLike | None = None,
        sha256: str | None = None,
    ):
        self.config = config or HandLandmarkerConfig()
        self._model_source = (model_path, sha256)
        self._model = load_hand_model(model_path, sha256)
        self._landmarker = None  # IMAGE mode, made on first use
        self._finalizer = None

    def __getstate__(self) -> dict:
        # For a process pool: the config and where the model comes from travel, not the 8 MB
        # model nor MediaPipe's handle; each process checks the model and makes its own landmarker.
        return {"config": self.config, "model_source": self._model_source}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"], *state["model_source"])

    def detect(self, image: str | os.PathLike | np.ndarray, color_order: str = "rgb") -> Hands:
        """Find the hands in one photo, on its own (IMAGE mode: nothing carries over from the last).

        Parameters
        ----------
        image : a path, or an array as ``frames.as_rgb8`` takes (``color_order`` "bgr" for OpenCV's)

        Raises
        ------
        InputError
            a file that is not a readable image, or a picture under ``MIN_SIDE`` px (see ``read_image``).
        """
        path = image if isinstance(image, (str, os.PathLike)) else None
        rgb = read_image(path) if path is not None else as_rgb8(image, color_order)
        image_size = (rgb.shape[1], rgb.shape[0])
        rgb = _fit(rgb, self.config.max_side, path)
        landmarker = self._image_landmarker()
        hands = _to_hands(landmarker.detect(_mp_image(rgb)), image_size)
        for fraction in self.config.retry_borders:
            if hands.count:
                break
            border = round(fraction * max(rgb.shape[:2]))
            framed = cv2.copyMakeBorder(rgb, border, border, border, border, cv2.BORDER_REPLICATE)
            hands = _remove_border(
                _to_hands(landmarker.detect(_mp_image(framed)), image_size), rgb.shape, border
            )
        return hands

    def tracker(self) -> HandTracker:
        """A VIDEO-mode tracker for one stream of frames; close it (or use ``with``) when done."""
        return HandTracker(self._model, self.config)

    def track(
        self, frames: Iterable[tuple[float | None, np.ndarray]], color_order: str = "rgb"
    ) -> Iterator[Hands]:
        """Hands in each ``(seconds, frame)`` of one video or camera (a ``FrameSource``), in order."""
        with self.tracker() as tracker:
            for seconds, frame in frames:
                yield tracker.detect(frame, seconds, color_order)

    def _image_landmarker(self):
        if self._landmarker is None:
            self._landmarker = _create_landmarker(self._model, self.config, video=False)
            # Closing at exit, before the interpreter tears mediapipe's modules down.
            self._finalizer = weakref.finalize(self, self._landmarker.close)
        return self._landmarker

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._landmarker = self._finalizer = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class HandTracker:
    """VIDEO mode for one stream: frames in order, hands tracked from one frame to the next.

    MediaPipe needs strictly increasing integer-millisecond timestamps and fails on any other.
    The tracker makes them: from the frame's own time when given (a file's timestamps, a camera
    clock), else from its clock, rounded to ms and pushed 1 ms past the last one when a time
    repeats or goes back, so a caller's timestamps can never make it fail.
    """

    def __init__(self, model: bytes, config: HandLandmarkerConfig):
        self.config = config
        self._landmarker = _create_landmarker(model, config, video=True)
        self._finalizer = weakref.finalize(self, self._landmarker.close)
        self._last_ms: int | None = None
        self._clock_start: float | None = None

    def detect(self, frame: np.ndarray, timestamp: float | None = None, color_order: str = "rgb") -> Hands:
        """Hands in the next frame; ``timestamp`` in seconds, or None for the tracker's clock.

        Returns a ``Hands`` whose ``timestamp`` is the time MediaPipe was given.
        """
        rgb = as_rgb8(frame, color_order)
        image_size = (rgb.shape[1], rgb.shape[0])
        rgb = _fit(rgb, self.config.max_side, None)
        ms = self._next_ms(timestamp)
        return _to_hands(self._landmarker.detect_for_video(_mp_image(rgb), ms), image_size, ms / 1000)

    def _next_ms(self, timestamp: float | None) -> int:
        if timestamp is None or not math.isfinite(timestamp):
            now = time.monotonic()
            self._clock_start = now if self._clock_start is None else self._clock_start
            timestamp = now - self._clock_start
        ms = max(0, round(timestamp * 1000))
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        return ms

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_hand_model(path: str | os.PathLike | None = None, sha256: str | None = None) -> bytes:
    """The bytes of a hand model bundle: the shipped one (checked against ``HAND_MODEL_SHA256``)
    when ``path`` is None, else ``path`` (checked against ``sha256`` when given).

    The bytes checked are the bytes MediaPipe loads: nothing reads the file a second time.

    Raises
    ------
    ModelFileError
    """
    if path is None:
        return _read_model(None, HAND_MODEL_SHA256)
    return _read_model(str(path), sha256)


@functools.lru_cache(maxsize=2)
def _read_model(path: str | None, sha256: str | None) -> bytes:
    source = resources.files(__package__).joinpath(HAND_MODEL_FILE) if path is None else Path(path)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        hint = ": the installed package is incomplete, reinstall seqrec" if path is None else ""
        raise ModelFileError(f"hand model not found: {source}{hint}") from None
    except OSError as error:
        raise ModelFileError(f"cannot read the hand model {source}: {error.strerror or error}") from None
    if sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256.lower():
            raise ModelFileError(
                f"hand model {source} has sha256 {digest}, expected {sha256.lower()}: "
                "the file is damaged or not the expected model"
            )
    return data


def _create_landmarker(model: bytes, config: HandLandmarkerConfig, video: bool):
    from seqrec.features.vision.mediapipe_hands import hand_landmarker_api  # MediaPipe: only here

    api = hand_landmarker_api()
    options = api.HandLandmarkerOptions(
        base_options=api.BaseOptions(model_asset_buffer=model),
        running_mode=api.RunningMode.VIDEO if video else api.RunningMode.IMAGE,
        num_hands=N_HANDS,
        min_hand_detection_confidence=config.min_detection_confidence,
        min_hand_presence_confidence=config.min_presence_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
    )
    try:
        return api.HandLandmarker.create_from_options(options)
    except (RuntimeError, ValueError) as error:
        raise ModelFileError(
            f"MediaPipe cannot load the hand model: {' '.join(str(error).split())}"
        ) from None


def _mp_image(rgb: np.ndarray):
    from seqrec.features.vision.mediapipe_hands import hand_landmarker_api

    api = hand_landmarker_api()
    return api.Image(image_format=api.ImageFormat.SRGB, data=rgb)


def _fit(rgb: np.ndarray, max_side: int, path) -> np.ndarray:
    """Refuse a picture too small to hold a hand; shrink one larger than ``max_side``."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise InputError(
            path, f"image is {width}x{height} px; hands need at least {MIN_SIDE} px on each side"
        )
    scale = max_side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _to_hands(result, image_size: tuple[int, int], timestamp: float | None = None) -> Hands:
    """A MediaPipe result in the fixed layout: each hand in its side's slot, the surer hand first."""
    landmarks = np.zeros((N_HANDS, N_HAND_LANDMARKS, N_COORDS), np.float32)
    present = np.zeros(N_HANDS, bool)
    score = np.zeros(N_HANDS, np.float32)
    handedness: list[str | None] = [None] * N_HANDS
    found = sorted(
        zip(result.handedness, result.hand_landmarks, strict=False), key=lambda hand: -hand[0][0].score
    )
    for categories, points in found[:N_HANDS]:
        label = categories[0].category_name.lower()
        slot, sure = HAND_SIDES.index(label), categories[0].score
        if present[slot]:  # both hands labelled alike: this one, the less sure, is the other side
            slot, sure = 1 - slot, 1.0 - sure
        landmarks[slot] = [(point.x, point.y, point.z) for point in points]
        present[slot], score[slot], handedness[slot] = True, sure, label
    return Hands(landmarks, present, score, (handedness[0], handedness[1]), image_size, timestamp)


def _remove_border(hands: Hands, shape: tuple[int, ...], border: int) -> Hands:
    """Landmarks found in a picture framed by ``border`` px, normalised to the picture inside."""
    height, width = shape[:2]
    framed = np.array([width + 2 * border, height + 2 * border, width + 2 * border], np.float32)
    offset = np.array([border, border, 0], np.float32)
    inner = np.array([width, height, width], np.float32)  # z is in units of the width, like x
    landmarks = np.where(hands.present[:, None, None], (hands.landmarks * framed - offset) / inner, 0)
    return Hands(
        landmarks.astype(np.float32),
        hands.present,
        hands.score,
        hands.handedness,
        hands.image_size,
        hands.timestamp,
    )
