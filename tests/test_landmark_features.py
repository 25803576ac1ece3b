"""Landmark features on a real hand: MediaPipe's landmarks for tests/data/hands/ios_thumbs_up.png.

No MediaPipe here: sequences are that one real hand moved, scaled and mirrored by known amounts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqrec.features import N_COORDS, N_HAND_LANDMARKS, N_HANDS, LandmarkFeatures

LANDMARKS_JSON = Path(__file__).parent / "data" / "hands" / "ios_thumbs_up_landmarks.json"
FEATURES = LandmarkFeatures()
HAND = FEATURES.hand_dim
SHAPE = N_HAND_LANDMARKS * N_COORDS
# One hand's block: present | shape | shape velocity | wrist velocity.
PRESENT = 0
SHAPE_AT = slice(1, 1 + SHAPE)
SHAPE_VELOCITY_AT = slice(1 + SHAPE, 1 + 2 * SHAPE)
WRIST_VELOCITY_AT = slice(1 + 2 * SHAPE, HAND)


@pytest.fixture(scope="module")
def right_hand() -> np.ndarray:
    """The real right hand, [21, 3]: x, y normalised, z relative to the wrist."""
    points = json.loads(LANDMARKS_JSON.read_text())["landmarks"]
    return np.array([(p["x"], p["y"], p["z"]) for p in points], np.float32)


def moving(hand: np.ndarray, n_frames: int = 8) -> np.ndarray:
    """The hand drifting right and down and turning a little, frame by frame: [T, 21, 3]."""
    frames = []
    for t in range(n_frames):
        angle = 0.05 * t
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
        centre = hand[0, :2]
        xy = (hand[:, :2] - centre) @ turn.T + centre + [0.01 * t, 0.005 * t]
        frames.append(np.concatenate([xy, hand[:, 2:]], axis=1))
    return np.stack(frames).astype(np.float32)


def in_slot(hand_frames: np.ndarray, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """A one-hand sequence [T, 21, 3] placed in ``slot``: landmarks [T, 2, 21, 3], present [T, 2]."""
    landmarks = np.zeros((len(hand_frames), N_HANDS, N_HAND_LANDMARKS, N_COORDS), np.float32)
    landmarks[:, slot] = hand_frames
    present = np.zeros((len(hand_frames), N_HANDS), bool)
    present[:, slot] = True
    return landmarks, present


def test_shapes_and_dtype(right_hand):
    landmarks, present = in_slot(moving(right_hand, 5), 0)
    features = FEATURES(landmarks, present)
    assert features.shape == (5, FEATURES.dim) == (5, 263) and features.dtype == np.float32
    assert LandmarkFeatures(use_z=False)(landmarks, present).shape == (5, 2 * (1 + 42 + 42 + 2) + 2)
    assert LandmarkFeatures(velocities=False)(landmarks, present).shape == (5, 2 * (1 + 63) + 3)
    assert FEATURES(landmarks[:1], present[:1]).shape == (1, 263), "a photo is a sequence of one"
    assert FEATURES.of_hands([]).shape == (0, 263)


def test_invariant_to_where_the_hand_is_and_how_large(right_hand):
    frames = moving(right_hand)
    features = FEATURES(*in_slot(frames, 0))
    for scale, offset in [(0.5, (0.3, 0.2)), (1.7, (-0.4, 0.1))]:
        moved = frames * scale  # z is in the units of x, so it scales with the hand
        moved[..., :2] += offset
        np.testing.assert_allclose(FEATURES(*in_slot(moved, 0)), features, atol=1e-5)


def test_left_hand_mirrored_gives_the_right_hands_features(right_hand):
    frames = moving(right_hand)
    left = frames.copy()
    left[..., 0] = 1.0 - left[..., 0]  # the same shape and motion, as a left hand
    right_features = FEATURES(*in_slot(frames, 0))
    left_features = FEATURES(*in_slot(left, 1))
    np.testing.assert_allclose(left_features[:, HAND : 2 * HAND], right_features[:, :HAND], atol=1e-5)
    assert not left_features[:, :HAND].any() and not right_features[:, HAND:].any()


def test_static_hand_has_zero_velocities(right_hand):
    still = np.repeat(right_hand[None], 6, axis=0)
    block = FEATURES(*in_slot(still, 0))[:, :HAND]
    assert not block[:, SHAPE_VELOCITY_AT].any() and not block[:, WRIST_VELOCITY_AT].any()
    moving_block = FEATURES(*in_slot(moving(right_hand, 6), 0))[:, :HAND]
    assert np.abs(moving_block[1:, SHAPE_VELOCITY_AT]).max() > 1e-3, "turning changes the shape's axes"
    assert np.abs(moving_block[1:, WRIST_VELOCITY_AT]).max() > 1e-2, "drifting moves the wrist"
    assert not moving_block[0, SHAPE_VELOCITY_AT].any(), "the first frame has no previous one"


def test_wrist_velocity_is_in_palm_sizes_per_frame(right_hand):
    palm = np.linalg.norm(right_hand[9] - right_hand[0])
    frames = np.repeat(right_hand[None], 3, axis=0)
    frames[:, :, 0] += np.array([0.0, 1.0, 2.0])[:, None] * palm  # one palm to the right each frame
    block = FEATURES(*in_slot(frames, 0))[:, :HAND]
    np.testing.assert_allclose(block[1:, WRIST_VELOCITY_AT], [[1, 0, 0], [1, 0, 0]], atol=1e-5)


def test_missing_hand_is_zeros_and_no_velocity_across_the_gap(right_hand):
    landmarks, present = in_slot(moving(right_hand, 6), 0)
    present[2, 0] = False
    landmarks[2, 0] = 0.0
    block = FEATURES(landmarks, present)[:, :HAND]
    assert list(block[:, PRESENT]) == [1, 1, 0, 1, 1, 1]
    assert not block[2].any()
    assert not block[3, SHAPE_VELOCITY_AT].any() and not block[3, WRIST_VELOCITY_AT].any()
    assert block[4, WRIST_VELOCITY_AT].any()


def test_collapsed_hand_counts_as_missing(right_hand):
    landmarks, present = in_slot(np.full((2, N_HAND_LANDMARKS, N_COORDS), 0.5, np.float32), 0)
    features = FEATURES(landmarks, present)
    assert np.isfinite(features).all() and not features.any()


def test_aspect_keeps_the_hand_shape_in_a_wide_picture(right_hand):
    pixels = moving(right_hand) * 360  # a hand measured in pixels (z in the units of x)
    square = pixels / 360
    wide = pixels.copy()
    wide[..., 0] /= 640
    wide[..., 1] /= 360
    wide[..., 2] /= 640
    np.testing.assert_allclose(
        FEATURES(*in_slot(wide, 0), aspect=640 / 360), FEATURES(*in_slot(square, 0)), atol=1e-5
    )


def test_vector_between_the_hands(right_hand):
    palm = np.linalg.norm(right_hand[9] - right_hand[0])
    landmarks = np.zeros((2, N_HANDS, N_HAND_LANDMARKS, N_COORDS), np.float32)
    landmarks[:, 0] = right_hand
    landmarks[:, 1] = right_hand * [-1, 1, 1] + [1, 0, 0]  # the mirror image, its wrist elsewhere
    present = np.array([[True, True], [True, False]])
    between = FEATURES(landmarks, present)[:, 2 * HAND :]
    expected_x = (landmarks[0, 1, 0, 0] - landmarks[0, 0, 0, 0]) / palm
    np.testing.assert_allclose(between[0], [expected_x, 0, 0], atol=1e-5)
    assert not between[1].any(), "zero unless both hands are there"


@pytest.mark.parametrize(
    "landmarks_shape, present_shape",
    [((4, 21, 3), (4, 2)), ((4, 2, 20, 3), (4, 2)), ((4, 2, 21, 3), (4,))],
)
def test_wrong_shapes_are_refused(landmarks_shape, present_shape):
    with pytest.raises(ValueError):
        FEATURES(np.zeros(landmarks_shape, np.float32), np.ones(present_shape, bool))


def test_geometry_ignores_size_place_turn_and_side():
    from seqrec.features.vision.landmark_features import GEOMETRY_DIM

    rng = np.random.default_rng(5)
    hand = rng.uniform(0.3, 0.6, size=(21, 3)).astype(np.float32)
    turn = np.deg2rad(30)
    rotation = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
    moved = ((hand - 0.45) @ rotation.T * 0.5 + 0.2).astype(np.float32)
    mirrored = hand.copy()
    mirrored[:, 0] = 1 - mirrored[:, 0]
    features = LandmarkFeatures(geometry=True)
    landmarks = np.zeros((3, 2, 21, 3), np.float32)
    landmarks[0, 0], landmarks[1, 0], landmarks[2, 0] = hand, moved, mirrored
    present = np.array([[True, False]] * 3)
    out = features(landmarks, present)
    assert out.shape == (3, features.dim) and features.dim == LandmarkFeatures().dim + 2 * GEOMETRY_DIM
    block = features.hand_dim
    geometry = out[:, block - GEOMETRY_DIM : block]
    np.testing.assert_allclose(geometry[1], geometry[0], atol=1e-5)
    np.testing.assert_allclose(geometry[2], geometry[0], atol=1e-5)
    assert np.abs(geometry[0, :19]).max() <= 1 + 1e-6 and geometry[0].std() > 0.05
    assert not out[:, 2 * block - GEOMETRY_DIM : 2 * block].any(), "the absent hand is zeros"
