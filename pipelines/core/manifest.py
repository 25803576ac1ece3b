"""JSON-Lines manifests with NeMo's field names; relative paths resolve against the manifest's folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from seqrec.pipelines.core.errors import ConfigError, MediaMismatchError
from seqrec.pipelines.core.files import replaced_atomically

PATH_FIELDS = ("audio_filepath", "features_filepath", "video_filepath", "image_filepath")
# What the other fields a reader looks at must hold: a transcript is text; an id or a label may be
# written as a number (``"label": 3``) and is read as its string; ``labels`` names each head's label.
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "id": ((str, int), "a string"),
    "text": ((str,), "a string"),
    "label": ((str, int), "a string"),
    "labels": ((dict,), "a mapping of head names to labels"),
    "duration": ((int, float), "a number of seconds"),
}


def read_manifest(
    path: str | os.PathLike, media: tuple[str, ...] = PATH_FIELDS, required: tuple[str, ...] = ()
) -> Iterator[dict]:
    """Yield the rows of a JSON-Lines manifest, paths resolved; a malformed line names its number.

    ``media``: the fields a row may name its file in (it needs one of them); ``required``: fields
    every row must have (``text`` for training a recogniser).
    """
    return (row for _, row in read_numbered_manifest(path, media, required))


def read_numbered_manifest(
    path: str | os.PathLike, media: tuple[str, ...] = PATH_FIELDS, required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict]]:
    """``read_manifest``'s rows with their line numbers, for messages that name ``manifest:line``.

    Raises ``ConfigError`` for a missing manifest, a line that is not UTF-8 or not a JSON object, a
    row without a file in ``media``, a path that is not a non-empty string, a field of
    ``FIELD_TYPES`` of another type, or a ``required`` field missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such manifest")
    resolve = _FolderCachedResolver(path.resolve().parent)
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise ConfigError(f"{where}: not UTF-8 text (byte {error.start + 1} of the line)") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{where}: not a JSON object ({error.msg})") from None
            yield number, _checked_row(row, where, resolve, media, required)


class _FolderCachedResolver:
    """``(base / value).resolve()`` as a string, each folder resolved once: a manifest of thousands
    of files in a few folders would otherwise check every folder of every path for links again.

    The same answer, because resolving is done a component at a time: the real path of
    ``folder/name`` is the real path of ``folder`` joined with ``name``, itself resolved when a link.
    """

    def __init__(self, base: Path):
        self.base = str(base)
        self.folders: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        joined = os.path.join(self.base, value)
        folder, name = os.path.split(joined)
        if name in ("", ".", ".."):
            return os.path.realpath(joined)
        real_folder = self.folders.get(folder)
        if real_folder is None:
            real_folder = self.folders[folder] = os.path.realpath(folder)
        candidate = os.path.join(real_folder, name)
        return os.path.realpath(candidate) if os.path.islink(candidate) else candidate


def _checked_row(
    row, where: str, resolve: _FolderCachedResolver, media: tuple[str, ...], required: tuple[str, ...]
) -> dict:
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: not a JSON object (a {type(row).__name__})")
    if not any(field in row for field in media):
        others = [field for field in PATH_FIELDS if field in row and field not in media]
        raise (MediaMismatchError if others else ConfigError)(
            f"{where}: a row needs one of {', '.join(media)}"
            + (f" (this one has {', '.join(others)}, which is not read here)" if others else "")
        )
    for field in PATH_FIELDS:
        if field in row:
            value = row[field]
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: {field} must be a file path, not {json.dumps(value)}")
            row[field] = resolve(value)
    for field, (types, kind) in FIELD_TYPES.items():
        value = row.get(field)
        if field in row and (isinstance(value, bool) or not isinstance(value, types)):
            raise ConfigError(f"{where}: {field} must be {kind}, not {json.dumps(value)}")
    labels = row.get("labels", {})
    bad = next((k for k, v in labels.items() if isinstance(v, bool) or not isinstance(v, (str, int))), None)
    if bad is not None:
        raise ConfigError(f"{where}: labels.{bad} must be a string, not {json.dumps(labels[bad])}")
    missing = [field for field in required if field not in row]
    if missing:
        raise ConfigError(f"{where}: a row needs {' and '.join(missing)}")
    return row


def write_manifest(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Write rows atomically, making file paths relative to the manifest's folder when they can be."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.resolve().parent
    count = 0
    with replaced_atomically(path) as tmp, tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            row = dict(row)
            for field in PATH_FIELDS:
                if field in row:
                    row[field] = os.path.relpath(Path(row[field]).resolve(), base)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_manifests(sets: dict[str, Iterable[dict]], folder: str | os.PathLike) -> dict[str, Path]:
    """``folder/NAME.jsonl`` for each named set of rows; prints each file's row count."""
    paths = {}
    for name, rows in sets.items():
        paths[name] = Path(folder) / f"{name}.jsonl"
        print(f"{paths[name]}: {write_manifest(paths[name], rows)} rows")
    return paths
