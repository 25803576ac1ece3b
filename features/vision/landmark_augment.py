"""Landmark augmentation for training: new hands and new timings from the ones recorded.

Every change acts on the landmarks [T, 2, 21, 3] before ``LandmarkFeatures``, in the units of x
(y is carried over by the picture's aspect and back), so what the model sees is a hand a camera
could have seen: turned in the picture, nearer or farther, seen a little askew, with longer or
shorter fingers, with the landmark model's jitter, with frames where detection failed, faster or
slower. Draws come from the generator given, so a batch is a function of its seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from seqrec.features.vision.hand_layout import FINGERS, MIDDLE_MCP, N_HANDS, WRIST

INDEX_MCP, PINKY_MCP = 5, 17  # the knuckles at either end of the palm


@dataclass(frozen=True)
class LandmarkAugmentConfig:
    """How far each change may go; zero switches it off. Stored in the recipe, not the bundle.

    rotation_degrees : the hand turned in the picture plane about its wrist, up to ± this
    scale : the hand's size times exp(±scale) (nearer, farther), about its wrist
    shear : x moved by up to ± shear × y (a camera seeing the hand askew), and y by x
    jitter : per-landmark noise, in palm sizes (MediaPipe's landmarks wobble by a few percent)
    finger_length : each finger's bones times 1 ± up to this (people's hands differ)
    drop_frames : chance that a hand is missing in a frame (the detector lost it)
    time_warp : the sequence played at a speed of 1 ± up to this
    mirror : chance that the person's hands swap sides (a left-handed signer)
    tilt_degrees : the hand turned out of the picture plane (about its wrist's horizontal and
        vertical axes, through MediaPipe's z) by up to ± this each way: another person holds it so
    joint_degrees : each finger joint (knuckle, middle and end joint) bent or straightened by up to
        ± this, about the knuckles' line: another person curls a finger more or less for one shape
    """

    rotation_degrees: float = 15.0
    scale: float = 0.2
    shear: float = 0.1
    jitter: float = 0.02
    finger_length: float = 0.1
    drop_frames: float = 0.05
    time_warp: float = 0.2
    mirror: float = 0.0
    tilt_degrees: float = 0.0
    joint_degrees: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def augment_landmarks(
    landmarks: np.ndarray,
    present: np.ndarray,
    aspect: float,
    config: LandmarkAugmentConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One random variant of a sequence of hands.

    Parameters
    ----------
    landmarks : [T, 2, 21, 3] float32, x and y normalised by the picture's width and height
    present : [T, 2] bool
    aspect : the picture's width over height
    config : how far each change may go
    rng : the generator all draws come from

    Returns
    -------
    landmarks : [T', 2, 21, 3] float32 (T' differs from T under ``time_warp``)
    present : [T', 2] bool
    """
    points = np.array(landmarks, np.float32)
    present = np.array(present, bool)
    points[..., 1] /= aspect  # into the units of x, where turning a hand keeps its shape
    if config.time_warp and len(points) > 1:
        speed = 1.0 + rng.uniform(-config.time_warp, config.time_warp)
        n_out = max(1, round(len(points) / speed))
        source = np.minimum(np.round(np.arange(n_out) * speed).astype(int), len(points) - 1)
        points, present = points[source], present[source]
    if config.mirror and rng.random() < config.mirror:
        # The picture flipped left to right: each hand becomes the other side's hand.
        points = points[:, ::-1].copy()
        present = present[:, ::-1].copy()
        points[..., 0] = 1.0 - points[..., 0]
    for hand in range(N_HANDS):
        points[:, hand] = _reshape_hand(points[:, hand], config, rng)
    if config.drop_frames:
        present = present & (rng.random(present.shape) >= config.drop_frames)
    points[..., 1] *= aspect
    return points.astype(np.float32), present


def _reshape_hand(hand: np.ndarray, config: LandmarkAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """One hand's track [T, 21, 3] changed the same way in every frame (jitter aside)."""
    wrist = hand[:, WRIST : WRIST + 1].copy()
    relative = hand - wrist
    if config.finger_length:
        for finger in FINGERS:
            factor = 1.0 + rng.uniform(-config.finger_length, config.finger_length)
            base = relative[:, finger[0] : finger[0] + 1]
            bones = np.diff(relative[:, finger], axis=1) * factor
            relative[:, finger[1:]] = base + np.cumsum(bones, axis=1)
    if config.joint_degrees:
        _bend_joints(relative, config.joint_degrees, rng)
    if config.tilt_degrees:
        relative = relative @ _tilt(rng.uniform(-config.tilt_degrees, config.tilt_degrees, size=2)).T
    angle = np.deg2rad(rng.uniform(-config.rotation_degrees, config.rotation_degrees))
    scale = np.exp(rng.uniform(-config.scale, config.scale))
    shear_x, shear_y = rng.uniform(-config.shear, config.shear, size=2) if config.shear else (0.0, 0.0)
    cos, sin = np.cos(angle), np.sin(angle)
    linear = scale * np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shear_x], [shear_y, 1.0]])
    relative[..., :2] = relative[..., :2] @ linear.T.astype(np.float32)
    relative[..., 2] *= scale
    if config.jitter:
        palm = np.linalg.norm(relative[:, MIDDLE_MCP, :2], axis=-1)[:, None, None]
        relative += rng.normal(0.0, config.jitter, relative.shape).astype(np.float32) * palm
        relative[:, WRIST] = 0.0
    return wrist + relative


def _bend_joints(relative: np.ndarray, degrees: float, rng: np.random.Generator) -> None:
    """Bend every joint of every finger of a wrist-relative track [T, 21, 3] in place, by one angle
    per joint for all frames, about the line through the index and little finger knuckles (the
    axis fingers curl about; the thumb's is another, but near enough for a few degrees)."""
    axis = relative[:, PINKY_MCP] - relative[:, INDEX_MCP]
    axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
    for finger in FINGERS:
        for joint in range(len(finger) - 1):
            angle = np.deg2rad(rng.uniform(-degrees, degrees))
            pivot = relative[:, finger[joint] : finger[joint] + 1]
            distal = relative[:, finger[joint + 1 :]] - pivot
            relative[:, finger[joint + 1 :]] = pivot + _rotated(distal, axis[:, None], angle)


def _rotated(vectors: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation of ``vectors`` [..., 3] about the unit ``axis`` (broadcast) by ``angle``."""
    cos, sin = np.cos(angle), np.sin(angle)
    along = np.sum(vectors * axis, axis=-1, keepdims=True) * axis
    return vectors * cos + np.cross(axis, vectors) * sin + along * (1.0 - cos)


def _tilt(degrees: np.ndarray) -> np.ndarray:
    """The 3x3 rotation about the x axis by ``degrees[0]``, then about the y axis by ``degrees[1]``."""
    (cos_x, cos_y), (sin_x, sin_y) = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, cos_x, -sin_x], [0.0, sin_x, cos_x]])
    about_y = np.array([[cos_y, 0.0, sin_y], [0.0, 1.0, 0.0], [-sin_y, 0.0, cos_y]])
    return (about_y @ about_x).astype(np.float32)


def hold_pose(
    landmarks: np.ndarray,
    present: np.ndarray,
    n_frames: int,
    rng: np.random.Generator,
    aspect: float = 1.0,
    drift: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """A pose seen in one picture held for ``n_frames`` frames, drifting a little as a held hand does.

    The hands wander together by a random walk whose spread over the whole hold is about ``drift``
    palm sizes: slower than any deliberate motion (kinivi's "Stop" tracks move about 0.01 palm per
    frame, its "Move" tracks 0.07), so a photo teaches what a still window of that pose looks like.

    Parameters
    ----------
    landmarks : [1, 2, 21, 3] or [2, 21, 3]
    present : [1, 2] or [2]
    aspect : the picture's width over height
    """
    landmarks = np.asarray(landmarks, np.float32).reshape(1, N_HANDS, -1, 3)
    present = np.asarray(present, bool).reshape(1, N_HANDS)
    palm_vectors = (landmarks[0, :, MIDDLE_MCP, :2] - landmarks[0, :, WRIST, :2]) / np.array(
        [1.0, aspect], np.float32
    )
    palms = np.linalg.norm(palm_vectors, axis=-1)[present[0]]
    palm = float(palms.mean()) if len(palms) else 0.0
    steps = rng.normal(0.0, drift * palm / np.sqrt(max(n_frames, 1)), (n_frames, 1, 1, 3)).astype(np.float32)
    steps[0] = 0.0
    steps[..., 2] = 0.0
    steps[..., 1] *= aspect  # y in picture heights
    track = np.repeat(landmarks, n_frames, axis=0) + np.cumsum(steps, axis=0)
    return track, np.repeat(present, n_frames, axis=0)
