"""What the command tells the user: its exit codes and its one usage error.

Every command exits 0 when all inputs succeeded, 1 when some failed (the rest done and written),
2 for a usage error (nothing done). The library raises its own errors (``ConfigError``,
``BundleError``, ``InputError``); ``app.main`` turns them into one stderr line and a code.
"""

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


class UsageError(ValueError):
    """A mistake in how a command was called (a flag, a combination): nothing is done, exit 2."""
