"""Windows and smoothing: how a classifier reads a video or a camera, frame by frame.

Every ``window.hop`` frames the last ``window.frames`` frames are classified; ``LabelSmoother``
turns the window scores into a label that does not flicker (hysteresis), and ``GestureStream``
gives the label changes as events. A video's frames go through the same stream, its windows
batched (``push_many``), and ``video_segments`` turns the events into segments.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from seqrec.pipelines.hands import NO_LABEL
from seqrec.pipelines.hands.data import sequence_of_hands
from seqrec.pipelines.hands.model import DEFAULT_FPS, GestureModel
from seqrec.pipelines.hands.sequence import HandSequence
from seqrec.pipelines.hands.window import WindowConfig

# Windows run through the model together when a video is at hand: one call per window costs
# about as much as a call for a hundred.
WINDOW_BATCH = 128


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


def windows_over_time(model: GestureModel, hands: Iterable) -> list[tuple[int, HandSequence]]:
    """The windows ``GestureStream`` classifies over a video's frames (``Hands``), each with the
    index of the frame that closes it: what the live loop and ``video_segments`` see."""
    stream = GestureStream(model)
    windows = []
    for index, frame in enumerate(hands):
        window = stream._next_window(frame)
        if window is not None:
            windows.append((index, window))
    return windows


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
