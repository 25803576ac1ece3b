"""Resumable result files: JSON Lines appended and flushed row by row, read back by id when reopened."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.files import replaced_atomically

if TYPE_CHECKING:
    from typing_extensions import Self

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one job per output is then the user's to keep
    fcntl = None


class ResultLog:
    """A JSON-Lines file of result rows, each with an ``id``, open for appending.

    Opening it reads back the rows already there (``rows``: id -> row), so a rerun skips their ids.
    A torn last line (the job was killed while writing it) is cut off, and ``repaired`` says so.
    With ``retry_errors`` the error rows are dropped first, atomically, so those ids run again and
    still appear once. The file is locked while open: two jobs never append to one file.

    Raises
    ------
    ConfigError
        when the file cannot be created or written, another job holds it, or a line in it is not
        a result row (so a file that some other program wrote is never appended to).
    """

    def __init__(self, path: str | os.PathLike, retry_errors: bool = False):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab+")  # noqa: SIM115 - held for the job, closed by close()
        except OSError as error:
            raise ConfigError(f"{self.path}: cannot write results here ({error.strerror or error})") from None
        try:
            _lock(self._file, self.path)
            self._file.seek(0)
            data = self._file.read()
            self.repaired = bool(data) and not data.endswith(b"\n")
            if self.repaired:
                data = data[: data.rfind(b"\n") + 1]
                self._file.truncate(len(data))
            self.rows = _parse_rows(data, self.path)
            if retry_errors and any("error" in row for row in self.rows.values()):
                self._rewrite_without_errors()
        except BaseException:
            self._file.close()
            raise

    def write(self, row: dict) -> None:
        """Append one row and flush it: once this returns, a killed job keeps it."""
        self.write_many([row])

    def write_many(self, rows: list[dict]) -> None:
        """Append rows in one write, then flush."""
        self._file.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8"))
        self._file.flush()
        for row in rows:
            self.rows[row["id"]] = row

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rewrite_without_errors(self) -> None:
        # A new file takes the old one's place in one rename: a kill at any moment leaves one of
        # the two whole. It is locked before the rename, so the lock never lapses.
        self.rows = {key: row for key, row in self.rows.items() if "error" not in row}
        with replaced_atomically(self.path) as tmp:
            rewritten = open(tmp, "wb+")  # noqa: SIM115 - becomes self._file, held for the job
            try:
                _lock(rewritten, tmp)
                rewritten.write(
                    "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.rows.values()).encode(
                        "utf-8"
                    )
                )
                rewritten.flush()
                os.fsync(rewritten.fileno())
            except BaseException:
                rewritten.close()
                raise
        self._file.close()
        self._file = rewritten


def _lock(file, path: Path) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(f"{path}: another job is writing to it") from None


def _parse_rows(data: bytes, path: Path) -> dict[str, dict]:
    rows = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise ConfigError(f"{path}:{number}: not a result row of seqrec batch; write to another file")
        rows[row["id"]] = row
    return rows
