"""Keep native libraries' chatter off the user's terminal.

MediaPipe's C++ side (LiteRT, glog) and OpenCV's Qt windows write start-up notes and warnings
straight to file descriptor 2, a dozen lines per landmarker, with no switch to turn the LiteRT
ones off. A command promises one stderr line per problem, so while it runs, descriptor 2 goes to
the null device and Python's ``sys.stderr`` writes to a copy of the real one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

STDERR_FD = 2


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Inside: what native code writes to descriptor 2 is dropped; ``sys.stderr`` still reaches
    the terminal. Does nothing when ``sys.stderr`` is not descriptor 2 (a test capturing it)."""
    try:
        sys.stderr.flush()
        is_fd_2 = sys.stderr.fileno() == STDERR_FD
    except (AttributeError, OSError, ValueError):
        is_fd_2 = False
    if not is_fd_2:
        yield
        return
    python_stderr = sys.stderr
    real_stderr = os.dup(STDERR_FD)
    null = os.open(os.devnull, os.O_WRONLY)
    # Closed first in the finally below, before the descriptor under it is put back and closed.
    redirected = open(  # noqa: SIM115 - the ordered clean-up below closes it
        real_stderr,
        "w",
        buffering=1,
        encoding=python_stderr.encoding,
        errors="backslashreplace",
        closefd=False,
    )
    sys.stderr = redirected
    os.dup2(null, STDERR_FD)
    try:
        yield
    finally:
        redirected.close()
        os.dup2(real_stderr, STDERR_FD)
        sys.stderr = python_stderr
        os.close(null)
        os.close(real_stderr)
