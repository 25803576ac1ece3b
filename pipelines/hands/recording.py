"""Recording hand landmarks, not video, into a landmark dataset: one labelled sequence per take.

A take is the hands of ``seconds`` of a camera's frames (VIDEO mode), read through
``NewestFrame`` like the live recogniser, so what is recorded is what a live model will see.
Each take adds one ``.npz`` under the dataset's ``landmarks/`` and one row to its
``manifest.jsonl``, the layout ``write_landmark_dataset`` makes, so several takes with different
labels build one dataset that ``load_hand_sequences`` and a hands recipe read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from seqrec.features import HandLandmarker
from seqrec.features.vision.frame_readers import Frame, NewestFrame
from seqrec.pipelines.core.manifest import read_manifest, write_manifest
from seqrec.pipelines.hands.data import MANIFEST_FILE, HandSequence, save_landmarks, sequence_of_hands

LANDMARKS_FOLDER = "landmarks"


@dataclass
class Take:
    """One recording: the hands over time (timestamps from 0 at the first frame), and how many
    frames the source delivered and how many were dropped to keep up."""

    sequence: HandSequence
    read: int
    dropped: int

    @property
    def seconds(self) -> float:
        """From the first frame to the last."""
        times = self.sequence.timestamps
        return float(times[-1]) if times is not None and len(times) else 0.0


def record_take(
    frames: Iterable[Frame], seconds: float, landmarks: HandLandmarker | None = None, source: str = ""
) -> Take:
    """The hands in ``frames`` (a ``FrameSource``, or a paced video) from the first frame for ``seconds``.

    Raises
    ------
    InputError
        from the source: a camera missing or lost, a corrupt video.
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds}")
    landmarks = landmarks or HandLandmarker()
    hands = []
    reader = NewestFrame(frames)
    with landmarks.tracker() as tracker, reader:
        first: float | None = None
        for at, rgb in reader:
            first = at if first is None else first
            if at - first >= seconds:
                break
            hands.append(tracker.detect(rgb, at - first))
    return Take(sequence_of_hands(hands, path=source), reader.read, reader.dropped)


def skip_seconds(frames: Iterator[Frame], seconds: float) -> None:
    """Let ``seconds`` of ``frames`` go by unread (the pause before a take); a source that ends
    first ends it."""
    first: float | None = None
    for at, _ in frames:
        first = at if first is None else first
        if at - first >= seconds:
            return


def append_take(folder: str | os.PathLike, take: Take, label: str) -> Path:
    """Add a take to the dataset in ``folder`` (made if missing) with its ``label``.

    The landmark file is written first and the manifest replaced after (each atomically), so a
    run killed at any point leaves a dataset that reads; the manifest keeps its other rows.

    Returns the new landmark file.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST_FILE
    rows = list(read_manifest(manifest)) if manifest.is_file() else []
    landmark_file = save_landmarks(
        folder / LANDMARKS_FOLDER / f"{_next_index(folder / LANDMARKS_FOLDER):06d}.npz", take.sequence
    )
    row = {
        "features_filepath": str(landmark_file),
        "label": label,
        "duration": round(take.seconds, 3),
        "frames": len(take.sequence),
    }
    if take.sequence.path:
        row["source"] = take.sequence.path
    write_manifest(manifest, [*rows, row])
    return landmark_file


def _next_index(landmarks_folder: Path) -> int:
    """One past the highest numbered landmark file, so no take overwrites another."""
    numbers = [int(p.stem) for p in landmarks_folder.glob("*.npz") if p.stem.isdigit()]
    return max(numbers, default=-1) + 1
