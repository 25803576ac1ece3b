"""The real hand data sets of ``shared/data/hands`` as manifests and landmark datasets, with splits
that mean something: the digit photos by student, kinivi's recordings by contiguous blocks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from seqrec.pipelines.hands.data import HandSequence
from seqrec.pipelines.hands.readers import kinivi_motions, kinivi_poses, read_label_file
from seqrec.pipelines.hands.sequence import UNNAMED_HEAD, empty_hands

SPLITS = ("train", "dev", "test")


def digit_photo_students(dataset: Path) -> list[list[tuple[str, str]]]:
    """The sign-language digit photos grouped by student: (relative path, digit) per photo.

    The photos were taken in runs, one student signing 0, 1, …, 9 on consecutive image numbers
    (IMG_1118 … IMG_1127 is one student). A run ends where the digit stops increasing or the
    numbering jumps by more than a few frames (a retake or a skipped digit leaves a small gap).
    """
    photos = []
    for folder in sorted(p for p in dataset.iterdir() if p.is_dir()):
        for file in folder.iterdir():
            match = re.fullmatch(r"IMG_(\d+)\.\w+", file.name, flags=re.IGNORECASE)
            if match:
                photos.append((int(match.group(1)), folder.name, f"{folder.name}/{file.name}"))
    photos.sort()
    students: list[list[tuple[str, str]]] = []
    previous_number, previous_digit = None, None
    for number, digit, path in photos:
        if previous_number is None or int(digit) <= int(previous_digit) or number - previous_number > 4:
            students.append([])
        students[-1].append((path, digit))
        previous_number, previous_digit = number, digit
    return students


def split_students(
    students: list[list[tuple[str, str]]], seed: int = 0, fractions=(0.7, 0.15, 0.15)
) -> dict[str, list[str]]:
    """Students shuffled with ``seed`` and dealt into train/dev/test; each split lists its photos."""
    order = np.random.default_rng(seed).permutation(len(students))
    n_train = round(fractions[0] * len(students))
    n_dev = round(fractions[1] * len(students))
    parts = {
        "train": order[:n_train],
        "dev": order[n_train : n_train + n_dev],
        "test": order[n_train + n_dev :],
    }
    return {
        split: sorted(path for i in indices for path, _ in students[i]) for split, indices in parts.items()
    }


def digit_photo_rows(dataset: Path, split_file: Path) -> dict[str, list[dict]]:
    """Manifest rows (``image_filepath``, ``label``) per split; the split is made once and kept."""
    students = digit_photo_students(dataset)
    if not split_file.is_file():
        split = split_students(students)
        split_file.parent.mkdir(parents=True, exist_ok=True)
        split_file.write_text(
            json.dumps(
                {
                    "rule": "students (runs of consecutive IMG numbers, digits 0-9 rising) "
                    "dealt 70/15/15 with seed 0",
                    "students": len(students),
                    **split,
                },
                indent=1,
            )
            + "\n"
        )
    split = json.loads(split_file.read_text())
    return {
        name: [
            {"image_filepath": str(dataset / path), "label": Path(path).parent.name} for path in split[name]
        ]
        for name in SPLITS
    }


# ASL letters made with an ASL digit's handshape: V is the digit 2 (index and middle up, apart), W is
# 6 (thumb on the little finger, three fingers up), F is 9 (thumb and index in a ring, three fingers
# up) and O is 0 (all fingertips on the thumb in a ring). The other digits have no letter twin: 1
# keeps the thumb over the bent fingers where D rings it with the middle finger, 4 spreads the
# fingers that B holds together, and 3, 5, 7 and 8 are not letters.
LETTER_DIGIT_SHAPES = {"V": "2", "W": "6", "F": "9", "O": "0"}


def digit_shape_letter_rows(digit_rows: list[dict]) -> list[dict]:
    """The digit photos whose handshape is a letter's (``LETTER_DIGIT_SHAPES``), labelled with the
    letter: hundreds of students' hands for four letters that one signer shows alone."""
    letter_of = {digit: letter for letter, digit in LETTER_DIGIT_SHAPES.items()}
    return [row | {"label": letter_of[row["label"]]} for row in digit_rows if row["label"] in letter_of]


def kinivi_blocks(
    n_rows: int, labels: np.ndarray, n_blocks: int = 10, dev_blocks=(4,), test_blocks=(2, 7)
) -> np.ndarray:
    """The split of each kinivi row: every label's rows (one person, consecutive frames) cut into
    ``n_blocks`` contiguous blocks, of which some are held out whole; neighbouring frames are
    near-copies, so random rows would put the same moment in training and test."""
    split = np.empty(n_rows, dtype=object)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        for block, chunk in enumerate(np.array_split(rows, n_blocks)):
            split[chunk] = "test" if block in test_blocks else "dev" if block in dev_blocks else "train"
    return split


def kinivi_sets(kinivi: Path, seed: int = 0) -> dict[str, list[HandSequence]]:
    """kinivi's poses (shape, held still: motion "Stop") and fingertip tracks turned into whole
    hands (motion, with a same-split pose: its shape), per split, each labelled for both heads."""
    shape_labels = read_label_file(kinivi / "keypoint_classifier_label.csv")
    motion_labels = read_label_file(kinivi / "point_history_classifier_label.csv")
    poses = kinivi_poses(kinivi / "keypoint.csv", shape_labels)
    pose_split = kinivi_blocks(len(poses), np.array([p.label for p in poses]))
    rng = np.random.default_rng(seed)
    all_tracks = kinivi_motions(kinivi / "point_history.csv", motion_labels, poses, rng)
    track_split = kinivi_blocks(len(all_tracks), np.array([t.labels["motion"] for t in all_tracks]))
    sets = {}
    for split in SPLITS:
        split_poses = [p for p, s in zip(poses, pose_split, strict=True) if s == split]
        # Re-dress each track with a pose from its own split, so no test pose is trained on.
        tracks = kinivi_motions(kinivi / "point_history.csv", motion_labels, split_poses, rng)
        tracks = [t for t, s in zip(tracks, track_split, strict=False) if s == split]
        held = [
            HandSequence(
                p.landmarks,
                p.present,
                p.aspect,
                labels={"shape": p.label, "motion": "Stop"},
                path=p.path,
            )
            for p in split_poses
        ]
        sets[split] = held + tracks
    return sets


# The ASL letters' webcam: MediaPipe's x and y are normalised by a picture of unstated size, and the
# features' palm measure depends on it. 16:9: the spread of a hand's bone-length ratios over all
# its frames (constant for a rigid hand in the right units) is lowest with y divided by 2.0-2.2
# here, as on SILFA's frames, whose 852x480 (1.78) is known and give the lowest at 2.0; 4:3 spreads
# them 20% more.
ASL_LETTERS_ASPECT = 16 / 9


def asl_letter_sets(letters_file: Path, aspect: float = ASL_LETTERS_ASPECT) -> dict[str, list[HandSequence]]:
    """One signer's A-Z (``letters.npz``: ``landmarks`` [N, 21, 3], ``label``, ``frame``) as one-frame
    sequences per split. Each letter is one continuous take, cut into contiguous blocks of time as
    kinivi's recordings are (``kinivi_blocks``): neighbouring frames are near-copies. The hand goes in
    the left hand's slot: with the palm to the camera its thumb is on the picture's left, as a left
    hand's is (or a right hand's in a mirrored selfie view), so the features, which mirror a left
    hand, read it as every right hand reads."""
    with np.load(letters_file, allow_pickle=False) as data:
        landmarks, labels, frames = data["landmarks"], data["label"], data["frame"]
    order = np.lexsort((frames, labels))  # each letter's take in time order
    landmarks, labels, frames = landmarks[order], labels[order], frames[order]
    split = kinivi_blocks(len(labels), labels)
    sets: dict[str, list[HandSequence]] = {name: [] for name in SPLITS}
    for points, label, frame, part in zip(landmarks, labels, frames, split, strict=True):
        hands, present = empty_hands(1)
        hands[0, 1], present[0, 1] = points, True  # slot 1: the left hand
        sets[part].append(
            HandSequence(
                hands,
                present,
                aspect,
                labels={UNNAMED_HEAD: str(label)},
                path=f"{letters_file}#{label}{frame}",
            )
        )
    return sets
