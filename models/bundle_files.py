"""Where bundles are and what their ``config.json`` says, without loading a model (no torch):
what ``seqrec models`` and option checks need before anything heavy is imported."""

from __future__ import annotations

import json
import os
from pathlib import Path

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
DEFAULT_SPEECH_MODEL = "digits-commands"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class BundleError(ValueError):
    """A model name or folder that cannot be loaded; the message is one line for the user."""


def bundled_model_names() -> list[str]:
    return (
        sorted(p.name for p in PRETRAINED_DIR.iterdir() if (p / CONFIG_FILE).is_file())
        if PRETRAINED_DIR.is_dir()
        else []
    )


def resolve_bundle(name_or_path: str | os.PathLike) -> Path:
    """A folder path as given, else the bundled model of that name."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if str(name_or_path) in bundled_model_names():
        return PRETRAINED_DIR / str(name_or_path)
    raise BundleError(
        f"{name_or_path}: not a model folder nor a bundled model "
        f"(bundled: {', '.join(bundled_model_names()) or 'none'})"
    )


def read_bundle_config(name_or_path: str | os.PathLike) -> dict:
    path = resolve_bundle(name_or_path)
    try:
        return json.loads((path / CONFIG_FILE).read_text())
    except FileNotFoundError:
        raise BundleError(f"{path}: no {CONFIG_FILE} in this folder") from None
    except json.JSONDecodeError as error:
        raise BundleError(f"{path / CONFIG_FILE}: not valid JSON ({error})") from None


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
