"""``GestureRecognizer`` and the hand stages, on the real photos and clip of tests/data/hands."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from seqrec.models import BundleError
from seqrec.pipelines import GestureRecognizer
from seqrec.pipelines.hands.data import save_landmarks

HANDS_DIR = Path(__file__).parent / "data" / "hands"
FIVE = HANDS_DIR / "sign_digit_5_IMG_1123.JPG"
NO_HAND = HANDS_DIR / "no_hand_ceiling.png"
CLIP = HANDS_DIR / "hand_clip.mp4"  # 38 frames at 25 fps, a right hand in every one


@pytest.fixture(scope="module")
def recognizer():
    with GestureRecognizer("sign-digits", "cpu") as loaded:
        yield loaded


def test_a_digit_photo_gives_its_label_score_and_hands(recognizer):
    record = recognizer.recognize(FIVE)
    assert list(record) == ["path", "label", "score", "hands"]
    assert (record["path"], record["label"], record["hands"]) == (str(FIVE), "5", 1)
    assert 0.5 < record["score"] <= 1


def test_a_photo_without_a_hand_is_none_and_a_missing_file_an_error(recognizer):
    assert recognizer.recognize(NO_HAND) == {"path": str(NO_HAND), "label": "none", "score": 0.0, "hands": 0}
    missing = str(HANDS_DIR / "missing.jpg")
    assert recognizer.recognize(missing) == {"path": missing, "error": "no such file"}


def test_recognize_paths_keeps_order_and_goes_on_past_a_failure(recognizer):
    paths = [str(HANDS_DIR / "missing.png"), str(FIVE), str(NO_HAND)]
    records = list(recognizer.recognize_paths(paths))
    assert [r["path"] for r in records] == paths
    assert [r.get("label", r.get("error")) for r in records] == ["no such file", "5", "none"]


def test_an_opencv_array_reads_as_the_photo_it_came_from(recognizer):
    from_array = recognizer.recognize(cv2.imread(str(FIVE)), color_order="bgr")
    assert from_array == {**recognizer.recognize(FIVE), "path": None}


def test_a_video_gives_smoothed_segments_within_its_duration(recognizer):
    record = recognizer.recognize(str(CLIP))
    assert list(record) == ["path", "frames", "duration", "segments"]
    assert record["frames"] == 38 and record["duration"] == pytest.approx(38 / 25)
    assert record["segments"] and all(
        s["head"] == "digit" and 0 <= s["start"] < s["end"] <= record["duration"] for s in record["segments"]
    )


def test_the_pipeline_slices_by_stage_name(recognizer):
    pipeline = recognizer.pipeline
    assert [name for name, _ in pipeline.steps] == ["read", "landmarks", "sequence", "recognize"]
    found = pipeline[:"landmarks"]({"path": str(FIVE)})
    assert [hands.count for hands in found["frame_hands"]] == [1] and "label" not in found
    sequence = pipeline[:"sequence"]({"path": str(FIVE)})["sequence"]
    assert sequence.landmarks.shape == (1, 2, 21, 3) and sequence.found
    assert pipeline["sequence":](found)["label"] == "5", "the rest of the pipeline takes the hands found"


def test_a_landmark_file_goes_through_the_same_recognize_stage(recognizer, tmp_path):
    sequence = recognizer.pipeline[:"sequence"]({"path": str(FIVE)})["sequence"]
    path = save_landmarks(tmp_path / "five.npz", sequence)
    record = recognizer.recognize_landmark_file(path)
    assert (record["path"], record["frames"], record["label"]) == (str(path), 1, "5")
    assert record["score"] == recognizer.recognize(FIVE)["score"]
    assert recognizer.recognize_landmark_file(tmp_path / "gone.npz")["error"] == "no such file"


def test_a_speech_model_is_refused():
    with pytest.raises(BundleError, match="a model for speech, not for hands"):
        GestureRecognizer("digits-commands", "cpu")
