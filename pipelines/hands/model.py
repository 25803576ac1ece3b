"""A hands bundle loaded for inference: its heads, their labels, and the forward pass.

A hands bundle holds one encoder with one or more heads. A classifier head labels a whole
sequence (a photo is a sequence of one frame, a window of a video another); a CTC head reads a
whole sequence as a string of symbols, with their times. A sequence without a hand is the label
``NO_LABEL`` (or no symbols), never an error. ``GestureModel`` is what training, evaluation and
the stages share; ``GestureRecognizer`` (``recognizer``) is what an application holds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrec.features import LandmarkFeatures
from seqrec.models import BundleError, InferenceModel, greedy_decode, load_model
from seqrec.pipelines.core.device import check_device
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL, NO_LABEL
from seqrec.pipelines.hands.sequence import HandSequence
from seqrec.pipelines.hands.window import WindowConfig

DEFAULT_FPS = 30.0  # for sequences without timestamps


@dataclass(frozen=True)
class HeadSpec:
    name: str
    kind: str  # "classifier" or "ctc"
    labels: tuple[str, ...]  # a classifier's labels; a CTC head's symbols, blank first


class GestureModel:
    """A hands bundle loaded for inference: the network, its heads and labels, its window settings.

    It works on landmark sequences; finding the hands in pictures is the stages' part (see
    ``GestureRecognizer`` for photos and videos in, records out).

    Parameters
    ----------
    model : a bundled model name or a bundle folder
    device : "cpu", "cuda", or None: the CPU under ONNX, CUDA when available under torch
    bundle : a model already loaded (as training evaluates the model it trains), instead of ``model``
    runtime : "onnx", "torch", or None: ONNX where the bundle has a graph and onnxruntime is installed
    words : a CTC model's word list: it then reads only these words (``spelling``); a word it
        cannot spell is a ``ValueError`` naming it

    Raises
    ------
    BundleError
        ``model`` is missing or broken, not a hands model, or (with ``words``) has no CTC head.
    """

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_GESTURE_MODEL,
        device: str | None = None,
        bundle: InferenceModel | None = None,
        runtime: str | None = None,
        threads: int | None = None,
        words: Sequence[str] | None = None,
    ):
        self.bundle = bundle or load_model(model, runtime, check_device(device), threads)
        config = self.bundle.config
        if config.get("modality") != "hands":
            raise BundleError(
                f"{model if bundle is None else self.bundle.path}: "
                f"a model for {config.get('modality')}, not for hands"
            )
        self.features = LandmarkFeatures(**config["features"])
        self.window = WindowConfig(**config.get("window", {}))
        self.heads = [
            HeadSpec(
                name,
                spec["kind"],
                tuple(spec["labels"])
                if spec["kind"] == "classifier"
                else tuple(self.bundle.tokenizer.symbols),
            )
            for name, spec in config["heads"].items()
        ]
        self.speller = None
        if words is not None:
            if self.ctc_head is None:
                raise BundleError(
                    f"{self.bundle.path}: a word list needs a model with a CTC head (one that spells)"
                )
            from seqrec.pipelines.hands.spelling import WordSpeller

            self.speller = WordSpeller(self.ctc_head.labels, words)

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def classifier_heads(self) -> list[HeadSpec]:
        return [h for h in self.heads if h.kind == "classifier"]

    @property
    def ctc_head(self) -> HeadSpec | None:
        return next((h for h in self.heads if h.kind == "ctc"), None)

    def features_of(self, sequence: HandSequence) -> np.ndarray:
        return self.features(sequence.landmarks, sequence.present, sequence.aspect)

    def run(self, feature_arrays: Sequence[np.ndarray]) -> dict[str, list[np.ndarray]]:
        """Every head's output for a batch of feature arrays [T, D] (T >= 1).

        Returns {head name: per item, a classifier's probabilities [n_labels] or a CTC head's
        log-probabilities [T', n_symbols]}.
        """
        if not feature_arrays:
            return {h.name: [] for h in self.heads}
        outputs, out_lengths = self.bundle.network([np.asarray(a, np.float32) for a in feature_arrays])
        results = {}
        for head in self.heads:
            values = outputs[head.name]
            if head.kind == "classifier":
                results[head.name] = list(np.exp(values))
            else:
                results[head.name] = [v[:n] for v, n in zip(values, out_lengths.tolist(), strict=True)]
        return results

    def probabilities(
        self, sequences: Sequence[HandSequence], batch_size: int = 256
    ) -> list[dict[str, np.ndarray]]:
        """Each sequence's probabilities per classifier head, run through the model ``batch_size`` at
        a time."""
        results: list[dict[str, np.ndarray]] = []
        for start in range(0, len(sequences), batch_size):
            chunk = sequences[start : start + batch_size]
            outputs = self.run([self.features_of(s) for s in chunk])
            results += [
                {h.name: outputs[h.name][row] for h in self.classifier_heads} for row in range(len(chunk))
            ]
        return results

    def classify(
        self, sequences: Sequence[HandSequence], batch_size: int = 256
    ) -> list[dict[str, tuple[str, float]]]:
        """Each sequence's label and score per classifier head; a sequence with no hand is ``"none"``, 0."""
        results: list[dict[str, tuple[str, float]]] = [
            {h.name: (NO_LABEL, 0.0) for h in self.classifier_heads} for _ in sequences
        ]
        seen = [i for i, s in enumerate(sequences) if s.found]
        for i, probabilities in zip(
            seen, self.probabilities([sequences[i] for i in seen], batch_size), strict=True
        ):
            for head in self.classifier_heads:
                best = int(probabilities[head.name].argmax())
                results[i][head.name] = (head.labels[best], float(probabilities[head.name][best]))
        return results

    def read_symbols(self, sequence: HandSequence) -> dict:
        """A CTC model's reading of a whole sequence: ``text`` and ``symbols`` with times (s); with a
        word list, ``text`` and ``words`` with times."""
        head = self.ctc_head
        if head is None:
            raise BundleError(f"{self.bundle.path}: this model has no CTC head")
        times = frame_times(sequence)
        if not sequence.found:
            return {"text": "", "words" if self.speller else "symbols": []}
        log_probs = self.run([self.features_of(sequence)])[head.name][0]
        stack = self.bundle.stack
        if self.speller is not None:
            return self.speller.read(log_probs, times, stack)
        symbols = []
        for span in greedy_decode(log_probs):
            first, last = span.start * stack, min(span.end * stack, len(times)) - 1
            symbols.append(
                {
                    "symbol": head.labels[span.token],
                    "start": round(float(times[first]), 3),
                    "end": round(float(times[last]), 3),
                    "score": round(span.score, 4),
                }
            )
        return {"text": "".join(s["symbol"] for s in symbols), "symbols": symbols}


def frame_times(sequence: HandSequence) -> np.ndarray:
    if sequence.timestamps is not None:
        return np.asarray(sequence.timestamps, np.float64)
    return np.arange(len(sequence)) / DEFAULT_FPS
