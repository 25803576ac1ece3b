"""Gesture recognition: photos, videos and landmark files in, result records out.

``GestureRecognizer`` stands beside speech's ``Transcriber``: it loads a hands model and
MediaPipe's hand landmarker once and runs every input through the stages of ``stages``. Records
are ``{"path", "label", "score", "hands"}`` for a photo (and ``labels`` per head when the model has
several), ``{"path", "frames", "duration", "segments"}`` for a video (and a CTC model's ``text``
and ``symbols``, or ``text`` and ``words`` with a word list), or ``{"path", "error"}`` for an
input that cannot be used. No hand in view is the label ``"none"``, never an error.

The network wrapper (``GestureModel``) and the windows and smoothing (``GestureStream``,
``LabelSmoother``) live in ``model`` and ``stream``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from seqrec.features import HandLandmarker, InputError, as_rgb8
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.stages import gesture_pipeline, landmark_file_pipeline

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["GestureRecognizer", "result_record"]

# What a record carries besides ``path``, in the order the stages added them (see ``stages``).
RESULT_FIELDS = frozenset(
    {"frames", "duration", "label", "score", "hands", "labels", "segments", "text", "symbols", "words"}
)


class GestureRecognizer:
    """A loaded hands model, its hand landmarker and their pipelines; load once, recognise many.

    Parameters
    ----------
    model : a bundled model name or a bundle folder
    device : "cpu", "cuda", or None: the CPU under ONNX, CUDA when available under torch
    flip : mirror every picture first (a selfie camera's recording)
    runtime : "onnx", "torch", or None: ONNX where the bundle has a graph and onnxruntime is installed
    threads : onnxruntime's threads (None: one per core)
    words : for a model that spells (a CTC head): read only these words (``--words``)

    Raises
    ------
    BundleError
        ``model`` is missing, broken, or not a hands model.
    ModelFileError
        MediaPipe's hand model, shipped with the package, is missing or altered.

    Close it (or use ``with``) to release MediaPipe's landmarker.
    """

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_GESTURE_MODEL,
        device: str | None = None,
        flip: bool = False,
        runtime: str | None = None,
        threads: int | None = None,
        words: list[str] | None = None,
    ):
        self.model = GestureModel(model, device, runtime=runtime, threads=threads, words=words)
        self.landmarks = HandLandmarker()
        self.pipeline = gesture_pipeline(self.model, self.landmarks, flip)
        self.landmark_pipeline = landmark_file_pipeline(self.model)

    def recognize(self, path_or_image: str | os.PathLike | np.ndarray, color_order: str = "rgb") -> dict:
        """One photo or video (a path), or one photo as an array.

        Parameters
        ----------
        path_or_image : a file (by its extension a photo or a video; another extension is tried
            as both), or a picture [H, W, 3] (or grayscale, RGBA, 16-bit, float: see ``as_rgb8``)
        color_order : "rgb", or "bgr" for an array straight from OpenCV

        Returns
        -------
        dict: the record (see the module's docstring); ``path`` is None for an array.
        """
        if isinstance(path_or_image, (str, os.PathLike)):
            return result_record(self.pipeline({"path": os.fspath(path_or_image)}))
        try:
            image = as_rgb8(path_or_image, color_order)
        except InputError as error:
            return {"path": None, "error": error.reason}
        return result_record(self.pipeline({"path": None, "image": image}))

    def recognize_paths(self, paths: Iterable[str | os.PathLike]) -> Iterator[dict]:
        """One record per path, in order, each as soon as it is done; a failed input gives
        ``{"path", "error"}`` and the rest go on."""
        for path in paths:
            yield self.recognize(path)

    def recognize_landmark_file(self, path: str | os.PathLike, sequence_id: str | None = None) -> dict:
        """A landmark file (``.npz`` as ``seqrec record`` writes, a Kaggle parquet; ``sequence_id``
        picks one sequence of a file of several): ``{"path", "frames", "label", "score"}`` (and
        ``labels`` per head) from a classifier, ``text`` and ``symbols`` from a CTC head."""
        return result_record(self.landmark_pipeline({"path": os.fspath(path), "sequence_id": sequence_id}))

    def close(self) -> None:
        self.landmarks.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def result_record(sample: dict) -> dict:
    """The public shape of a result: the input as given, then the outputs, or ``error``."""
    if "error" in sample:
        return {"path": sample.get("path"), "error": sample["error"]}
    return {
        "path": sample.get("path"),
        **{key: value for key, value in sample.items() if key in RESULT_FIELDS},
    }
