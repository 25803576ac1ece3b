"""JSON-Lines manifests with NeMo's field names; relative paths resolve against the manifest's folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.files import replaced_atomically

PATH_FIELDS = ("audio_filepath", "features_filepath", "video_filepath", "image_filepath")


def read_manifest(path: str | os.PathLike) -> Iterator[dict]:
    """Yield the rows of a JSON-Lines manifest, paths resolved; a malformed line names its number."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such manifest")
    base = path.resolve().parent
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{path}:{number}: not a JSON object ({error.msg})") from None
            if not isinstance(row, dict) or not any(field in row for field in PATH_FIELDS):
                raise ConfigError(f"{path}:{number}: a row needs one of {', '.join(PATH_FIELDS)}")
            for field in PATH_FIELDS:
                if field in row:
                    row[field] = str((base / row[field]).resolve())
            yield row


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
