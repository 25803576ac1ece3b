"""Hand landmarks on real photos and video (tests/data/hands, see its README), and every bad input.

Photos go through IMAGE mode, the clip through VIDEO mode; the unusual pictures (grayscale, 16-bit,
tiny, huge) are made at test time from the real photos.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from seqrec.features import (
    HAND_MODEL_SHA256,
    MIN_SIDE,
    FrameSource,
    HandLandmarker,
    HandLandmarkerConfig,
    InputError,
    LandmarkFeatures,
    ModelFileError,
    load_hand_model,
    read_image,
)
from seqrec.features.vision import frames as frames_module

HANDS_DIR = Path(__file__).parent / "data" / "hands"
THUMBS_UP = HANDS_DIR / "ios_thumbs_up.png"  # RGBA, a right hand; MediaPipe's expected landmarks beside it
NO_HAND = HANDS_DIR / "no_hand_ceiling.png"
CLIP = HANDS_DIR / "hand_clip.mp4"  # 38 frames at 25 fps, a right hand in every one
# Digit photos where the hand fills the 100x100 frame: MediaPipe alone finds none, the retry does.
FILLED_FRAME = ["sign_digit_0_IMG_1322.JPG", "sign_digit_4_IMG_1295.JPG"]
# Digit photos MediaPipe finds a hand in at once.
PLAIN = ["sign_digit_5_IMG_1123.JPG", "sign_digit_1_IMG_1119.JPG"]


@pytest.fixture(scope="module")
def hands() -> HandLandmarker:
    with HandLandmarker() as landmarker:
        yield landmarker


@pytest.fixture(scope="module")
def no_retry() -> HandLandmarker:
    with HandLandmarker(HandLandmarkerConfig(retry_borders=())) as landmarker:
        yield landmarker


@pytest.fixture(scope="module")
def thumbs_up(hands):
    """The thumbs-up photo's landmarks from seqrec, and MediaPipe's published ones [21, 2]."""
    expected = json.loads((HANDS_DIR / "ios_thumbs_up_landmarks.json").read_text())["landmarks"]
    return hands.detect(THUMBS_UP), np.array([(point["x"], point["y"]) for point in expected])


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between corresponding landmarks, x and y only (normalised image units)."""
    return float(np.linalg.norm(a[..., :2] - b[..., :2], axis=-1).mean())


# -- photos ----------------------------------------------------------------------------------------


def test_thumbs_up_landmarks_match_mediapipe_reference(thumbs_up):
    found, expected = thumbs_up
    assert found.count == 1 and found.present[0], "the thumbs-up is a right hand"
    assert found.handedness == ("right", None) and found.score[0] > 0.9
    assert found.image_size == (1920, 1280) and found.timestamp is None
    # Measured 0.0013. Laying the RGBA photo on white moves landmarks by 0.013; swapping the
    # colour channels loses the hand; wrong landmarks stray by more than 0.05.
    assert mean_distance(found.landmarks[0], expected) < 0.005


def test_photo_without_hand_gives_no_hands_not_an_error(hands):
    found = hands.detect(NO_HAND)
    assert found.count == 0 and not found.present.any()
    assert found.handedness == (None, None)
    assert not found.landmarks.any() and not found.score.any()
    assert found.landmarks.shape == (2, 21, 3) and found.landmarks.dtype == np.float32


@pytest.mark.parametrize("name", FILLED_FRAME)
def test_retry_with_a_border_finds_a_hand_that_fills_the_frame(hands, no_retry, name):
    assert no_retry.detect(HANDS_DIR / name).count == 0
    found = hands.detect(HANDS_DIR / name)
    assert found.count == 1 and found.present[0]
    # Landmarks are for the photo itself, not the bordered one: the hand spans most of it.
    xy = found.landmarks[0, :, :2]
    assert xy.min() > -0.15 and xy.max() < 1.15 and np.ptp(xy[:, 1]) > 0.5


def test_retry_landmarks_are_mapped_back_to_the_photo(hands, no_retry):
    photo = read_image(HANDS_DIR / FILLED_FRAME[0])
    border = round(0.25 * max(photo.shape[:2]))
    framed = cv2.copyMakeBorder(photo, border, border, border, border, cv2.BORDER_REPLICATE)
    in_frame = no_retry.detect(framed)
    assert in_frame.count == 1
    height, width = photo.shape[:2]
    scale = np.array([width + 2 * border, height + 2 * border]) / np.array([width, height])
    expected = in_frame.landmarks[0, :, :2] * scale - border / np.array([width, height])
    assert mean_distance(hands.detect(HANDS_DIR / FILLED_FRAME[0]).landmarks[0], expected) < 1e-4


@pytest.mark.parametrize("name", PLAIN)
def test_retry_leaves_photos_found_at_once_unchanged(hands, no_retry, name):
    found, plain = hands.detect(HANDS_DIR / name), no_retry.detect(HANDS_DIR / name)
    assert found.count == plain.count == 1
    np.testing.assert_array_equal(found.landmarks, plain.landmarks)


def test_gesture_photo_of_a_person_in_a_room(hands):
    found = hands.detect(HANDS_DIR / "gesture_call_044768ad.jpg")
    assert found.count >= 1
    assert all(
        (side is None) == (not present)
        for side, present in zip(found.handedness, found.present, strict=False)
    )


def test_mirrored_photo_shows_a_left_hand_in_slot_1(hands, thumbs_up):
    found = thumbs_up[0]
    mirrored = hands.detect(read_image(THUMBS_UP)[:, ::-1])
    assert mirrored.handedness == (None, "left") and mirrored.score[1] > 0.9
    assert np.abs(mirrored.landmarks[1, :, 0] - (1 - found.landmarks[0, :, 0])).mean() < 0.02
    assert np.abs(mirrored.landmarks[1, :, 1] - found.landmarks[0, :, 1]).mean() < 0.02
    # Mirrored into the right hand's frame, the left hand's features are the right hand's, up to
    # MediaPipe's own wobble (measured 0.06, mostly depth; the digit-5 hand differs by 0.5).
    features = LandmarkFeatures(velocities=False)
    right, left = features.of_hands([found]), features.of_hands([mirrored])
    hand = features.hand_dim
    assert np.abs(left[0, hand : 2 * hand] - right[0, :hand]).mean() < 0.1


def test_two_hands_fill_both_slots(hands):
    photo = read_image(HANDS_DIR / PLAIN[0])
    found = hands.detect(np.hstack([photo, photo[:, ::-1]]))  # a right hand, and beside it a left one
    assert found.handedness == ("right", "left") and found.present.all()
    assert found.landmarks[0, :, 0].mean() < 0.5 < found.landmarks[1, :, 0].mean()


# -- the same picture in other encodings -----------------------------------------------------------


def test_rgba_is_read_as_its_colour(hands, thumbs_up):
    rgba = cv2.imread(str(THUMBS_UP), cv2.IMREAD_UNCHANGED)
    assert rgba.shape[2] == 4, "the fixture is RGBA"
    from_array = hands.detect(rgba, color_order="bgr")
    np.testing.assert_allclose(from_array.landmarks, thumbs_up[0].landmarks, atol=1e-6)


def test_bgr_array_with_color_order_matches_the_file(hands, thumbs_up):
    bgr = cv2.imread(str(THUMBS_UP))
    np.testing.assert_allclose(
        hands.detect(bgr, color_order="bgr").landmarks, thumbs_up[0].landmarks, atol=1e-6
    )


@pytest.fixture(scope="module")
def digit_photo(hands):
    """A plain digit photo as RGB, and its landmarks."""
    rgb = read_image(HANDS_DIR / PLAIN[0])
    return rgb, hands.detect(rgb).landmarks


def test_grayscale_photo_finds_the_hand(hands, digit_photo, tmp_path):
    rgb, reference = digit_photo
    path = tmp_path / "gray.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).ndim == 2, "a one-channel file"
    found = hands.detect(path)
    assert found.count == 1 and mean_distance(found.landmarks[0], reference[0]) < 0.03
    assert hands.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).count == 1


def test_16_bit_photo_gives_the_8_bit_landmarks(hands, digit_photo, tmp_path):
    rgb, reference = digit_photo
    deep = rgb.astype(np.uint16) * 257
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).dtype == np.uint16, "a 16-bit file"
    for image in (path, deep):
        found = hands.detect(image)
        assert found.count == 1 and mean_distance(found.landmarks[0], reference[0]) < 0.005


def test_huge_photo_is_downscaled_and_landmarks_stay_normalised(hands, thumbs_up):
    rgb = read_image(THUMBS_UP)
    huge = cv2.resize(rgb, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)  # 5760 x 3840
    found = hands.detect(huge)
    assert found.image_size == (5760, 3840)
    assert found.count == 1 and mean_distance(found.landmarks[0], thumbs_up[0].landmarks[0]) < 0.005


def test_tiny_photo_is_refused_with_its_size(hands, digit_photo, tmp_path):
    rgb, _ = digit_photo
    path = tmp_path / "tiny.png"
    cv2.imwrite(str(path), cv2.resize(rgb, (20, 20), interpolation=cv2.INTER_AREA))
    with pytest.raises(InputError) as raised:
        hands.detect(path)
    assert str(raised.value) == f"{path}: image is 20x20 px; hands need at least {MIN_SIDE} px on each side"
    smallest = cv2.resize(rgb, (MIN_SIDE, MIN_SIDE), interpolation=cv2.INTER_AREA)
    assert hands.detect(smallest).count == 1


# -- bad files -------------------------------------------------------------------------------------


def _truncated_jpeg(folder: Path) -> Path:
    data = (HANDS_DIR / PLAIN[0]).read_bytes()
    path = folder / "cut_short.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt_png(folder: Path) -> Path:
    data = bytearray(NO_HAND.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 200] = np.random.default_rng(0).integers(0, 256, 200, dtype=np.uint8).tobytes()
    path = folder / "corrupt.png"
    path.write_bytes(bytes(data))
    return path


def _text_as_image(folder: Path) -> Path:
    path = folder / "notes.jpg"
    path.write_text("These are meeting notes, not a photo.\n")
    return path


def _empty(folder: Path) -> Path:
    path = folder / "empty.png"
    path.write_bytes(b"")
    return path


def _folder(folder: Path) -> Path:
    path = folder / "photos.png"
    path.mkdir()
    return path


BAD_IMAGES = {
    "missing": (lambda folder: folder / "missing.png", "no such file"),
    "folder": (_folder, "is a folder, not an image file"),
    "empty": (_empty, "empty file (0 bytes)"),
    "not an image": (_text_as_image, "not an image (no format OpenCV reads)"),
    "corrupt png": (_corrupt_png, "corrupt PNG image"),
    "truncated jpeg": (_truncated_jpeg, "corrupt JPEG: the data ends early (truncated file)"),
}


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_image_file_is_one_line_naming_file_and_reason(hands, tmp_path, case):
    make, reason = BAD_IMAGES[case]
    path = make(tmp_path)
    with pytest.raises(InputError) as raised:
        hands.detect(path)
    assert str(raised.value) == f"{path}: {reason}"
    assert raised.value.path == str(path)


@pytest.mark.parametrize(
    "array, reason",
    [
        (np.zeros(100, np.uint8), "not an image: array of shape (100,)"),
        (np.zeros((64, 64, 2), np.uint8), "not an image: array of shape (64, 64, 2)"),
        (np.full((64, 64, 3), 2.0, np.float32), "float pixels must lie in [0, 1]"),
        (np.zeros((64, 64, 3), np.int32), "unsupported pixel type int32"),
    ],
)
def test_bad_image_array_is_refused(hands, array, reason):
    with pytest.raises(InputError, match=re.escape(reason)):
        hands.detect(array)


# -- video and cameras -----------------------------------------------------------------------------


def test_video_mode_finds_the_hand_in_most_frames_with_increasing_timestamps(hands):
    with FrameSource(CLIP) as source:
        assert source.fps == 25 and source.size == (640, 360)
        found = list(hands.track(source))
    assert len(found) == 38
    assert sum(frame.count for frame in found) >= 0.9 * len(found)
    assert sum(frame.handedness[0] == "right" for frame in found) >= 0.9 * len(found)
    times = np.array([frame.timestamp for frame in found])
    assert np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(38) * 0.04, atol=1e-3)  # the file's own times


def test_tracked_clip_becomes_features(hands):
    with FrameSource(CLIP) as source:
        found = list(hands.track(source))
    features = LandmarkFeatures().of_hands(found)
    assert features.shape == (38, LandmarkFeatures().dim) and features.dtype == np.float32
    assert np.isfinite(features).all() and features[:, 0].sum() >= 34, "the right hand's presence flag"


def test_repeated_or_decreasing_timestamps_never_fail(hands):
    frame = read_image(HANDS_DIR / PLAIN[0])
    with hands.tracker() as tracker:
        given = [0.5, 0.5, 0.2, None, float("nan"), 0.0, 2.0]
        times = [tracker.detect(frame, seconds).timestamp for seconds in given]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    assert times[0] == 0.5 and times[-1] == 2.0


def test_frame_source_yields_rgb_frames_that_match_opencv():
    capture = cv2.VideoCapture(str(CLIP))
    _, first = capture.read()
    capture.release()
    with FrameSource(CLIP) as source:
        seconds, frame = next(iter(source))
    assert seconds == 0.0 and frame.dtype == np.uint8 and frame.shape == (360, 640, 3)
    np.testing.assert_array_equal(frame, first[..., ::-1])


def test_flip_mirrors_frames():
    with FrameSource(CLIP) as plain, FrameSource(CLIP, flip=True) as flipped:
        np.testing.assert_array_equal(next(iter(flipped))[1], next(iter(plain))[1][:, ::-1])


def test_missing_camera_is_one_line():
    with pytest.raises(InputError) as raised:
        FrameSource(99)
    assert str(raised.value) == "camera 99: no camera at this index, or another program is using it"


def test_camera_path_reads_frames_then_reports_a_lost_camera(monkeypatch):
    """A video file through the camera code: frames timed by the clock, and its end is a camera lost."""
    monkeypatch.setattr(frames_module, "_open_capture", lambda source: cv2.VideoCapture(str(CLIP)))
    source = FrameSource(0, lost_after=0.05)
    times = []
    with pytest.raises(InputError) as raised:
        for seconds, frame in source:
            times.append(seconds)
            assert frame.shape == (360, 640, 3)
    source.close()
    assert len(times) == 38 and times[0] == 0.0 and np.all(np.diff(times) > 0)
    assert str(raised.value).startswith("camera 0: the camera stopped delivering frames")


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda folder: folder / "missing.mp4", "no such file"),
        (_empty, "empty file (0 bytes)"),
        (lambda folder: _text_as_image(folder).rename(folder / "notes.mp4"), "not a video OpenCV can read"),
    ],
    ids=["missing", "empty", "not a video"],
)
def test_bad_video_is_one_line(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(InputError) as raised:
        FrameSource(path)
    assert str(raised.value) == f"{path}: {reason}"


def test_corrupt_video_with_no_decodable_frame(tmp_path):
    """The container is intact, the picture data zeroed: it opens, and no frame decodes."""
    data = bytearray(CLIP.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4
    data[start:end] = bytes(end - start)
    path = tmp_path / "zeroed.mp4"
    path.write_bytes(bytes(data))
    with FrameSource(path) as source, pytest.raises(InputError) as raised:
        list(source)
    assert str(raised.value) == f"{path}: no video frames (empty or corrupt video)"


# -- the model file and the import ---------------------------------------------------------------


def test_shipped_model_matches_its_sha256():
    assert hashlib.sha256(load_hand_model()).hexdigest() == HAND_MODEL_SHA256


def test_altered_model_is_refused(tmp_path):
    data = bytearray(load_hand_model())
    data[1000] ^= 0xFF
    path = tmp_path / "hand_landmarker.task"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="expected " + HAND_MODEL_SHA256):
        HandLandmarker(model_path=path, sha256=HAND_MODEL_SHA256)
    with pytest.raises(ModelFileError, match="not found"):
        HandLandmarker(model_path=tmp_path / "missing.task")


def test_importing_features_does_not_load_mediapipe_or_opencv():
    code = "import sys, seqrec.features; print(sorted({'mediapipe', 'cv2'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_landmarks_come_without_the_rest_of_mediapipe_which_still_imports_whole_after():
    """The landmarker imports its few MediaPipe modules alone (not matplotlib, not the other
    tasks), and leaves ``import mediapipe`` to work as usual for the user afterwards."""
    code = f"""
import sys
from seqrec.features import HandLandmarker
with HandLandmarker() as hands:
    first = hands.detect({str(THUMBS_UP)!r})
loaded = list(sys.modules)
print(bool(first.present.any()), 'matplotlib' in loaded, any(m.startswith('mediapipe') for m in loaded))
import mediapipe as mp
from mediapipe.tasks.python import vision
print(mp.Image.__name__, vision.HandLandmarker.__name__, 'matplotlib' in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["True False False", "Image HandLandmarker True"]


def test_landmarks_pickle_for_a_process_pool(hands, thumbs_up):
    payload = pickle.dumps(hands)
    assert len(payload) < 10_000, "the model itself does not travel"
    with pickle.loads(payload) as copy:
        np.testing.assert_array_equal(copy.detect(THUMBS_UP).landmarks, thumbs_up[0].landmarks)
