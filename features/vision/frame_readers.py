"""Frames read on a thread of their own: a camera kept up with, a file decoded ahead, a file paced.

A camera delivers frames at its own rate whether or not anyone keeps up, and OpenCV queues the
ones nobody has read yet. ``NewestFrame`` reads a source on its own thread and keeps only the
newest frame: when the work on one frame takes longer than the camera's frame period, the frames
in between are dropped (and counted), so what is processed is always what the camera sees now,
never a backlog that grows seconds behind. ``read_ahead`` is its counterpart for a file, where
every frame counts: the next few frames are decoded while the current one is processed (OpenCV
and MediaPipe both let go of the GIL), so decoding costs no time of its own. ``paced`` releases
a video file's frames at their own times on the wall clock, so a file goes through exactly the
camera's code in place of a camera.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from seqrec.features.vision.frames import CAMERA_LOST_SECONDS

if TYPE_CHECKING:
    from typing_extensions import Self

Frame = tuple[float, np.ndarray]  # (seconds, picture), as FrameSource yields them


class NewestFrame:
    """Frames from ``source`` on a reader thread; iterating yields only the newest one each time.

    Iterating blocks until a frame newer than the last one taken is there, and ends when the
    source ends. An error the source raises (a camera lost, a corrupt video) is raised by the
    iteration, after the frame read before it has been taken.

    Attributes
    ----------
    read : frames the source delivered so far
    dropped : frames replaced by a newer one before anyone took them

    Use as a context manager (or call ``stop()``), and close the source itself only after.
    """

    def __init__(self, source: Iterable[Frame]):
        self.read = 0
        self.dropped = 0
        self._source = source
        self._condition = threading.Condition()
        self._newest: Frame | None = None
        self._error: BaseException | None = None
        self._finished = False
        self._stopping = False
        self._thread = threading.Thread(target=self._read_all, name="seqrec-newest-frame", daemon=True)

    def start(self) -> Self:
        if not self._thread.is_alive() and not self._finished:
            self._thread.start()
        return self

    def _read_all(self) -> None:
        try:
            for frame in self._source:
                with self._condition:
                    if self._stopping:
                        return
                    if self._newest is not None:
                        self.dropped += 1
                    self._newest = frame
                    self.read += 1
                    self._condition.notify()
        except Exception as error:  # noqa: BLE001 - handed over to the consumer, not swallowed
            # Raised again on the consumer's thread, where it can be handled.
            with self._condition:
                self._error = error
        finally:
            with self._condition:
                self._finished = True
                self._condition.notify()

    def __iter__(self) -> Iterator[Frame]:
        self.start()
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._newest is not None or self._finished)
                frame, self._newest = self._newest, None
                if frame is None:
                    if self._error is not None:
                        raise self._error
                    return
            yield frame

    def stop(self) -> None:
        """Stop reading; returns once the reader has let go of the source (a camera read ends
        within its lost-camera timeout), so the source can be closed safely."""
        with self._condition:
            self._stopping = True
        if self._thread.is_alive():
            self._thread.join(timeout=CAMERA_LOST_SECONDS + 1.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def paced(frames: Iterable[Frame], speed: float = 1.0) -> Iterator[Frame]:
    """Each ``(seconds, frame)`` no sooner than ``seconds / speed`` after the first one, on the wall
    clock: a video file delivered at the pace a camera would deliver it."""
    if not speed > 0:
        raise ValueError(f"speed must be positive, not {speed}")
    start: float | None = None
    for seconds, frame in frames:
        now = time.monotonic()
        if start is None:
            start = now - seconds / speed
        delay = start + seconds / speed - now
        if delay > 0:
            time.sleep(delay)
        yield seconds, frame


# Frames decoded ahead of the one in use: enough to ride out a slow frame, few enough to hold
# little memory (a 1080p frame is 6 MB).
READ_AHEAD_FRAMES = 4


def read_ahead(source: Iterable[Frame], frames: int = READ_AHEAD_FRAMES) -> Iterator[Frame]:
    """Every item of ``source``, in order, read on a thread up to ``frames`` items ahead.

    An error the source raises is raised here after the items before it. Stopping early (a
    ``break``, or closing the generator) stops the reader within one item.
    """
    ahead: queue.Queue = queue.Queue(maxsize=frames)
    stop = threading.Event()
    end = object()

    def hand_over(item) -> bool:
        """Queue ``item`` once there is room; False when the consumer has stopped."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read_all() -> None:
        try:
            for item in source:
                if not hand_over(item):
                    return
            hand_over(end)
        except Exception as error:  # noqa: BLE001 - raised again on the consumer's thread
            hand_over(error)

    reader = threading.Thread(target=read_all, name="seqrec-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is end:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=CAMERA_LOST_SECONDS + 1.0)
