"""What the live window shows, drawn onto a frame: both hands' skeletons, the current label of
each head with its score, the last few label changes, and the frame rate.

One function, ``draw_overlay``, used by the live window and by anything that saves a picture of
it (``seqrec gestures --overlay-png``), so a saved picture is exactly what the window shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from seqrec.features import FINGERS, HAND_SIDES, WRIST
from seqrec.pipelines.hands import NO_LABEL

# The bones: each finger's chain, the wrist to the thumb's and the pinky's bases, and the knuckles
# across the palm (the same 21 connections as MediaPipe's HAND_CONNECTIONS).
HAND_CONNECTIONS = (
    tuple((a, b) for finger in FINGERS for a, b in itertools.pairwise(finger))
    + ((WRIST, FINGERS[0][0]), (WRIST, FINGERS[1][0]), (WRIST, FINGERS[-1][0]))
    + tuple((a[0], b[0]) for a, b in itertools.pairwise(FINGERS[1:]))
)

# BGR colours: one per hand slot (right, left), so a viewer can tell which hand the model sees as which.
HAND_COLOURS = ((60, 200, 255), (255, 160, 60))
TEXT_COLOUR = (255, 255, 255)
MUTED_COLOUR = (190, 190, 190)
NO_HAND_COLOUR = (120, 120, 255)
PANEL_COLOUR = (0, 0, 0)
PANEL_OPACITY = 0.55
FONT = cv2.FONT_HERSHEY_SIMPLEX
# Text is sized for the frame: this scale on a 720-line frame, never under MIN_FONT_SCALE.
FONT_SCALE_AT_720 = 1.0
MIN_FONT_SCALE = 0.45


def draw_overlay(
    frame_bgr: np.ndarray,
    hands=None,
    labels: Mapping[str, tuple[str, float]] | None = None,
    history: Sequence[dict] = (),
    fps: float | None = None,
    dropped: int | None = None,
) -> np.ndarray:
    """The frame with the recogniser's view of it drawn on top; the input frame is left untouched.

    Parameters
    ----------
    frame_bgr : np.ndarray, shape [height, width, 3], uint8, BGR (OpenCV's order)
    hands : a ``Hands`` for this frame (landmarks normalised to the frame), or None
    labels : {head: (label, score)}, the current (smoothed) label of each head
    history : the last label changes, oldest first, each ``{"time", "head", "label", "score"}``
    fps : frames processed per second, shown when given
    dropped : frames the camera delivered that were skipped to keep up, shown when given

    Returns
    -------
    np.ndarray, shape [height, width, 3], uint8, BGR
    """
    canvas = np.ascontiguousarray(frame_bgr, dtype=np.uint8).copy()
    height, _ = canvas.shape[:2]
    scale = max(MIN_FONT_SCALE, FONT_SCALE_AT_720 * height / 720)
    if hands is not None:
        _draw_hands(canvas, hands, scale)
    top = [_label_line(head, label, score) for head, (label, score) in (labels or {}).items()]
    status = []
    if fps is not None:
        status.append(f"{fps:.1f} fps")
    if dropped is not None:
        status.append(f"{dropped} dropped")
    if hands is not None:
        status.append(f"{hands.count} hand{'' if hands.count == 1 else 's'}")
    if status:
        top.append(("  ".join(status), MUTED_COLOUR))
    _draw_panel(canvas, top, (0, 0), scale, anchor="top")
    changes = [(_history_line(event), MUTED_COLOUR) for event in history]
    _draw_panel(canvas, changes, (0, height), scale, anchor="bottom")
    return canvas


def _draw_hands(canvas: np.ndarray, hands, scale: float) -> None:
    height, width = canvas.shape[:2]
    thickness = max(2, round(2 * scale))
    radius = max(3, round(4 * scale))
    for slot in np.flatnonzero(hands.present):
        points = np.round(hands.landmarks[slot, :, :2] * (width, height)).astype(np.int32)
        colour = HAND_COLOURS[slot]
        for a, b in HAND_CONNECTIONS:
            cv2.line(canvas, tuple(points[a]), tuple(points[b]), colour, thickness, cv2.LINE_AA)
        for point in points:
            cv2.circle(canvas, tuple(point), radius, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(canvas, tuple(point), radius, colour, max(1, thickness // 2), cv2.LINE_AA)
        # The side the model takes the hand for, beside its wrist, outlined so it reads on any background.
        at = (int(points[WRIST][0]) + 2 * radius, int(points[WRIST][1]) + 4 * radius)
        cv2.putText(canvas, HAND_SIDES[slot], at, FONT, scale, PANEL_COLOUR, thickness + 2, cv2.LINE_AA)
        cv2.putText(canvas, HAND_SIDES[slot], at, FONT, scale, colour, thickness, cv2.LINE_AA)


def _label_line(head: str, label: str, score: float) -> tuple[str, tuple[int, int, int]]:
    if label == NO_LABEL:
        return f"{head}: {label}", NO_HAND_COLOUR
    return f"{head}: {label}  {score:.2f}", TEXT_COLOUR


def _history_line(event: dict) -> str:
    time = "" if event.get("time") is None else f"{event['time']:.2f} s  "
    score = "" if event["label"] == NO_LABEL else f" ({event['score']:.2f})"
    return f"{time}{event['head']}: {event['label']}{score}"


def _draw_panel(
    canvas: np.ndarray,
    lines: list[tuple[str, tuple[int, int, int]]],
    corner: tuple[int, int],
    scale: float,
    anchor: str,
) -> None:
    """Lines of text on a translucent dark box at the top-left (``anchor="top"``) or bottom-left corner."""
    if not lines:
        return
    thickness = max(1, round(1.5 * scale))
    sizes = [cv2.getTextSize(text, FONT, scale, thickness) for text, _ in lines]
    line_height = max(h + baseline for (_, h), baseline in sizes) + round(6 * scale)
    margin = round(8 * scale)
    box_width = max(w for (w, _), _ in sizes) + 2 * margin
    box_height = line_height * len(lines) + margin
    x0 = corner[0]
    y0 = corner[1] if anchor == "top" else corner[1] - box_height
    x1, y1 = min(canvas.shape[1], x0 + box_width), min(canvas.shape[0], y0 + box_height)
    y0 = max(0, y0)
    region = canvas[y0:y1, x0:x1]
    region[:] = cv2.addWeighted(
        region, 1 - PANEL_OPACITY, np.full_like(region, PANEL_COLOUR), PANEL_OPACITY, 0
    )
    for index, (text, colour) in enumerate(lines):
        baseline_y = y0 + margin // 2 + line_height * (index + 1) - round(4 * scale)
        cv2.putText(canvas, text, (x0 + margin, baseline_y), FONT, scale, colour, thickness, cv2.LINE_AA)
