"""Features on disk for training: shards of float16 arrays and an index manifest that names them.

The folder ``seqrec batch features`` writes::

    index.jsonl      one row per utterance: id, path (the audio), features_filepath (its shard,
                     relative to the folder), features_key (the array's name in the shard),
                     frames, duration, text (where the input has a reference), seconds
    shards/NNNNNN.npz  up to ``ITEMS_PER_SHARD`` arrays [T, D] float16 each
    errors.jsonl     the inputs that failed: id, path, error
    features.json    the settings the arrays were computed with

A shard is written whole (a temporary file, then a rename) before its rows reach the index, so a
killed job leaves at most a shard that no row names; the next run deletes it and redoes its items.
``index.jsonl`` is a manifest: a recipe's ``data.train`` can name it, and :func:`load_features`
reads one of its rows.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.result_log import ResultLog

if TYPE_CHECKING:
    from typing_extensions import Self

INDEX_FILE = "index.jsonl"
ERRORS_FILE = "errors.jsonl"
SETTINGS_FILE = "features.json"
SHARDS_DIR = "shards"
# About 4 MB of one-second clips: a kill costs at most this many items redone.
ITEMS_PER_SHARD = 512
_SHARD_NAME = re.compile(r"^(\d{6})\.npz$")


class FeatureShards:
    """A features folder open for writing, resumable like :class:`ResultLog`.

    ``rows`` holds the ids already there (index and error rows); ``write`` takes a result row
    whose ``features`` is an array, or an error row. Arrays wait in memory until a shard is full
    (or ``close``), then the shard is written and its rows appended to the index in one write.

    Parameters
    ----------
    folder : the output folder (created)
    settings : how the features were computed (a SpectralConfig as a dict); a folder holding
        features made with other settings is refused, so one folder never mixes two kinds
    retry_errors : drop earlier error rows, so those inputs run again
    items_per_shard : arrays per shard
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        settings: dict,
        retry_errors: bool = False,
        items_per_shard: int = ITEMS_PER_SHARD,
    ):
        self.folder = Path(folder)
        self.items_per_shard = items_per_shard
        try:
            (self.folder / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"{self.folder}: cannot write features here ({error.strerror or error})"
            ) from None
        _check_settings(self.folder, {"features": settings, "dtype": "float16"})
        self.index = ResultLog(self.folder / INDEX_FILE)
        try:
            self.errors = ResultLog(self.folder / ERRORS_FILE, retry_errors)
        except BaseException:
            self.index.close()
            raise
        self.repaired = self.index.repaired or self.errors.repaired
        self._next_shard = self._remove_unindexed_shards()
        self._pending: list[dict] = []

    @property
    def rows(self) -> dict[str, dict]:
        return {**self.index.rows, **self.errors.rows}

    def write(self, row: dict) -> None:
        if "error" in row:
            self.errors.write(row)
            return
        self._pending.append(row)
        if len(self._pending) == self.items_per_shard:
            self._write_shard()

    def close(self) -> None:
        try:
            if self._pending:
                self._write_shard()
        finally:
            self.index.close()
            self.errors.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write_shard(self) -> None:
        name = f"{SHARDS_DIR}/{self._next_shard:06d}.npz"
        with replaced_atomically(self.folder / name) as tmp:  # NNNNNN.tmp.npz until it is whole
            np.savez(tmp, **{str(key): row["features"] for key, row in enumerate(self._pending)})
        self.index.write_many([_index_row(row, name, str(key)) for key, row in enumerate(self._pending)])
        self._pending, self._next_shard = [], self._next_shard + 1

    def _remove_unindexed_shards(self) -> int:
        """Delete shards no index row names (written by a job killed before its rows); the next
        shard's number."""
        named = {Path(row["features_filepath"]).name for row in self.index.rows.values()}
        numbers = [-1]
        for path in (self.folder / SHARDS_DIR).iterdir():
            match = _SHARD_NAME.match(path.name)
            if match and path.name in named:
                numbers.append(int(match.group(1)))
            elif match or path.name.endswith(".tmp.npz"):
                path.unlink()
        return max(numbers) + 1


def _index_row(row: dict, shard: str, key: str) -> dict:
    entry = {"id": row["id"], "path": row["path"], "features_filepath": shard, "features_key": key}
    entry.update({field: row[field] for field in ("frames", "duration") if field in row})
    if "reference" in row:
        entry["text"] = row["reference"]  # NeMo's name: the index is a training manifest
    entry["seconds"] = row["seconds"]
    return entry


def read_settings(folder: str | os.PathLike) -> dict | None:
    """The settings a features folder was written with; None where there is no ``features.json``,
    and ``{}`` for one that is not JSON (it matches no settings)."""
    path = Path(folder) / SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def _check_settings(folder: Path, settings: dict) -> None:
    """Write ``settings`` into a new features folder; refuse a folder holding other ones."""
    stored = read_settings(folder)
    if stored is not None:
        if stored != settings:
            raise ConfigError(
                f"{folder}: holds features computed with other settings ({SETTINGS_FILE}); "
                "write to another folder"
            )
        return
    with replaced_atomically(folder / SETTINGS_FILE) as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n")


def load_features(row: dict) -> np.ndarray:
    """A manifest row's features as float32 [T, D]: a ``.npy`` file, or the array ``features_key`` of a shard.

    ``features_filepath`` is as :func:`seqrec.pipelines.core.manifest.read_manifest` yields it (resolved).
    """
    if "features_key" in row:
        path = row["features_filepath"]
        return _open_shard(path, os.stat(path).st_mtime_ns)[row["features_key"]].astype(np.float32)
    return np.load(row["features_filepath"], allow_pickle=False).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _open_shard(path: str, modified_ns: int):
    # An index lists a shard's rows together: keeping the last shards open reads each once.
    # The modification time is part of the key, so a shard written anew is opened anew.
    return np.load(path, allow_pickle=False)
