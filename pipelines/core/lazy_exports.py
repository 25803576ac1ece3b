"""Names a package exports but imports only when first asked for (PEP 562), so that importing the
package costs nothing: ``seqrec --version`` must not load torch to print a version."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(package: dict, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` (its ``globals()``): each name in ``names`` is
    imported from its module on first use and kept, so the next use is a plain lookup."""

    def __getattr__(name: str) -> object:
        if name not in names:
            raise AttributeError(f"module {package['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name]), name)
        package[name] = value
        return value

    return __getattr__
