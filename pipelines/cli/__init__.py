"""The ``seqrec`` command: parsing, messages and exit codes over the library.

Each command imports what it needs when it runs, so ``seqrec --version``, ``seqrec CMD --help``
and ``seqrec models`` start without torch. Nothing outside this package imports it.
"""

from seqrec.pipelines.cli.app import main

__all__ = ["main"]
