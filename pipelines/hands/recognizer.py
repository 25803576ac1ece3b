"""Gesture and sign recognition from hand landmarks: photos, videos and live streams.

A hands bundle holds one encoder with one or more heads. A classifier head labels a whole
sequence: a photo (one frame), or a window of the last ``window.frames`` frames of a video or a
camera, every ``window.hop`` frames, smoothed with hysteresis into segments and live events. A
CTC head reads a whole video as a string of symbols, with their times. No hand in view is the
label ``"none"``, never an error.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from seqrec.features import LandmarkFeatures
from seqrec.models import BundleError, greedy_decode, load_bundle
from seqrec.pipelines.core.device import resolve_device
from seqrec.pipelines.hands.data import HandSequence, sequence_of_hands
from seqrec.pipelines.hands.window import WindowConfig

DEFAULT_GESTURE_MODEL = "hand-gestures"
NO_LABEL = "none"
DEFAULT_FPS = 30.0  # for sequences without timestamps
# Windows run through the model together when a video is at hand: one call per window costs
# about as much as a call for a hundred.
WINDOW_BATCH = 128


@dataclass(frozen=True)
class HeadSpec:
    name: str
    kind: str  # "classifier" or "ctc"
    labels: tuple[str, ...]  # a classifier's labels; a CTC head's symbols, blank first


class GestureModel:
    """A hands bundle loaded for inference.

    Parameters
    ----------
    model : a bundled model name or a bundle folder
    device : "cpu", "cuda", or None for CUDA when available
    """

    def __init__(
        self, model: str | os.PathLike = DEFAULT_GESTURE_MODEL, device: str | None = None, bundle=None
    ):
        self.bundle = bundle or load_bundle(model, resolve_device(device))
        config = self.bundle.config
        if config.get("modality") != "hands":
            raise BundleError(
                f"{model if bundle is None else self.bundle.path}: "
                f"a model for {config.get('modality', 'speech')}, not for hands"
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

    @torch.inference_mode()
    def run(self, feature_arrays: Sequence[np.ndarray]) -> dict[str, list[np.ndarray]]:
        """Every head's output for a batch of feature arrays [T, D] (T >= 1).

        Returns {head name: per item, a classifier's probabilities [n_labels] or a CTC head's
        log-probabilities [T', n_symbols]}.
        """
        if not feature_arrays:
            return {h.name: [] for h in self.heads}
        model = self.bundle.model
        lengths = torch.tensor([len(a) for a in feature_arrays])
        batch = pad_sequence(
            [torch.from_numpy(np.asarray(a, np.float32)) for a in feature_arrays], batch_first=True
        )
        outputs, out_lengths = model(batch.to(model.device), lengths)
        results = {}
        for head in self.heads:
            values = outputs[head.name].float().cpu().numpy()
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
        """A CTC model's reading of a whole sequence: ``text`` and ``symbols`` with times (s)."""
        head = self.ctc_head
        if head is None:
            raise BundleError(f"{self.bundle.path}: this model has no CTC head")
        times = frame_times(sequence)
        if not sequence.found:
            return {"text": "", "symbols": []}
        log_probs = self.run([self.features_of(sequence)])[head.name][0]
        stack = self.bundle.model.dims.encoder.stack
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


class LabelSmoother:
    """Hysteresis over one head's window scores, so a live label does not flicker.

    A new label takes over when it is the best with at least ``enter_score`` in ``min_windows``
    windows in a row; the current label holds while its own score stays at or above
    ``exit_score``; a window without a hand counts for ``"none"`` at once.
    """

    def __init__(self, window: WindowConfig):
        self.window = window
        self.label, self.score = NO_LABEL, 0.0
        self._candidate, self._streak = None, 0

    def update(self, label: str, score: float, current_score: float | None) -> bool:
        """Feed one window: its best ``label`` and ``score``, and the score it gives the current
        label (None without a hand). Returns whether the smoothed label changed."""
        if current_score is None:  # no hand in view
            changed = self.label != NO_LABEL
            self.label, self.score, self._candidate, self._streak = NO_LABEL, 0.0, None, 0
            return changed
        if label == self.label:
            self.score, self._candidate, self._streak = score, None, 0
            return False
        if self.label != NO_LABEL and current_score >= self.window.exit_score:
            self.score = current_score
            self._candidate, self._streak = None, 0
            return False
        if score >= self.window.enter_score:
            self._streak = self._streak + 1 if label == self._candidate else 1
            self._candidate = label
            if self._streak >= self.window.min_windows:
                self.label, self.score, self._candidate, self._streak = label, score, None, 0
                return True
            return False  # the current label stands until the newcomer has held long enough
        else:
            self._candidate, self._streak = None, 0
        if self.label != NO_LABEL:  # the current label lost its hold and nothing took over
            self.label, self.score = NO_LABEL, 0.0
            return True
        return False


class GestureStream:
    """Frames in, label changes out: the live loop's recogniser, also what videos go through.

    ``push(hands)`` takes the next frame's ``Hands`` and returns the events it caused, each
    ``{"time", "head", "label", "score"}``; ``labels`` is the current label and score per head.
    """

    def __init__(self, model: GestureModel):
        self.model = model
        self.frames: collections.deque = collections.deque(maxlen=model.window.frames)
        self.smoothers = {h.name: LabelSmoother(model.window) for h in model.classifier_heads}
        self.classified = False  # whether the last push closed a window
        self._since_window = 0

    @property
    def labels(self) -> dict[str, tuple[str, float]]:
        return {name: (s.label, s.score) for name, s in self.smoothers.items()}

    def push(self, hands) -> list[dict]:
        window = self._next_window(hands)
        if window is None:
            return []
        return self._update(window_probabilities(self.model, [window])[0], hands.timestamp)

    def push_many(self, frames: Iterable, batch_size: int = WINDOW_BATCH) -> Iterator[tuple]:
        """``push`` for frames already at hand (a video file): the same windows and smoothing,
        with the windows run through the model ``batch_size`` at a time instead of one by one.

        Yields ``(hands, events)`` per frame, in order; while a frame's pair is being consumed,
        ``labels`` and ``classified`` are as ``push`` would have left them after that frame.
        """
        pending: list[tuple] = []
        n_windows = 0
        for hands in frames:
            window = self._next_window(hands)
            pending.append((hands, window))
            n_windows += window is not None
            if n_windows == batch_size:
                yield from self._replay(pending)
                pending, n_windows = [], 0
        yield from self._replay(pending)

    def _replay(self, pending: list[tuple]) -> Iterator[tuple]:
        probabilities = iter(
            window_probabilities(self.model, [window for _, window in pending if window is not None])
        )
        for hands, window in pending:
            self.classified = window is not None
            yield hands, (self._update(next(probabilities), hands.timestamp) if window is not None else [])

    def _next_window(self, hands) -> HandSequence | None:
        """Take the next frame; the window it closes (every ``hop`` frames, and the first), else None."""
        self.frames.append(hands)
        self._since_window += 1
        self.classified = self._since_window >= self.model.window.hop or len(self.frames) == 1
        if not self.classified:
            return None
        self._since_window = 0
        return sequence_of_hands(list(self.frames))

    def _update(self, probabilities: dict[str, np.ndarray] | None, time: float | None) -> list[dict]:
        """One window's probabilities per head (None: no hand in view at its end) into the
        smoothers; returns the label changes."""
        events = []
        for head in self.model.classifier_heads:
            smoother = self.smoothers[head.name]
            if probabilities is None:
                changed = smoother.update(NO_LABEL, 0.0, None)
            else:
                probs = probabilities[head.name]
                best = int(probs.argmax())
                current = (
                    float(probs[head.labels.index(smoother.label)]) if smoother.label in head.labels else 0.0
                )
                changed = smoother.update(head.labels[best], float(probs[best]), current)
            if changed:
                events.append(
                    {
                        "time": None if time is None else round(time, 3),
                        "head": head.name,
                        "label": smoother.label,
                        "score": round(smoother.score, 4),
                    }
                )
        return events


def window_probabilities(
    model: GestureModel, windows: Sequence[HandSequence], batch_size: int = WINDOW_BATCH
) -> list[dict[str, np.ndarray] | None]:
    """Each window's classifier probabilities per head, run in batches; None for a window
    without a hand in its last frame (no hand in view now)."""
    results: list[dict[str, np.ndarray] | None] = [None] * len(windows)
    seen = [i for i, window in enumerate(windows) if window.present[-1].any()]
    for i, probabilities in zip(
        seen, model.probabilities([windows[i] for i in seen], batch_size), strict=True
    ):
        results[i] = probabilities
    return results


def video_segments(model: GestureModel, hands: Iterable) -> list[dict]:
    """A video's frames (``Hands``) through ``GestureStream``, as segments
    ``{"head", "label", "start", "end", "score"}`` (mean score over the segment's windows); the
    stretches labelled ``"none"`` are left out."""
    stream = GestureStream(model)
    open_segments: dict[str, dict] = {}
    segments: list[dict] = []
    last_time = 0.0
    for frame_index, (frame, events) in enumerate(stream.push_many(hands)):
        time = frame.timestamp if frame.timestamp is not None else frame_index / DEFAULT_FPS
        last_time = time
        for event in events:
            current = open_segments.pop(event["head"], None)
            if current is not None:
                segments.append(_close(current, time))
            if event["label"] != NO_LABEL:
                open_segments[event["head"]] = {
                    "head": event["head"],
                    "label": event["label"],
                    "start": time,
                    "scores": [event["score"]],
                }
        for name, segment in open_segments.items():
            label, score = stream.labels[name]
            if label == segment["label"] and stream.classified:
                segment["scores"].append(score)
    segments += [_close(s, last_time) for s in open_segments.values()]
    return sorted(segments, key=lambda s: (s["start"], s["head"]))


def _close(segment: dict, end: float) -> dict:
    return {
        "head": segment["head"],
        "label": segment["label"],
        "start": round(segment["start"], 3),
        "end": round(end, 3),
        "score": round(float(np.mean(segment["scores"])), 4),
    }


def recognize_image(model: GestureModel, hands) -> dict:
    """One photo's ``Hands``: ``{"label", "score", "hands"}`` from the first classifier head, and
    ``labels`` per head when the model has several."""
    sequence = sequence_of_hands([hands])
    result = model.classify([sequence])[0]
    first = model.classifier_heads[0].name if model.classifier_heads else None
    if first is None:
        reading = model.read_symbols(sequence)
        return {
            "label": reading["text"] or NO_LABEL,
            "score": reading["symbols"][0]["score"] if reading["symbols"] else 0.0,
            "hands": hands.count,
        }
    label, score = result[first]
    record = {"label": label, "score": round(score, 4), "hands": hands.count}
    if len(result) > 1:
        record["labels"] = {name: {"label": l, "score": round(s, 4)} for name, (l, s) in result.items()}
    return record


def recognize_video(model: GestureModel, hands: Sequence) -> dict:
    """One video's ``Hands`` per frame: ``{"segments", "frames"}``, and a CTC model's ``text`` and
    ``symbols``."""
    record: dict = {"frames": len(hands)}
    if model.classifier_heads:
        record["segments"] = video_segments(model, hands)
    if model.ctc_head is not None:
        record.update(model.read_symbols(sequence_of_hands(list(hands))))
        record.setdefault("segments", [])
    return record
