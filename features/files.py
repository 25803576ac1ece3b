"""Finding media files in folders, by extension: what audio and pictures share."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path


def find_files(folder: str | os.PathLike, extensions: Collection[str]) -> list[Path]:
    """The files below ``folder`` (recursively) whose extension, in any case, is in ``extensions``
    (lower case, with the dot), in a stable (sorted) order."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in extensions and p.is_file())
