"""What can go wrong, in the library's terms; the CLI alone turns these into flags and exit codes.

- ``InputError`` (from ``seqrec.features``): one input (a file, an array) that cannot be used, and
  why; a batch records it as that input's row and goes on.
- ``BundleError`` (from ``seqrec.models``): a model name or folder that cannot be loaded.
- ``ConfigError``: a setting that cannot work (a recipe value, a job's parameters, a device, a
  manifest that cannot be read): raised before any work is done.
"""

from seqrec.features.errors import InputError
from seqrec.models.bundle_files import BundleError


class ConfigError(ValueError):
    """A setting or a set of inputs that cannot work; nothing was done. The message is one line."""


class MediaMismatchError(ConfigError):
    """A manifest whose rows name files of a kind this reader does not read (audio rows given to
    a hands model, say)."""


def report_line(*parts: object) -> str:
    """``seqrec: part: part...``: the one line the command line writes for an error or a note (a
    failed input is ``report_line(path, reason)``)."""
    return ": ".join(["seqrec", *map(str, parts)])


__all__ = ["BundleError", "ConfigError", "InputError", "MediaMismatchError", "report_line"]
