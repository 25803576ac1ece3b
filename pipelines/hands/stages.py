"""Hand stages: read a photo or a video, find its hands, make a landmark sequence, recognise.

``gesture_pipeline`` is the one path photos and videos take, and ``landmark_file_pipeline`` the one
landmark files take; both end in the same ``RecognizeGestures``. A sample's fields, stage by stage:

- ``ReadMedia``: ``path`` (or an RGB ``image`` array) -> ``media`` ("image" or "video") and the
  ``image`` [H, W, 3] uint8 RGB, or the ``video`` (an open ``FrameSource``, read by the next stage);
- ``DetectHands``: -> ``frame_hands`` (one ``Hands`` per frame); for a video also ``frames`` and
  ``duration``;
- ``HandsToSequence``: -> ``sequence`` (a ``HandSequence``);
- ``ReadLandmarkFile``: ``path`` (+ ``sequence_id``) -> ``media`` "landmarks", ``sequence``, ``frames``;
- ``RecognizeGestures``: -> a photo's ``label``, ``score``, ``hands`` (and ``labels`` per head when
  the model has several); a video's ``segments`` (and a CTC model's ``text``, ``symbols``); a
  landmark file's ``label``, ``score`` (``labels``) for the whole sequence, or ``text``, ``symbols``.
"""

from __future__ import annotations

from pathlib import Path

from seqrec.features import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    FrameSource,
    HandLandmarker,
    InputError,
    read_image,
)
from seqrec.features.vision.frame_readers import read_ahead
from seqrec.features.vision.frames import FALLBACK_FPS
from seqrec.models import InferenceModel
from seqrec.pipelines.core.stage import MissingFieldError, Pipeline, Stage
from seqrec.pipelines.hands import NO_LABEL
from seqrec.pipelines.hands.data import load_landmarks, sequence_of_hands
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.sequence import HandSequence
from seqrec.pipelines.hands.stream import video_segments

NOT_MEDIA = "not an image or a video OpenCV can read"


class ReadMedia(Stage):
    """``path`` -> ``media`` and the picture: ``image`` for a photo, ``video`` for a video.

    The extension decides; a file with another extension is read as a photo if it is one, else
    as a video if OpenCV opens it as one. A sample that brings an ``image`` array (RGB, or any
    layout ``as_rgb8`` takes) is a photo. ``flip`` mirrors the pictures (a selfie camera's).
    """

    provides = ("media", "image", "video")

    def __init__(self, flip: bool = False):
        self.flip = flip

    def process(self, sample: dict) -> dict:
        if sample.get("image") is not None:
            return self._photo(sample, sample["image"])
        path = sample.get("path")
        if path is None:
            raise MissingFieldError("ReadMedia", "path")
        suffix = Path(path).suffix.lower()
        if suffix in VIDEO_EXTENSIONS:
            return self._video(sample, path)
        if suffix in IMAGE_EXTENSIONS:
            return self._photo(sample, read_image(path))
        try:
            return self._photo(sample, read_image(path))
        except InputError as error:
            if not error.reason.startswith("not an image"):
                raise
        try:
            return self._video(sample, path)
        except InputError as error:
            if error.reason.startswith("not a video"):
                raise InputError(path, NOT_MEDIA) from None
            raise

    def _photo(self, sample: dict, image) -> dict:
        return {**sample, "media": "image", "image": image[:, ::-1] if self.flip else image}

    def _video(self, sample: dict, path: str) -> dict:
        return {**sample, "media": "video", "video": FrameSource(path, flip=self.flip)}


class DetectHands(Stage):
    """``image`` or ``video`` -> ``frame_hands``: MediaPipe's hands, one ``Hands`` per frame.

    A photo goes through IMAGE mode on its own; a video through VIDEO mode, every frame (decoded
    a few frames ahead on a thread of its own), then gets ``frames`` and ``duration`` (s). The
    video's source is closed once read.
    """

    requires = ("media",)
    provides = ("frame_hands", "frames", "duration")

    def __init__(self, landmarks: HandLandmarker):
        self.landmarks = landmarks

    def process(self, sample: dict) -> dict:
        if sample["media"] == "image":
            return {**sample, "frame_hands": [self.landmarks.detect(_field(self, sample, "image"))]}
        with _field(self, sample, "video") as video:
            hands = list(self.landmarks.track(read_ahead(video)))  # decoding overlaps the landmarks
            frame_seconds = 1 / (video.fps or FALLBACK_FPS)
        return {
            **{key: value for key, value in sample.items() if key != "video"},
            "frame_hands": hands,
            "frames": len(hands),
            "duration": round(hands[-1].timestamp + frame_seconds, 3),
        }


class HandsToSequence(Stage):
    """``frame_hands`` -> ``sequence``: the frames' landmarks and presence as one ``HandSequence``."""

    requires = ("frame_hands",)
    provides = ("sequence",)

    def process(self, sample: dict) -> dict:
        return {**sample, "sequence": sequence_of_hands(sample["frame_hands"], path=sample.get("path") or "")}


class ReadLandmarkFile(Stage):
    """``path`` (+ ``sequence_id`` for a file of several) -> ``sequence`` and ``frames``: a landmark
    file as ``load_landmarks`` reads it (``.npz``, Kaggle parquet)."""

    requires = ("path",)
    provides = ("media", "sequence", "frames")

    def process(self, sample: dict) -> dict:
        sequence = load_landmarks(sample["path"], sample.get("sequence_id"))
        return {**sample, "media": "landmarks", "sequence": sequence, "frames": len(sequence)}


class RecognizeGestures(Stage):
    """``sequence`` -> labels or symbols, as the model's heads give them and the ``media`` asks.

    A photo: ``label``, ``score`` and ``hands`` (how many) from the first classifier head (a CTC
    model's reading when it has none), ``labels`` per head when there are several. A video:
    ``segments`` ``{"head", "label", "start", "end", "score"}`` from windows of ``frame_hands``,
    smoothed (see ``stream``), and a CTC model's ``text`` and ``symbols`` for the whole video. A
    landmark file: ``label``, ``score`` (``labels``) for the whole sequence, and ``text``,
    ``symbols``. No hand in view is the label ``NO_LABEL``, never an error.
    """

    requires = ("media", "sequence")
    provides = ("label", "score", "hands", "labels", "segments", "text", "symbols", "words")

    def __init__(self, model: GestureModel):
        self.model = model

    def process(self, sample: dict) -> dict:
        sequence = sample["sequence"]
        if sample["media"] == "image":
            return {**sample, **self._photo(sequence)}
        fields: dict = {}
        if sample["media"] == "video":
            if self.model.classifier_heads:
                fields["segments"] = video_segments(self.model, _field(self, sample, "frame_hands"))
        elif self.model.classifier_heads:
            fields |= self._labels(sequence)
        if self.model.ctc_head is not None:
            fields |= self.model.read_symbols(sequence)
            if sample["media"] == "video":
                fields.setdefault("segments", [])
        return {**sample, **fields}

    def _photo(self, sequence: HandSequence) -> dict:
        hands = int(sequence.present[0].sum())
        if not self.model.classifier_heads:
            reading = self.model.read_symbols(sequence)
            parts = reading.get("words", reading.get("symbols"))  # with a word list: words
            return {
                "label": reading["text"] or NO_LABEL,
                "score": parts[0]["score"] if parts else 0.0,
                "hands": hands,
            }
        labels = self._labels(sequence)
        return {"label": labels["label"], "score": labels["score"], "hands": hands} | (
            {"labels": labels["labels"]} if "labels" in labels else {}
        )

    def _labels(self, sequence: HandSequence) -> dict:
        """The first classifier head's ``label`` and ``score``, and ``labels`` per head when there
        are several."""
        result = self.model.classify([sequence])[0]
        label, score = result[self.model.classifier_heads[0].name]
        fields: dict = {"label": label, "score": round(score, 4)}
        if len(result) > 1:
            fields["labels"] = {name: {"label": l, "score": round(s, 4)} for name, (l, s) in result.items()}
        return fields


def _field(stage: Stage, sample: dict, field: str):
    """A field only some media bring: the stage that needs it names it when it is missing."""
    if field not in sample:
        raise MissingFieldError(type(stage).__name__, field)
    return sample[field]


def _as_model(model_or_bundle: GestureModel | InferenceModel) -> GestureModel:
    return (
        model_or_bundle if isinstance(model_or_bundle, GestureModel) else GestureModel(bundle=model_or_bundle)
    )


def gesture_pipeline(
    model_or_bundle: GestureModel | InferenceModel, landmarks: HandLandmarker, flip: bool = False
) -> Pipeline:
    """The full path for photos and videos: read -> landmarks -> sequence -> recognize.

    ``pipeline[:"landmarks"]`` gives the hands alone, ``pipeline[:"sequence"]`` the landmark sequence.
    """
    return Pipeline(
        [
            ("read", ReadMedia(flip)),
            ("landmarks", DetectHands(landmarks)),
            ("sequence", HandsToSequence()),
            ("recognize", RecognizeGestures(_as_model(model_or_bundle))),
        ]
    )


def landmark_file_pipeline(model_or_bundle: GestureModel | InferenceModel) -> Pipeline:
    """The path for landmark files (hands already found): read -> recognize."""
    return Pipeline(
        [("read", ReadLandmarkFile()), ("recognize", RecognizeGestures(_as_model(model_or_bundle)))]
    )
