"""Files on disk: written whole or not at all, and found from the paths a user names."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


@contextlib.contextmanager
def replaced_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; once the block ends, rename it over ``path``.

    The rename is atomic, so a reader (or a run killed mid-write) sees the old file or the new one,
    never half of one. If the block raises, the temporary file is removed and ``path`` is left as it
    was. The temporary name keeps the extension last (``x.npz`` -> ``x.tmp.npz``): ``np.savez``
    and ``cv2.imwrite`` choose the format by it.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def expand_inputs(
    paths: Iterable[str], find: Callable[[str], list[Path]], none_found: str
) -> list[tuple[str, str | None]]:
    """Files as given and folders expanded by ``find`` (the files in them, in its order).

    Returns (path, error) pairs in the order given: ``error`` is ``none_found`` for a folder where
    ``find`` finds nothing, and the folder is kept so the caller reports it like any other failed
    input.
    """
    expanded: list[tuple[str, str | None]] = []
    for path in paths:
        if Path(path).is_dir():
            found = find(path)
            if not found:
                expanded.append((path, none_found))
            expanded.extend((str(p), None) for p in found)
        else:
            expanded.append((path, None))
    return expanded
