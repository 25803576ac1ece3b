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
# Format 2 names the modality "speech" or "hands" and has no ``task``: format 1 said "audio" for
# speech and a task ("ctc", or "hands" even for a CTC hands model) that the heads already tell.
FORMAT_VERSION = 2
FORMAT_1_MODALITIES = {"audio": "speech"}


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
        return upgrade_config(json.loads((path / CONFIG_FILE).read_text()))
    except FileNotFoundError:
        raise BundleError(f"{path}: no {CONFIG_FILE} in this folder") from None
    except json.JSONDecodeError as error:
        raise BundleError(f"{path / CONFIG_FILE}: not valid JSON ({error})") from None


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def upgrade_config(config: dict) -> dict:
    """``config`` as the current format says it, whichever format it was written in; bundles on
    disk are never rewritten, so a bundle from any seqrec version loads."""
    if config.get("format_version", 1) >= FORMAT_VERSION:
        return config
    upgraded = {key: value for key, value in config.items() if key != "task"}
    modality = config.get("modality", "audio")
    upgraded["modality"] = FORMAT_1_MODALITIES.get(modality, modality)
    upgraded["format_version"] = FORMAT_VERSION
    return upgraded
