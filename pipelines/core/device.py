"""Checking a device named by the user once, before a model loads; torch only where one is named."""

from __future__ import annotations

from seqrec.pipelines.core.errors import ConfigError


def check_device(device: str | None) -> str | None:
    """``device`` as given when torch can use it (None and "cpu" need no torch); else a ``ConfigError``."""
    if device in (None, "cpu"):
        return device
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device}: CUDA is not available on this machine (torch {torch.__version__})"
        )
    try:
        torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device {device}: not a device torch knows (try cpu or cuda)") from None
    return device


def resolve_device(device: str | None):
    """The ``torch.device`` for ``device``: None means CUDA when present, else the CPU."""
    import torch

    check_device(device)
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
