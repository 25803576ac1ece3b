"""Pictures in: photos from files, frames from a camera or a video file, all as RGB uint8.

``read_image`` reads a photo; ``FrameSource`` yields ``(seconds, frame)`` from a camera index or
a video path through one OpenCV ``VideoCapture`` loop; ``as_rgb8`` brings any array a caller
hands over (grayscale, RGBA, BGR straight from OpenCV, 16-bit, float) to that one layout.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from seqrec.features.errors import InputError

if TYPE_CHECKING:
    from typing_extensions import Self

# Extensions a folder is searched for; anything else named explicitly is still tried.
IMAGE_EXTENSIONS = frozenset([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"])
VIDEO_EXTENSIONS = frozenset([".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"])

# A camera that delivers no frame for this long is gone (unplugged, or taken by another program).
CAMERA_LOST_SECONDS = 2.0
# Frame rate assumed for a video whose container states none, to space its timestamps.
FALLBACK_FPS = 30.0

_JPEG_MAGIC = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"
_JPEG_SCAN = b"\xff\xda"
# Leading bytes of the formats OpenCV reads: a file that starts so but does not decode is corrupt,
# anything else is not an image at all.
_IMAGE_MAGIC = {
    _JPEG_MAGIC: "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"GIF8": "GIF",
}


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a photo as RGB uint8.

    EXIF orientation is applied; grayscale becomes three equal channels; 16-bit pixels are
    scaled to 8 bits; alpha is dropped (see ``as_rgb8``).

    Returns
    -------
    np.ndarray, shape [height, width, 3], uint8, RGB

    Raises
    ------
    InputError
        with a one-line reason: missing, a folder, empty, not an image, corrupt (including a
        JPEG cut short).
    """
    path = Path(path)
    data = _read_file(path, "an image")
    kind = _image_kind(data)
    if kind == "JPEG" and not _jpeg_complete(data):
        raise InputError(path, "corrupt JPEG: the data ends early (truncated file)")
    # IMREAD_COLOR applies EXIF orientation, makes grayscale three channels, 16 bits eight, and
    # drops alpha, as as_rgb8 does for arrays.
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:
        raise InputError(path, f"unreadable image ({_one_line(error)})") from None
    if image is None:
        raise InputError(path, f"corrupt {kind} image" if kind else "not an image (no format OpenCV reads)")
    return as_rgb8(image, color_order="bgr", path=path)


def as_rgb8(image: np.ndarray, color_order: str = "rgb", path: str | os.PathLike | None = None) -> np.ndarray:
    """Any image array as RGB uint8 [height, width, 3].

    Parameters
    ----------
    image : np.ndarray
        [H, W] or [H, W, 1] grayscale, [H, W, 3] colour, [H, W, 4] colour with alpha; uint8,
        uint16 (scaled by 255/65535), bool, or float in [0, 1]. Alpha is dropped, the colour
        stored under it kept: what MediaPipe's own image loader gives its models, so landmarks
        match MediaPipe's (on ios_thumbs_up.png, within 0.002 of its published ones; laying the
        picture on white instead moves them by 0.013).
    color_order : "rgb" or "bgr"
        channel order of a colour ``image``; OpenCV's own arrays are "bgr".
    path : named in errors

    Raises
    ------
    InputError
        for a shape or pixel type that is not an image, or float pixels outside [0, 1].
    """
    if color_order not in ("rgb", "bgr"):
        raise ValueError(f"color_order must be 'rgb' or 'bgr', not {color_order!r}")
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise InputError(
            path, f"not an image: array of shape {image.shape} (expected [H, W], [H, W, 3] or [H, W, 4])"
        )
    if image.size == 0:
        raise InputError(path, f"empty image: {image.shape[1]}x{image.shape[0]} px")
    image = _to_uint8(image, path)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    image = image[..., 2::-1] if color_order == "bgr" else image[..., :3]
    return np.ascontiguousarray(image)


class FrameSource:
    """Frames from a camera (an int index) or a video file (a path), through one OpenCV loop.

    Iterating yields ``(seconds, frame)``: ``frame`` is [height, width, 3] uint8 RGB; ``seconds``
    strictly increase, from the file's timestamps (a video) or from the clock since the first
    frame (a camera). A source is read once; use it as a context manager or ``close()`` it.

    Parameters
    ----------
    source : int or path
        camera index, or video file.
    flip : bool
        mirror every frame left to right: for a camera that delivers a mirrored (selfie) picture,
        so that hands downstream are seen as they are (see ``seqrec.features.vision.landmarker``).
    lost_after : float
        seconds a camera may deliver nothing before it counts as lost.

    Raises
    ------
    InputError
        on opening: no camera at that index (or it is busy); a video missing, empty, a folder, not
        a video OpenCV reads. While iterating: a video with no frames; a camera that stops.
    """

    def __init__(
        self,
        source: int | str | os.PathLike,
        *,
        flip: bool = False,
        lost_after: float = CAMERA_LOST_SECONDS,
    ):
        self.is_camera = isinstance(source, (int, np.integer)) and not isinstance(source, bool)
        self.name = f"camera {int(source)}" if self.is_camera else str(source)
        self.flip, self.lost_after = flip, lost_after
        if not self.is_camera:
            path = Path(source)
            _check_file(path, "a video")
            source = str(path)
        else:
            source = int(source)
        self._capture = _open_capture(source)
        if not self._capture.isOpened():
            self._capture.release()
            if self.is_camera:
                raise InputError(self.name, "no camera at this index, or another program is using it")
            raise InputError(self.name, "not a video OpenCV can read")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or None
        self.size = (
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        last: float | None = None
        start: float | None = None
        while True:
            frame = self._read(started=last is not None)
            if frame is None:
                if last is None and not self.is_camera:
                    raise InputError(self.name, "no video frames (empty or corrupt video)")
                return
            if self.is_camera:
                now = time.monotonic()
                start = now if start is None else start
                seconds = now - start
            else:
                seconds = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
            if last is not None and not seconds > last:  # containers can repeat or omit timestamps
                seconds = last + 1 / (self.fps or FALLBACK_FPS)
            last = seconds
            if self.flip:
                frame = frame[:, ::-1]
            yield seconds, as_rgb8(frame, color_order="bgr", path=self.name)

    def _read(self, started: bool) -> np.ndarray | None:
        """The next frame (BGR); None at the end of a video. A camera is retried until ``lost_after``."""
        ok, frame = self._capture.read()
        if ok or not self.is_camera:
            return frame if ok else None
        deadline = time.monotonic() + self.lost_after
        while time.monotonic() < deadline:
            time.sleep(0.02)
            ok, frame = self._capture.read()
            if ok:
                return frame
        if not started:
            raise InputError(self.name, f"the camera opened but delivered no frame in {self.lost_after:g} s")
        raise InputError(
            self.name,
            f"the camera stopped delivering frames ({self.lost_after:g} s without one): "
            "unplugged or taken by another program?",
        )

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_capture(source: int | str) -> cv2.VideoCapture:
    """OpenCV's capture for a camera index or a file path; its own logging is silenced while it
    probes backends, so a missing camera is our one line instead of a page of warnings."""
    with _quiet_opencv():
        return cv2.VideoCapture(source)


@contextmanager
def _quiet_opencv():
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def _check_file(path: Path, what: str) -> None:
    """Refuse what is not a non-empty file; ``what`` names the kind expected ("an image")."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, f"is a folder, not {what} file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")


def _read_file(path: Path, what: str) -> bytes:
    _check_file(path, what)
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error.strerror or _one_line(error)})") from None


def _image_kind(data: bytes) -> str | None:
    for magic, kind in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _jpeg_complete(data: bytes) -> bool:
    """Whether the JPEG's last scan is followed by its end marker. libjpeg decodes a file cut short
    without an error (grey where the data stops); an embedded EXIF thumbnail has its own end
    marker, hence "after the last scan"."""
    return data.rfind(_JPEG_END) > data.rfind(_JPEG_SCAN)


def _to_uint8(image: np.ndarray, path) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return cv2.convertScaleAbs(image, alpha=255 / 65535)
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32, copy=False)
        if not np.isfinite(image).all():
            raise InputError(path, "image contains NaN or infinite pixels")
        low, high = float(image.min()), float(image.max())
        if low < 0 or high > 1:
            raise InputError(path, f"float pixels must lie in [0, 1]; these span [{low:g}, {high:g}]")
        return cv2.convertScaleAbs(image, alpha=255)
    raise InputError(path, f"unsupported pixel type {image.dtype} (expected uint8, uint16, bool or float)")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
