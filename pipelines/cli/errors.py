"""What the command tells the user: its exit codes and its one usage error.

Every command exits 0 when all inputs succeeded, 1 when some failed (the rest done and written),
2 for a usage error (nothing done). The library raises its own errors (``ConfigError``,
``BundleError``, ``InputError``); ``app.main`` turns them into one stderr line and a code.
Every line for the user on stderr, an error or a note, is ``seqrec: what: why`` (``report``).
"""

import sys

from seqrec.pipelines.core.errors import report_line

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


class UsageError(ValueError):
    """A mistake in how a command was called (a flag, a combination): nothing is done, exit 2."""


def report(*parts: object) -> None:
    """Write ``report_line(*parts)`` to stderr (e.g. ``report(path, reason)``)."""
    print(report_line(*parts), file=sys.stderr, flush=True)
