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
MODALITIES = ("speech", "hands")
HEAD_KINDS = ("classifier", "ctc")
# Feature settings that must be positive where a config has them: (types, what the message asks for).
POSITIVE_FEATURES = {
    "sample_rate": ((int,), "a positive whole number of Hz"),
    "n_mfcc": ((int,), "a positive whole number"),
    "n_mels": ((int,), "a positive whole number"),
    "win_ms": ((int, float), "a positive number of milliseconds"),
    "hop_ms": ((int, float), "a positive number of milliseconds"),
}


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
    """A bundle's ``config.json``, in the current format and checked: a config that cannot make a
    working model (no modality, a sample rate of 0, an unknown decoder, malformed heads) is a
    ``BundleError`` naming the file and the key, here rather than in the middle of a job."""
    path = resolve_bundle(name_or_path)
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: no {CONFIG_FILE} in this folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(f"{path / CONFIG_FILE}: not valid JSON ({error})") from None
    except OSError as error:
        raise BundleError(f"{path / CONFIG_FILE}: cannot read it ({error.strerror or error})") from None
    if not isinstance(config, dict):
        raise BundleError(f"{path / CONFIG_FILE}: not a JSON object")
    config = upgrade_config(config, path / CONFIG_FILE)
    check_config(config, path / CONFIG_FILE)
    return config


def check_config(config: dict, where: str | os.PathLike) -> None:
    """Raise a ``BundleError`` naming ``where`` and the key for a config no model can run with."""

    def fail(key: str, what: str) -> None:
        raise BundleError(f"{where}: {key} {what}")

    if config.get("modality") not in MODALITIES:
        fail("modality", f"must be one of {', '.join(MODALITIES)}, not {json.dumps(config.get('modality'))}")
    features = config.get("features")
    if not isinstance(features, dict):
        fail("features", f"must be a mapping of feature settings, not {json.dumps(features)}")
    problem = feature_settings_problem(features)
    if problem:
        raise BundleError(f"{where}: {problem}")
    if "decode" in config:
        from seqrec.models.decode_options import DecodeOptions

        decode = config["decode"]
        if not isinstance(decode, dict):
            fail("decode", f"must be a mapping of decoding options, not {json.dumps(decode)}")
        try:
            DecodeOptions(**decode)
        except (TypeError, ValueError) as error:
            raise BundleError(f"{where}: decode: {error}") from None
    if config["modality"] == "hands":
        heads = config.get("heads")
        if not isinstance(heads, dict) or not heads:
            fail(
                "heads", f"must name at least one head ({{name: {{kind, labels}}}}), not {json.dumps(heads)}"
            )
        for name, head in heads.items():
            if not isinstance(head, dict) or head.get("kind") not in HEAD_KINDS:
                fail(f"heads.{name}", f"must have a kind, one of {', '.join(HEAD_KINDS)}: {json.dumps(head)}")
            labels = head.get("labels")
            if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
                fail(f"heads.{name}.labels", f"must be a list of strings, not {json.dumps(labels)}")
    tokenizer = config.get("tokenizer")
    if "tokenizer" in config and (
        not isinstance(tokenizer, dict)
        or not isinstance(tokenizer.get("symbols"), list)
        or not all(isinstance(x, str) for x in tokenizer["symbols"])
    ):
        fail("tokenizer", 'must be {"symbols": [strings]}')
    if config["modality"] == "speech" and not isinstance(tokenizer, dict):
        fail("tokenizer", "is missing: a speech model needs its symbols")


def feature_settings_problem(features: dict) -> str | None:
    """What is wrong with feature settings (a bundle's or a recipe's ``features``) that no audio
    can be turned into features with: ``"features.sample_rate must be ..., not 0"``; None if nothing."""
    for key, (kinds, what) in POSITIVE_FEATURES.items():
        value = features.get(key)
        if key in features and (isinstance(value, bool) or not isinstance(value, kinds) or not value > 0):
            return f"features.{key} must be {what}, not {json.dumps(value)}"
    return None


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def upgrade_config(config: dict, where: str | os.PathLike = CONFIG_FILE) -> dict:
    """``config`` as the current format says it, whichever format it was written in; bundles on
    disk are never rewritten, so a bundle from any seqrec version loads (one from a newer version,
    whose format this one does not know, is a ``BundleError``)."""
    version = config.get("format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version > FORMAT_VERSION:
        raise BundleError(
            f"{where}: format_version {json.dumps(version)} is not one this seqrec reads "
            f"(1 to {FORMAT_VERSION}): a newer seqrec wrote it"
        )
    if version >= FORMAT_VERSION:
        return config
    upgraded = {key: value for key, value in config.items() if key != "task"}
    modality = config.get("modality", "audio")
    upgraded["modality"] = FORMAT_1_MODALITIES.get(modality, modality)
    upgraded["format_version"] = FORMAT_VERSION
    return upgraded
