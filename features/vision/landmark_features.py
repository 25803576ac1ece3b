"""Landmark features: a sequence of hands [T, 2, 21, 3] as the float32 [T, D] a sequence model reads.

Each hand is made independent of where it is in the picture and how large: centred on its wrist
and divided by its palm size (wrist to middle-finger knuckle). The left hand is mirrored
(x -> -x), so a left hand and a right hand making the same shape give the same numbers and one
model serves both; the two per-hand blocks share one layout. A missing hand is zeros with its
presence flag 0.

One frame, with the defaults (D = 2 * 130 + 3 = 263): for the right hand, then the left,
    present (1) | shape (21 x 3) | shape velocity (21 x 3) | wrist velocity (3)
followed by the vector between the hands (3). Velocities are differences from the previous frame
(zero on the first frame, and wherever the hand is missing in either frame). The wrist velocity is
the hand's motion in the picture in palm sizes per frame: shape alone cannot see a wave or a
swipe, and palm sizes make it the same near the camera and far from it. The vector between the
hands (left wrist minus right wrist, in palm sizes, zero unless both are there) carries where the
hands are relative to each other, which two-handed signs need.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from seqrec.features.vision.hand_layout import FINGERS, MIDDLE_MCP, N_COORDS, N_HAND_LANDMARKS, N_HANDS, WRIST

# A hand whose palm measures less than this (in image widths) is collapsed to a point: no hand.
MIN_PALM = 1e-4
# Pairs of consecutive bones whose angle is a joint's bend: along each finger (wrist -> knuckle ->
# ... -> tip: three joints a finger), and between neighbouring fingers' first bones (their spread).
_FINGER_JOINTS = [
    ((finger[i - 1] if i else WRIST, finger[i]), (finger[i], finger[i + 1]))
    for finger in FINGERS
    for i in range(3)
]
_SPREADS = [((WRIST, a[0]), (WRIST, b[0])) for a, b in itertools.pairwise(FINGERS[1:])] + [
    ((FINGERS[0][0], FINGERS[0][1]), (WRIST, FINGERS[1][0]))
]
_TIP_PAIRS = list(itertools.combinations([finger[-1] for finger in FINGERS], 2))
GEOMETRY_DIM = len(_FINGER_JOINTS) + len(_SPREADS) + len(_TIP_PAIRS)  # 15 + 4 + 10
# x is negated in the left hand's slot (slot 1).
_MIRROR = np.array([[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]], np.float32)


@dataclass(frozen=True)
class LandmarkFeatures:
    """Hands [T, 2, 21, 3] to features [T, dim]; stored in a model bundle like ``SpectralConfig``.

    ``use_z=False`` drops depth (for landmarks that have none, or to trust only x and y);
    ``velocities=False`` keeps presence, shape and the between-hands vector. ``velocity_gain``
    multiplies both velocities: per frame, a hand moves a tenth of a palm or less, numbers a
    tenth of the shape's, and a model reading motion learns faster when they are on one scale.
    """

    use_z: bool = True
    velocities: bool = True
    velocity_gain: float = 1.0
    geometry: bool = False  # each hand's block also holds GEOMETRY_DIM joint angles and tip distances

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def n_coords(self) -> int:
        return N_COORDS if self.use_z else 2

    @property
    def hand_dim(self) -> int:
        """Width of one hand's block."""
        shape = N_HAND_LANDMARKS * self.n_coords
        return (
            1
            + shape
            + (shape + self.n_coords if self.velocities else 0)
            + (GEOMETRY_DIM if self.geometry else 0)
        )

    @property
    def dim(self) -> int:
        return N_HANDS * self.hand_dim + self.n_coords

    def of_hands(self, hands: Sequence) -> np.ndarray:
        """Features of a sequence of ``Hands``, one per frame (a photo is a sequence of one).

        Returns
        -------
        np.ndarray, shape [len(hands), self.dim], float32
        """
        if not hands:
            return np.zeros((0, self.dim), np.float32)
        landmarks = np.stack([frame.landmarks for frame in hands])
        present = np.stack([frame.present for frame in hands])
        return self(landmarks, present, np.array([frame.aspect for frame in hands], np.float32))

    def __call__(
        self, landmarks: np.ndarray, present: np.ndarray, aspect: float | np.ndarray = 1.0
    ) -> np.ndarray:
        """Features of one sequence.

        Parameters
        ----------
        landmarks : np.ndarray, shape [T, 2, 21, 3]
            x, y normalised by the picture's width and height, z in about the units of x
            (``Hands.landmarks`` stacked); slot 0 the right hand, slot 1 the left.
        present : np.ndarray, shape [T, 2], bool
        aspect : width / height of the pictures (``Hands.aspect``), scalar or [T]: y is
            multiplied back into the units of x, so a hand keeps its shape in a non-square picture.

        Returns
        -------
        np.ndarray, shape [T, self.dim], float32
        """
        landmarks = np.asarray(landmarks, np.float32)
        present = np.asarray(present, bool)
        if landmarks.ndim != 4 or landmarks.shape[1:] != (N_HANDS, N_HAND_LANDMARKS, N_COORDS):
            raise ValueError(
                f"landmarks must be [T, {N_HANDS}, {N_HAND_LANDMARKS}, {N_COORDS}], "
                f"not {list(landmarks.shape)}"
            )
        if present.shape != landmarks.shape[:2]:
            raise ValueError(
                f"present must be [T, {N_HANDS}] = {list(landmarks.shape[:2])}, not {list(present.shape)}"
            )
        n_frames, c = len(landmarks), self.n_coords
        points = landmarks[..., :c].copy()
        points[..., 1] /= np.broadcast_to(np.asarray(aspect, np.float32), (n_frames,))[:, None, None]

        wrist = points[:, :, WRIST]  # [T, 2, c]
        palm = np.linalg.norm(points[:, :, MIDDLE_MCP] - wrist, axis=-1)  # [T, 2]
        valid = present & (palm > MIN_PALM)
        palm = np.where(valid, palm, 1.0)
        mirror = _MIRROR[:, :c]
        shape = (points - wrist[:, :, None]) / palm[..., None, None] * mirror[:, None]
        shape = np.where(valid[..., None, None], shape, 0.0).reshape(n_frames, N_HANDS, -1)

        parts = [valid[..., None].astype(np.float32), shape]
        if self.velocities:
            both = np.zeros_like(valid)
            both[1:] = valid[1:] & valid[:-1]
            shape_velocity = np.zeros_like(shape)
            shape_velocity[1:] = shape[1:] - shape[:-1]
            wrist_velocity = np.zeros_like(wrist)
            wrist_velocity[1:] = (wrist[1:] - wrist[:-1]) / ((palm[1:] + palm[:-1]) / 2)[..., None] * mirror
            gain = np.float32(self.velocity_gain)
            parts += [
                np.where(both[..., None], shape_velocity * gain, 0.0),
                np.where(both[..., None], wrist_velocity * gain, 0.0),
            ]
        if self.geometry:
            parts.append(np.where(valid[..., None], hand_geometry(points, palm), 0.0))
        hands = np.concatenate(parts, axis=-1).reshape(n_frames, N_HANDS * self.hand_dim)

        both_hands = valid.all(axis=1)
        between = (wrist[:, 1] - wrist[:, 0]) / palm.mean(axis=1)[:, None]
        between = np.where(both_hands[:, None], between, 0.0)
        return np.concatenate([hands, between], axis=1).astype(np.float32)


def hand_geometry(points: np.ndarray, palm: np.ndarray) -> np.ndarray:
    """[..., 21, c] landmarks (y in the units of x) and each hand's palm size [...] (wrist to
    middle-finger knuckle, as the features measure it) -> [..., GEOMETRY_DIM]: the cosine of every
    finger joint's bend and of the spread between neighbouring fingers, then the distances between
    fingertips over the palm's size. None depends on the hand's size, its place, its turn in the
    picture's plane or its side (a mirror keeps angles and distances)."""

    def cosine(first: tuple[int, int], second: tuple[int, int]) -> np.ndarray:
        a = points[..., first[1], :] - points[..., first[0], :]
        b = points[..., second[1], :] - points[..., second[0], :]
        norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
        return np.sum(a * b, axis=-1) / np.maximum(norms, 1e-9)

    tips = [
        np.linalg.norm(points[..., i, :] - points[..., j, :], axis=-1) / np.maximum(palm, MIN_PALM)
        for i, j in _TIP_PAIRS
    ]
    angles = [cosine(a, b) for a, b in _FINGER_JOINTS + _SPREADS]
    return np.stack(angles + tips, axis=-1).astype(np.float32)
