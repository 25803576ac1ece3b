"""Live gestures: a camera's frames through hand tracking and the gesture stream, keeping up.

``LiveGestures.run`` takes any source of ``(seconds, frame)``: a camera's ``FrameSource``, or a
video file played at its own pace (``paced``), which is how a file stands in for a camera. Frames
come through ``NewestFrame``, so when recognition falls behind the camera the frames in between
are dropped and counted, never queued. Each label change is an event ``{"time", "head", "label",
"score"}``; with a window (``GestureWindow``) every frame is shown with ``draw_overlay``.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from seqrec.features import HandLandmarker
from seqrec.features.vision.frame_readers import Frame, NewestFrame
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.overlay import draw_overlay
from seqrec.pipelines.hands.stream import GestureStream

if TYPE_CHECKING:
    from typing_extensions import Self

# Label changes the window lists, newest last.
HISTORY_SIZE = 5
# The frame rate shown is over this many recent frames: steady, yet it follows a change in a second.
FPS_SPAN = 30
QUIT_KEYS = frozenset({ord("q"), ord("Q"), 27})  # 27: Esc


@dataclass
class LiveStats:
    """How a live run went: frames the source delivered, processed, and dropped to keep up."""

    read: int = 0
    processed: int = 0
    dropped: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        """Frames processed per second of the run."""
        return self.processed / self.seconds if self.seconds > 0 else 0.0


class FrameRate:
    """Frames per second over the last ``span`` frames."""

    def __init__(self, span: int = FPS_SPAN):
        self._times: collections.deque = collections.deque(maxlen=span)

    def tick(self) -> None:
        self._times.append(time.monotonic())

    @property
    def fps(self) -> float | None:
        if len(self._times) < 2 or self._times[-1] == self._times[0]:
            return None
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


class LiveGestures:
    """The live recogniser: a model and a hand landmarker, run over one frame source at a time.

    Parameters
    ----------
    model : a loaded ``GestureModel``
    landmarks : the ``HandLandmarker`` to track hands with (VIDEO mode); a new one when None
    history_size : label changes kept for the window

    ``stats`` holds the last run's counts, also when the run ended in an error.
    """

    def __init__(
        self, model: GestureModel, landmarks: HandLandmarker | None = None, history_size: int = HISTORY_SIZE
    ):
        self.model = model
        self.landmarks = landmarks or HandLandmarker()
        self.history_size = history_size
        self.stats = LiveStats()

    def run(
        self,
        frames: Iterable[Frame],
        on_event: Callable[[dict], None] | None = None,
        show: Callable[[np.ndarray], bool] | None = None,
        keep_up: bool = True,
    ) -> LiveStats:
        """Recognise gestures in ``frames`` until the source ends, ``show`` says stop, or Ctrl-C.

        Parameters
        ----------
        frames : ``(seconds, frame)`` pairs, frames [height, width, 3] uint8 RGB, seconds increasing
        on_event : called with each label change ``{"time", "head", "label", "score"}`` as it happens
        show : called with every processed frame drawn by ``draw_overlay`` (BGR); returning False
            ends the run (a window's q or Esc)
        keep_up : take only the newest frame each time (a camera); False processes every frame
            (a file read as fast as it decodes)

        Raises
        ------
        InputError
            from the source (a camera lost mid-stream), once the frames before it are processed.
        """
        stream = GestureStream(self.model)
        history: collections.deque = collections.deque(maxlen=self.history_size)
        rate = FrameRate()
        self.stats = stats = LiveStats()
        started = time.monotonic()
        reader = NewestFrame(frames) if keep_up else None
        try:
            # The tracker is made before the reader starts, so no frame is dropped while MediaPipe loads.
            with self.landmarks.tracker() as tracker, reader or contextlib.nullcontext():
                for seconds, rgb in reader if reader is not None else frames:
                    hands = tracker.detect(rgb, seconds)
                    for event in stream.push(hands):
                        history.append(event)
                        if on_event is not None:
                            on_event(event)
                    stats.processed += 1
                    rate.tick()
                    if show is not None:
                        dropped = reader.dropped if reader is not None else None
                        picture = draw_overlay(
                            rgb[..., ::-1], hands, stream.labels, list(history), rate.fps, dropped
                        )
                        if not show(picture):
                            break
        except KeyboardInterrupt:  # Ctrl-C is how a live run without a window is ended
            pass
        finally:
            stats.read, stats.dropped = (
                (reader.read, reader.dropped) if reader is not None else (stats.processed, 0)
            )
            stats.seconds = time.monotonic() - started
        return stats

    def picture_at(self, frames: Iterable[Frame], at: float | None = None) -> np.ndarray | None:
        """What the window shows at ``at`` seconds into ``frames`` (the last frame when None), with
        every frame before it processed: a still of the live view, e.g. of a video file.

        Returns the BGR picture, or None when ``frames`` holds no frame up to ``at``.
        """
        pictures: list[np.ndarray] = []

        def keep_last(picture: np.ndarray) -> bool:
            pictures[:] = [picture]
            return True

        selected = frames if at is None else itertools.takewhile(lambda frame: frame[0] <= at, frames)
        self.run(selected, show=keep_last, keep_up=False)
        return pictures[0] if pictures else None


def display_available() -> bool:
    """Whether a window can open: on Linux and the BSDs only with an X display (OpenCV's Qt
    windows abort the process without one); elsewhere a desktop is assumed."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return bool(os.environ.get("DISPLAY"))
    return True


class GestureWindow:
    """An OpenCV window for ``LiveGestures.run(show=...)``: shows each frame, and answers False
    once the user presses q or Esc or closes the window."""

    def __init__(self, title: str = "seqrec gestures"):
        import cv2

        self._cv2 = cv2
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        self.shown = 0

    def __call__(self, frame_bgr: np.ndarray) -> bool:
        cv2 = self._cv2
        cv2.imshow(self.title, frame_bgr)
        self.shown += 1
        if cv2.waitKey(1) & 0xFF in QUIT_KEYS:
            return False
        return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        self._cv2.destroyWindow(self.title)
        self._cv2.waitKey(1)  # lets the window system take the window down now

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
