"""Hand-landmark datasets: sequences of hands with their labels, read from manifests and cached.

A row of a hands manifest names its input in one of three ways, and carries its targets:

- ``image_filepath``: a photo; its landmarks are found once (IMAGE mode) and cached;
- ``video_filepath``: a video; its landmarks are tracked once (VIDEO mode) and cached;
- ``features_filepath``: a landmark file (``.npz``: ``landmarks`` [T, 2, 21, 3], ``present``
  [T, 2], ``aspect``), as ``seqrec record`` and the format readers write;

and ``label`` (for a model with one classifier head), ``labels`` (``{head: label}``) or ``text``
(the symbols a CTC head should read). A landmark dataset is a folder holding ``manifest.jsonl``
and its landmark files; a recipe may name the folder or the manifest. A folder without a manifest
is read as an image folder: ``LABEL/*.jpg`` (and videos), the subfolder's name the label; a
Kaggle ISLR or ASL Fingerspelling CSV reads its parquet files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from seqrec.features import N_COORDS, N_HAND_LANDMARKS, N_HANDS, InputError
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.manifest import read_numbered_manifest, write_manifest
from seqrec.pipelines.hands.sequence import UNNAMED_HEAD, HandSequence, empty_hands

MANIFEST_FILE = "manifest.jsonl"
# The fields a hands row may name its input in (a row needs one).
HAND_MEDIA = ("features_filepath", "image_filepath", "video_filepath")


def save_landmarks(path: str | os.PathLike, sequence: HandSequence) -> Path:
    """Write one sequence's landmarks as ``.npz`` (atomic: a killed writer leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "landmarks": sequence.landmarks.astype(np.float32),
        "present": sequence.present.astype(bool),
        "aspect": np.float32(sequence.aspect),
    }
    if sequence.timestamps is not None:
        arrays["timestamps"] = np.asarray(sequence.timestamps, np.float64)
    with replaced_atomically(path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return path


def load_landmarks(path: str | os.PathLike, key: str | None = None) -> HandSequence:
    """Read a landmark file: ``.npz`` as ``save_landmarks`` writes it, a Kaggle ISLR ``.parquet``,
    or sequence ``key`` of an ASL Fingerspelling ``.parquet``; a wrong file is an ``InputError``
    (``key`` is ignored for a file that holds one sequence)."""
    if Path(path).suffix.lower() == ".parquet":
        from seqrec.pipelines.hands.readers import parquet_sequence

        return parquet_sequence(path, key)
    try:
        with np.load(path, allow_pickle=False) as data:
            landmarks, present = data["landmarks"].astype(np.float32), data["present"].astype(bool)
            aspect = float(data["aspect"]) if "aspect" in data else 1.0
            timestamps = data.get("timestamps")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (OSError, ValueError, KeyError) as error:
        raise InputError(path, f"not a landmark file ({' '.join(str(error).split())})") from None
    if (
        landmarks.ndim != 4
        or landmarks.shape[1:] != (N_HANDS, N_HAND_LANDMARKS, N_COORDS)
        or present.shape != landmarks.shape[:2]
    ):
        raise InputError(
            path,
            f"landmarks must be [T, {N_HANDS}, {N_HAND_LANDMARKS}, {N_COORDS}] with present [T, {N_HANDS}]",
        )
    return HandSequence(landmarks, present, aspect, path=str(path), timestamps=timestamps)


def write_landmark_dataset(
    folder: str | os.PathLike, sequences: Iterable[HandSequence], extra: Sequence[dict] | None = None
) -> Path:
    """A dataset folder: one ``.npz`` per sequence under ``landmarks/`` and ``manifest.jsonl``.

    ``extra`` adds fields to each row (e.g. ``group`` for splits), in the sequences' order.
    """
    folder = Path(folder)
    rows = []
    for index, sequence in enumerate(sequences):
        file = save_landmarks(folder / "landmarks" / f"{index:06d}.npz", sequence)
        row = {"features_filepath": str(file)}
        if sequence.labels:
            row |= (
                {"label": sequence.label}
                if list(sequence.labels) == [UNNAMED_HEAD]
                else {"labels": sequence.labels}
            )
        if sequence.text is not None:
            row["text"] = sequence.text
        if sequence.path:
            row["source"] = sequence.path
        rows.append(row | (extra[index] if extra else {}))
    write_manifest(folder / MANIFEST_FILE, rows)
    return folder / MANIFEST_FILE


def manifest_path(name: str | os.PathLike) -> Path:
    """A manifest as named, or the ``manifest.jsonl`` of a dataset folder."""
    path = Path(name)
    return path / MANIFEST_FILE if path.is_dir() else path


def dataset_rows(name: str | os.PathLike) -> tuple[Path, list[dict]]:
    """The rows of a manifest, of a dataset folder, or of an image folder (``LABEL/*.jpg``, videos too)."""
    path, located = located_dataset_rows(name)
    return path, [row for _, row in located]


def located_dataset_rows(name: str | os.PathLike) -> tuple[Path, list[tuple[str, dict]]]:
    """``dataset_rows`` with where each row is, for messages: ``manifest:line`` for a manifest's
    row, the CSV or folder it came from otherwise. A manifest row names a photo, a video or a
    landmark file (an audio row is a ``ConfigError`` naming its line)."""
    from seqrec.features import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
    from seqrec.features.files import find_files

    path = Path(name)
    if path.suffix.lower() == ".csv":
        from seqrec.pipelines.hands.readers import kaggle_csv_rows

        return path, [(str(path), row) for row in kaggle_csv_rows(path)]
    if not path.is_dir() or (path / MANIFEST_FILE).is_file():
        manifest = manifest_path(path)
        numbered = read_numbered_manifest(manifest, media=HAND_MEDIA)
        return manifest, [(f"{manifest}:{number}", row) for number, row in numbered]
    rows = []
    for file in find_files(path, IMAGE_EXTENSIONS | VIDEO_EXTENSIONS):
        if file.parent != path:
            kind = "image_filepath" if file.suffix.lower() in IMAGE_EXTENSIONS else "video_filepath"
            rows.append((str(path), {kind: str(file.resolve()), "label": file.relative_to(path).parts[0]}))
    if not rows:
        raise InputError(path, "no manifest.jsonl, and no LABEL/ subfolders with images or videos")
    return path, rows


def check_training_rows(manifests: Iterable[str | os.PathLike]) -> None:
    """What training needs of its data, checked before any work: every manifest, CSV or folder has
    rows, and every file they name is there; otherwise a ``ConfigError`` naming the manifest (and
    the line)."""
    for source in manifests:
        try:
            _, located = located_dataset_rows(source)
        except InputError as error:
            raise ConfigError(str(error)) from None
        if not located:
            raise ConfigError(f"{source}: no rows in it: nothing to train on")
        for where, row in located:
            file = _row_file(row)
            if not Path(file).is_file():
                raise ConfigError(f"{where}: {file}: no such file")


def _row_file(row: dict) -> str:
    return next(row[field] for field in HAND_MEDIA if field in row)


def row_targets(row: dict) -> tuple[dict[str, str], str | None]:
    labels = {str(k): str(v) for k, v in row["labels"].items()} if isinstance(row.get("labels"), dict) else {}
    if "label" in row:
        labels[UNNAMED_HEAD] = str(row["label"])
    return labels, (str(row["text"]) if "text" in row else None)


def load_hand_sequences(
    manifests: Iterable[str | os.PathLike], cache_dir: str | os.PathLike, log=print, strict: bool = False
) -> list[HandSequence]:
    """Every row of the manifests as a ``HandSequence``; photos and videos are run through MediaPipe
    once and cached by the rows' content, so a second run (or another recipe) reads the cache.

    A photo or video that cannot be read is logged and skipped; one with no hand in view is kept
    (its ``present`` is all false), so evaluation can count it as the miss it is. A landmark file
    that cannot be read is skipped too, or, when ``strict`` (training, which calls
    ``check_training_rows`` first), a ``ConfigError`` naming its manifest and line.
    """
    sequences: list[HandSequence] = []
    for source in manifests:
        manifest, located = located_dataset_rows(source)
        rows = [row for _, row in located]
        media = [row for row in rows if "features_filepath" not in row]
        extracted = _extract_cached(manifest, media, Path(cache_dir), log) if media else {}
        for where, row in located:
            labels, text = row_targets(row)
            if "features_filepath" in row:
                try:
                    sequence = load_landmarks(row["features_filepath"], row.get("features_key"))
                except InputError as error:
                    if strict:
                        raise ConfigError(f"{where}: {error}") from None
                    log(f"skipped: {error}")
                    continue
            else:
                file = row.get("image_filepath") or row["video_filepath"]
                if file not in extracted:
                    continue
                sequence = extracted[file]
            sequences.append(dataclasses.replace(sequence, labels=labels, text=text))
    return sequences


def _extract_cached(manifest: Path, rows: list[dict], cache_dir: Path, log) -> dict[str, HandSequence]:
    files = [row.get("image_filepath") or row["video_filepath"] for row in rows]
    stamps = [[f, *_stat(f)] for f in files]
    key = hashlib.sha256(json.dumps(stamps).encode()).hexdigest()[:16]
    cache = cache_dir / f"{manifest.stem}-landmarks-{key}.npz"
    if not cache.is_file():
        from seqrec.features import FrameSource, HandLandmarker

        log(f"finding hands in {len(files)} files of {manifest} (cached in {cache})")
        sequences: list[HandSequence] = []
        with HandLandmarker() as finder:
            for row, file in zip(rows, files, strict=True):
                try:
                    if "image_filepath" in row:
                        hands = [finder.detect(file)]
                    else:
                        with FrameSource(file) as frames:
                            hands = list(finder.track(frames))
                except InputError as error:
                    log(f"skipped: {error}")
                    sequences.append(HandSequence(*empty_hands(0), path=file))
                    continue
                sequences.append(sequence_of_hands(hands, path=file))
        _save_pack(cache, sequences)
    return {s.path: s for s in _load_pack(cache) if len(s)}


def sequence_of_hands(hands: Sequence, path: str = "") -> HandSequence:
    """The ``Hands`` of consecutive frames (or one photo) as one ``HandSequence``."""
    if not hands:
        return HandSequence(*empty_hands(0), path=path)
    timestamps = [h.timestamp for h in hands]
    return HandSequence(
        np.stack([h.landmarks for h in hands]),
        np.stack([h.present for h in hands]),
        hands[0].aspect,
        path=path,
        timestamps=None if None in timestamps else np.array(timestamps),
    )


def _stat(path: str) -> tuple[int, int]:
    try:
        status = os.stat(path)
        return status.st_size, status.st_mtime_ns
    except OSError:
        return -1, -1


def _save_pack(path: Path, sequences: list[HandSequence]) -> None:
    """Many sequences in one file: a photo folder's cache is one read, not two thousand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s) for s in sequences], np.int64)
    landmarks = np.concatenate([s.landmarks for s in sequences]) if sequences else empty_hands(0)[0]
    present = np.concatenate([s.present for s in sequences]) if sequences else empty_hands(0)[1]
    with replaced_atomically(path) as tmp:
        np.savez_compressed(
            tmp,
            landmarks=landmarks,
            present=present,
            lengths=lengths,
            aspects=np.array([s.aspect for s in sequences], np.float32),
            paths=np.array([s.path for s in sequences], dtype=str),
        )


def _load_pack(path: Path) -> list[HandSequence]:
    with np.load(path, allow_pickle=False) as data:
        bounds = np.concatenate([[0], np.cumsum(data["lengths"])])
        landmarks, present = data["landmarks"], data["present"]
        return [
            HandSequence(landmarks[a:b], present[a:b], float(aspect), path=str(p))
            for a, b, aspect, p in zip(bounds[:-1], bounds[1:], data["aspects"], data["paths"], strict=False)
        ]
