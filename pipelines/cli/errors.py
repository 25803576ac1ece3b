"""What the command tells the user: its exit codes, its one usage error, and how it reports.

Every command exits 0 when all inputs succeeded, 1 when some failed (the rest done and written),
2 for a usage error (nothing done). The library raises its own errors (``ConfigError``,
``BundleError``, ``InputError``); ``app.main`` turns them into one stderr line and a code.
Every line for the user on stderr, an error or a note, is ``seqrec: what: why`` (``report``).
Anything else raised is a bug: one line saying so and how to report it (``internal_error_line``),
exit 1; the traceback only with ``--debug`` or ``SEQREC_DEBUG=1``.
"""

import os
import sys

from seqrec.pipelines.core.errors import report_line
from seqrec.pipelines.core.output_formats import escaped

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
# Set to 1 (or any value but 0 or empty), the same as --debug: full tracebacks for bugs.
DEBUG_VARIABLE = "SEQREC_DEBUG"
HOW_TO_REPORT = (
    f"please report it with the command and the output of {DEBUG_VARIABLE}=1 seqrec ... (or --debug)"
)
# An input's error that is a bug rather than the input's fault starts with this (see core.stage).
UNEXPECTED = "unexpected "


class UsageError(ValueError):
    """A mistake in how a command was called (a flag, a combination): nothing is done, exit 2."""


def report_text(*parts: object) -> str:
    """``report_line(*parts)`` kept to one line: characters such as a newline in a path escaped.
    An input's ``unexpected ...`` error (a bug) says how to report it."""
    line = report_line(*(escaped(str(part)) for part in parts))
    return f"{line}: {HOW_TO_REPORT}" if parts and str(parts[-1]).startswith(UNEXPECTED) else line


def report(*parts: object) -> None:
    """Write ``report_text(*parts)`` to stderr (e.g. ``report(path, reason)``)."""
    print(report_text(*parts), file=sys.stderr, flush=True)


def internal_error_line(error: BaseException) -> str:
    """The line for a bug: ``seqrec: internal error (TypeError: ...): please report it ...``."""
    detail = " ".join(str(error).split())
    what = type(error).__name__ + (f": {detail}" if detail else "")
    return report_text(f"internal error ({what})", HOW_TO_REPORT)


def debug_from_environment() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def require_torch(command: str) -> None:
    """A ``UsageError`` for a command that needs torch (train, export, explain) in an install without it."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise UsageError(
            f"{command} needs torch, which this install does not have: pip install 'seqrec[train]'"
        )
