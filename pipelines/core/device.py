"""Choosing the torch device once: ``None`` means CUDA when present, else the CPU."""

from __future__ import annotations

import torch

from seqrec.pipelines.core.errors import ConfigError


def resolve_device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device}: CUDA is not available on this machine (torch {torch.__version__})"
        )
    try:
        return torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device {device}: not a device torch knows (try cpu or cuda)") from None
