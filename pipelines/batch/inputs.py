"""What ``seqrec batch --input PATH`` reads: items, each with an ``id``, a ``path`` and maybe a reference.

PATH may be

- a JSON-Lines manifest: NeMo's ``audio_filepath`` (+ ``duration``, ``text``), or
  ``video_filepath`` / ``image_filepath`` (+ ``label``); relative paths resolve against its folder;
- a folder, searched recursively for the files of the media the task reads (FSDD's
  ``DIGIT_SPEAKER_TAKE.wav`` names give each file its reference, when every file is named so);
- a LibriSpeech-style tree: ``*.trans.txt`` files (``UTTERANCE-ID TEXT`` lines) beside the audio;
- a Kaggle ISLR or ASL-Fingerspelling CSV (``path``, ``sequence_id``, and ``sign`` or ``phrase``)
  listing parquet files of hand landmarks;
- one media file.

An item's id is the manifest's ``id`` (the utterance id of LibriSpeech, the ``sequence_id`` of the
Kaggle CSVs) where the input has one, else its path relative to the input's root. Resuming counts
on ids, so an id that appears twice is a usage error.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from seqrec.features.files import find_files
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.speech.corpora import DIGIT_WORDS

# Which media a manifest row holds, by the field that names its file.
MEDIA_FIELDS = {
    "audio_filepath": "audio",
    "video_filepath": "video",
    "image_filepath": "image",
    "features_filepath": "features",
}
MANIFEST_SUFFIXES = (".jsonl", ".json")
# Kaggle's parquet landmark sequences: ISLR (one sign per file) and ASL Fingerspelling (a phrase
# per sequence, many sequences per file). Their CSVs name the reference column differently.
KAGGLE_REFERENCE_COLUMNS = ("sign", "phrase")
LANDMARKS = "landmarks"
LIBRISPEECH_TRANSCRIPTS = "*.trans.txt"
FSDD_NAME = re.compile(r"^(\d)_[A-Za-z]+_\d+\.wav$")


@dataclass(frozen=True)
class BatchItem:
    """One input of a batch job.

    ``path`` is the file to read; ``media`` what it holds ("audio", "video", "image", "features"
    or "landmarks"); ``reference`` the expected text or label where the input gives one;
    ``sequence_id`` which sequence of a Kaggle parquet file (that holds several) is meant.
    """

    id: str
    path: str
    media: str
    reference: str | None = None
    sequence_id: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BatchItem:
        return cls(**json.loads(text))


def read_inputs(path: str | os.PathLike, reads: tuple[str, ...]) -> list[BatchItem]:
    """Every item of the input at ``path``, in the input's order.

    Parameters
    ----------
    path : a manifest, a folder, a LibriSpeech-style tree, a Kaggle CSV or a media file
    reads : the media the task reads, in order of preference: a folder is searched for their
        files, and a file both audio and video (``.mp4``) counts as the first of them

    Raises
    ------
    ConfigError
        for a missing input, a malformed manifest line or CSV (with its line number: a line that
        is not UTF-8 or not JSON, a row whose path is not a string or whose ``id``, ``text`` or
        ``label`` is of another type), an input with nothing in it, or an id that appears twice.
    """
    path = Path(path)
    if path.is_dir():
        items = (
            read_librispeech(path)
            if next(path.rglob(LIBRISPEECH_TRANSCRIPTS), None)
            else read_folder(path, reads)
        )
    elif not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    elif path.suffix.lower() in MANIFEST_SUFFIXES:
        items = read_manifest_items(path)
    elif path.suffix.lower() == ".csv":
        items = read_kaggle_csv(path)
    elif media_of(path, reads):
        items = [BatchItem(path.name, str(path), media_of(path, reads))]
    else:
        raise ConfigError(
            f"{path}: not a manifest (.jsonl), a Kaggle CSV, a folder, nor a file of {' or '.join(reads)}"
        )
    if not items:
        raise ConfigError(f"{path}: no inputs in it ({' or '.join(reads)} files)")
    _check_unique_ids(path, items)
    return items


def read_manifest_items(manifest: Path) -> list[BatchItem]:
    """A JSON-Lines manifest's rows; the file is the first of ``MEDIA_FIELDS`` a row has."""
    root = manifest.resolve().parent
    items = []
    for row in read_manifest(manifest):
        field = next(field for field in MEDIA_FIELDS if field in row)
        reference = row.get("text", row.get("label"))
        item_id = row["id"] if "id" in row else Path(os.path.relpath(row[field], root)).as_posix()
        items.append(
            BatchItem(
                str(item_id), row[field], MEDIA_FIELDS[field], None if reference is None else str(reference)
            )
        )
    return items


def read_folder(folder: Path, reads: tuple[str, ...]) -> list[BatchItem]:
    """The files of the media in ``reads`` below ``folder`` (sorted), ids relative to it."""
    extensions = frozenset().union(*(_extensions(media) for media in reads))
    found = [(p, media_of(p, reads)) for p in find_files(folder, extensions)]
    fsdd = bool(found) and all(FSDD_NAME.match(p.name) for p, _ in found)
    return [
        BatchItem(
            p.relative_to(folder).as_posix(), str(p), media, DIGIT_WORDS[int(p.name[0])] if fsdd else None
        )
        for p, media in found
    ]


def read_librispeech(root: Path) -> list[BatchItem]:
    """Utterances of every ``*.trans.txt`` below ``root``; each names ``ID.flac`` (or another audio
    file) beside it."""
    from seqrec.features import AUDIO_EXTENSIONS

    items = []
    for transcripts in sorted(root.rglob(LIBRISPEECH_TRANSCRIPTS)):
        audio_by_stem = {
            p.stem: p for p in sorted(transcripts.parent.iterdir()) if p.suffix.lower() in AUDIO_EXTENSIONS
        }
        try:
            lines = transcripts.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise ConfigError(f"{transcripts}: not UTF-8 text (byte {error.start + 1})") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            utterance, _, text = line.strip().partition(" ")
            if not text:
                raise ConfigError(f"{transcripts}:{number}: expected 'UTTERANCE-ID TEXT'")
            audio = audio_by_stem.get(
                utterance, transcripts.parent / f"{utterance}.flac"
            )  # a missing file: an error row
            items.append(BatchItem(utterance, str(audio), "audio", text))
    return items


def read_kaggle_csv(table: Path) -> list[BatchItem]:
    """A Kaggle ISLR or ASL-Fingerspelling CSV: one item per ``sequence_id``, its parquet resolved
    beside the CSV."""
    try:
        return _kaggle_items(table)
    except UnicodeDecodeError as error:
        raise ConfigError(f"{table}: not UTF-8 text (byte {error.start + 1})") from None
    except csv.Error as error:
        raise ConfigError(f"{table}: not a CSV file ({error})") from None


def _kaggle_items(table: Path) -> list[BatchItem]:
    root = table.resolve().parent
    with table.open(newline="", encoding="utf-8") as lines:
        reader = csv.DictReader(lines)
        columns = reader.fieldnames or []
        if "path" not in columns or "sequence_id" not in columns:
            raise ConfigError(
                f"{table}: a Kaggle ISLR or ASL-Fingerspelling CSV has columns path and sequence_id "
                f"(this one: {columns})"
            )
        reference = next((column for column in KAGGLE_REFERENCE_COLUMNS if column in columns), None)
        items = []
        for row in reader:
            if None in row or None in row.values():
                raise ConfigError(f"{table}:{reader.line_num}: not as many fields as the header has")
            if not row["path"] or not row["sequence_id"]:
                raise ConfigError(f"{table}:{reader.line_num}: path and sequence_id must not be empty")
            items.append(
                BatchItem(
                    row["sequence_id"],
                    str(root / row["path"]),
                    LANDMARKS,
                    row[reference] if reference else None,
                    row["sequence_id"],
                )
            )
    return items


def media_of(path: Path, reads: tuple[str, ...]) -> str | None:
    """The first media in ``reads`` that ``path``'s extension belongs to, or None."""
    suffix = path.suffix.lower()
    for media in reads:
        if suffix in _extensions(media):
            return media
    return None


def _extensions(media: str) -> frozenset[str]:
    # Imported on demand: the picture side loads OpenCV, which an audio job never needs.
    if media == "audio":
        from seqrec.features import AUDIO_EXTENSIONS

        return AUDIO_EXTENSIONS
    if media == "video":
        from seqrec.features import VIDEO_EXTENSIONS

        return VIDEO_EXTENSIONS
    if media == "image":
        from seqrec.features import IMAGE_EXTENSIONS

        return IMAGE_EXTENSIONS
    return frozenset({".parquet"}) if media == LANDMARKS else frozenset({".npy"})


def _check_unique_ids(source: Path, items: list[BatchItem]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ConfigError(
                f"{source}: id {item.id!r} appears more than once; "
                "results are resumed by id, so ids must be unique"
            )
        seen.add(item.id)
