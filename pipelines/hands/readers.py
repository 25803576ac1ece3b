"""Hand-landmark formats people already have, read into ``HandSequence``s.

- kinivi/hand-gesture-recognition-mediapipe: ``keypoint.csv`` (one pose per row: label index,
  then 21 x,y made wrist-relative and divided by their largest magnitude) and
  ``point_history.csv`` (label index, then 16 index-fingertip positions x,y relative to the
  first, in picture widths and heights);
- Kaggle "Isolated Sign Language Recognition": one long parquet per sign, a row per landmark
  (``frame, row_id, type, landmark_index, x, y, z``; MediaPipe Holistic, so also face and pose);
- Kaggle "ASL Fingerspelling": wide parquet files, a row per frame with ``x_right_hand_0`` …
  ``z_left_hand_20`` columns and ``sequence_id``, plus a CSV naming each sequence's file and phrase.

Parquet needs pyarrow (``pip install 'seqrec[parquet]'``); it is imported when first used.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from seqrec.features import N_HAND_LANDMARKS, InputError
from seqrec.pipelines.hands.sequence import UNNAMED_HEAD, HandSequence, empty_hands

# kinivi recorded from a 960x540 webcam picture it mirrored for display (cv.flip(image, 1)).
KINIVI_ASPECT = 960 / 540
KINIVI_SLOT = 1  # a mirrored right hand has a left hand's geometry: the left slot, which features mirror back
INDEX_TIP = 8
# Holistic's hand types, in seqrec's slot order (the person's right hand first).
HOLISTIC_HANDS = ("right_hand", "left_hand")


def read_label_file(path: str | os.PathLike) -> list[str]:
    """kinivi's ``*_label.csv``: one label per line (a byte-order mark is dropped)."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def _read_numeric_csv(path: str | os.PathLike, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as file:
        for number, row in enumerate(csv.reader(file), 1):
            if not row:
                continue
            if len(row) != n_values + 1:
                raise InputError(path, f"line {number} has {len(row)} fields, expected {n_values + 1}")
            try:
                rows.append([float(value) for value in row])
            except ValueError:
                raise InputError(path, f"line {number} is not all numbers") from None
    table = np.array(rows, np.float64).reshape(-1, n_values + 1)
    return table[:, 0].astype(int), table[:, 1:].astype(np.float32)


def kinivi_poses(
    path: str | os.PathLike, labels: Sequence[str], palm_width: float = 0.12
) -> list[HandSequence]:
    """``keypoint.csv`` as one-frame sequences labelled by name, in file order.

    kinivi kept x,y only, scaled to a largest magnitude of 1. Each pose is placed in a picture of
    kinivi's aspect with its longest reach ``palm_width``×2.5 picture widths (about a hand at arm's
    length); ``LandmarkFeatures`` removes position and size again, so only the shape is carried.
    z is zero: train on these with ``use_z: false``.
    """
    indices, values = _read_numeric_csv(path, 2 * N_HAND_LANDMARKS)
    sequences = []
    for index, xy in zip(indices, values, strict=True):
        landmarks, present = empty_hands(1)
        landmarks[0, KINIVI_SLOT, :, :2] = _place(
            xy.reshape(N_HAND_LANDMARKS, 2), (0.5, 0.6), palm_width * 2.5
        )
        present[0, KINIVI_SLOT] = True
        sequences.append(
            HandSequence(
                landmarks,
                present,
                KINIVI_ASPECT,
                labels={UNNAMED_HEAD: labels[index]},
                path=f"{path}:{len(sequences) + 1}",
            )
        )
    return sequences


def _place(relative: np.ndarray, wrist: tuple[float, float], reach: float) -> np.ndarray:
    """Wrist-relative points in square units to normalised picture coordinates (y in heights)."""
    placed = relative * reach
    placed[:, 1] *= KINIVI_ASPECT
    return placed + np.array(wrist, np.float32)


def kinivi_motions(
    path: str | os.PathLike, labels: Sequence[str], poses: Sequence[HandSequence], rng: np.random.Generator
) -> list[HandSequence]:
    """``point_history.csv`` turned into whole-hand sequences of 16 frames.

    kinivi tracked only the index fingertip. Each track is given a real hand: a pose drawn from
    ``poses`` (kinivi rows of the same split), moved so that its index fingertip follows the
    track, at a hand size drawn per sequence. The result keeps the recorded motion exactly and
    the hand's shape fixed; ``labels["shape"]`` names the pose used, ``labels["motion"]`` the track's.
    """
    indices, values = _read_numeric_csv(path, 32)
    sequences = []
    for index, track in zip(indices, values, strict=True):
        pose = poses[rng.integers(len(poses))]
        hand = pose.landmarks[0, KINIVI_SLOT]
        scale = rng.uniform(0.7, 1.4)
        start = np.array([rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)], np.float32)
        offsets = (hand[:, :2] - hand[INDEX_TIP, :2]) * scale  # the hand about its fingertip
        frames = start + track.reshape(16, 2)  # the fingertip in normalised picture coordinates
        landmarks, present = empty_hands(16)
        landmarks[:, KINIVI_SLOT, :, :2] = frames[:, None, :] + offsets[None]
        present[:, KINIVI_SLOT] = True
        sequences.append(
            HandSequence(
                landmarks,
                present,
                KINIVI_ASPECT,
                labels={"shape": pose.label, "motion": labels[index]},
                path=f"{path}:{len(sequences) + 1}",
            )
        )
    return sequences


def _read_parquet(path: str | os.PathLike, what: str, read: Callable):
    """``read(pyarrow.parquet)``, with a missing or unreadable file as a one-line ``InputError``
    ("not ``what``")."""
    try:
        from pyarrow import parquet
    except ImportError:
        raise ImportError("reading parquet needs pyarrow: pip install 'seqrec[parquet]'") from None
    try:
        return read(parquet)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except Exception as error:  # noqa: BLE001 - pyarrow raises many kinds for a bad file
        raise InputError(path, f"not {what} ({' '.join(str(error).split())[:120]})") from None


def islr_sequence(path: str | os.PathLike, aspect: float = 1.0) -> HandSequence:
    """One Kaggle ISLR parquet (long: a row per frame and landmark) as a ``HandSequence``.

    Only the hands are kept; a hand whose coordinates are NaN in a frame is absent there.
    """
    columns = ["frame", "type", "landmark_index", "x", "y", "z"]
    table = _read_parquet(
        path,
        "an ISLR landmark parquet",
        lambda parquet: parquet.read_table(path, columns=columns).to_pydict(),
    )
    frames = sorted(set(table["frame"]))
    position = {frame: i for i, frame in enumerate(frames)}
    landmarks, present = empty_hands(len(frames))
    seen = np.zeros(landmarks.shape[:3], bool)
    for frame, kind, index, x, y, z in zip(
        *(table[c] for c in ("frame", "type", "landmark_index", "x", "y", "z")), strict=False
    ):
        if kind in HOLISTIC_HANDS and x is not None and not np.isnan(x):
            slot = HOLISTIC_HANDS.index(kind)
            landmarks[position[frame], slot, index] = (x, y, 0.0 if z is None or np.isnan(z) else z)
            seen[position[frame], slot, index] = True
    present[:] = seen.all(axis=2)
    return HandSequence(landmarks, present, aspect, path=str(path), timestamps=None)


def parquet_sequence(
    path: str | os.PathLike, sequence_id: str | None = None, aspect: float = 1.0
) -> HandSequence:
    """A Kaggle landmark parquet, whichever layout: ISLR's long one (one sequence per file) or
    ASL Fingerspelling's wide one (``sequence_id`` picks the sequence)."""
    columns = set(_read_parquet(path, "a parquet file", lambda parquet: parquet.read_schema(path).names))
    if {"type", "landmark_index"} <= columns:
        return islr_sequence(path, aspect)
    if sequence_id is None:
        raise InputError(
            path, "a wide (fingerspelling) parquet holds several sequences: name one with sequence_id"
        )
    return fingerspelling_sequence(path, sequence_id, aspect)


def kaggle_csv_rows(csv_path: str | os.PathLike) -> list[dict]:
    """A Kaggle CSV as hands-manifest rows: ISLR's ``train.csv`` (``path``, ``sign``) gives
    ``{"features_filepath", "label"}``; ASL Fingerspelling's (``path``, ``sequence_id``,
    ``phrase``) gives ``{"features_filepath", "features_key", "text"}``. Paths resolve against the
    CSV's folder."""
    csv_path = Path(csv_path)
    with csv_path.open(newline="", encoding="utf-8") as file:
        entries = list(csv.DictReader(file))
    columns = set(entries[0]) if entries else set()
    base = csv_path.resolve().parent
    if {"path", "sequence_id", "phrase"} <= columns:
        return [
            {
                "features_filepath": str(base / e["path"]),
                "features_key": e["sequence_id"],
                "text": e["phrase"],
            }
            for e in entries
        ]
    if {"path", "sign"} <= columns:
        return [{"features_filepath": str(base / e["path"]), "label": e["sign"]} for e in entries]
    raise InputError(
        csv_path, "not a Kaggle ISLR (path, sign) or ASL Fingerspelling (path, sequence_id, phrase) CSV"
    )


def fingerspelling_sequences(csv_path: str | os.PathLike, aspect: float = 1.0) -> Iterator[HandSequence]:
    """Kaggle ASL Fingerspelling: the CSV's sequences, each read from its wide parquet, with
    ``text`` = the phrase."""
    for row in kaggle_csv_rows(csv_path):
        if "features_key" not in row:
            raise InputError(csv_path, "not an ASL Fingerspelling CSV (path, sequence_id, phrase)")
        sequence = fingerspelling_sequence(row["features_filepath"], row["features_key"], aspect)
        sequence.text = row["text"]
        yield sequence


def fingerspelling_sequence(path: str | os.PathLike, sequence_id: str, aspect: float = 1.0) -> HandSequence:
    """One sequence of a wide ASL Fingerspelling parquet (a row per frame, ``x_right_hand_0`` …
    columns, ``sequence_id``); a hand with NaN coordinates in a frame is absent there."""
    path = Path(path).resolve()
    if not path.is_file():
        raise InputError(path, "no such file")
    table = _wide_table(str(path), path.stat().st_mtime_ns)
    rows = [i for i, sid in enumerate(table["sequence_id"]) if str(sid) == str(sequence_id)]
    if not rows:
        raise InputError(path, f"no sequence_id {sequence_id}")
    landmarks, present = empty_hands(len(rows))
    for slot, hand in enumerate(HOLISTIC_HANDS):
        coords = np.array(
            [
                [[table[f"{axis}_{hand}_{i}"][r] for axis in "xyz"] for i in range(N_HAND_LANDMARKS)]
                for r in rows
            ],
            np.float64,
        ).reshape(len(rows), N_HAND_LANDMARKS, 3)
        landmarks[:, slot] = np.nan_to_num(coords).astype(np.float32)
        present[:, slot] = ~np.isnan(coords[..., :2]).any(axis=(1, 2))
    return HandSequence(landmarks, present, aspect, path=f"{path}#{sequence_id}")


@functools.lru_cache(maxsize=2)
def _wide_table(path: str, modified_ns: int) -> dict:
    # A fingerspelling file holds many sequences: keeping the last files read reads each once
    # (the modification time in the key: a file written anew is read anew).
    columns = ["sequence_id"] + [
        f"{axis}_{hand}_{i}" for hand in HOLISTIC_HANDS for axis in "xyz" for i in range(N_HAND_LANDMARKS)
    ]
    return _read_parquet(
        path,
        "a fingerspelling parquet",
        lambda parquet: parquet.read_table(path, columns=columns).to_pydict(),
    )
