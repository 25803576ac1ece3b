"""A model bundle is a folder: ``config.json`` (dims, features, tokenizer, provenance, metrics) and
``model.safetensors``. Loading never unpickles; bundled models load by name, any bundle by path."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seqrec.models.bundle_files import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    BundleError,
    read_bundle_config,
    resolve_bundle,
    write_atomic,
)
from seqrec.models.sequence_model import ModelDims, SequenceModel
from seqrec.models.tokenizer import CharTokenizer


@dataclass
class ModelBundle:
    path: Path
    config: dict
    model: SequenceModel
    tokenizer: CharTokenizer | None

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name)


def load_bundle(name_or_path: str | os.PathLike, device: str | torch.device | None = None) -> ModelBundle:
    """Rebuild the model from its dims, load the weights (safetensors), and put it in eval mode."""
    path = resolve_bundle(name_or_path)
    config = read_bundle_config(path)
    try:
        model = SequenceModel(ModelDims.from_dict(config["dims"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BundleError(f"{path / CONFIG_FILE}: invalid model dims ({error})") from None
    _check_outputs(config, model.dims, path / CONFIG_FILE)
    weights_path = path / WEIGHTS_FILE
    if not weights_path.is_file():
        raise BundleError(f"{path}: no {WEIGHTS_FILE} in this folder")
    try:
        weights = load_file(str(weights_path))
    except (SafetensorError, OSError) as error:
        raise BundleError(f"{weights_path}: not a readable safetensors file ({error})") from None
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise BundleError(
            f"{weights_path}: weights do not match the config ({str(error).splitlines()[0]})"
        ) from None
    tokenizer = CharTokenizer(config["tokenizer"]["symbols"]) if "tokenizer" in config else None
    model.eval().to(device or "cpu")
    return ModelBundle(path, config, model, tokenizer)


def _check_outputs(config: dict, dims: ModelDims, where: Path) -> None:
    """The heads' labels and the tokenizer's symbols fit the heads' sizes: a label per classifier
    output, a symbol per CTC output (blank first)."""
    symbols = config.get("tokenizer", {}).get("symbols")
    for name, head in dims.heads.items():
        described = config.get("heads", {}).get(name)
        if config["modality"] == "hands" and described is None:
            raise BundleError(f"{where}: heads.{name}: the model has this head, the config does not name it")
        labels = described["labels"] if described else symbols if head.kind == "ctc" else None
        if labels is not None and len(labels) != head.n_outputs:
            raise BundleError(
                f"{where}: heads.{name}: {len(labels)} labels or symbols for {head.n_outputs} outputs"
            )
    unknown = sorted(set(config.get("heads", {})) - set(dims.heads))
    if unknown:
        raise BundleError(f"{where}: heads.{unknown[0]}: named in the config, but the model has no such head")


def save_bundle(path: str | os.PathLike, model: SequenceModel, config: dict) -> Path:
    """Write ``config.json`` (with the model's dims) and ``model.safetensors`` into ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config = {**config, "dims": model.dims.to_dict()}
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(path / WEIGHTS_FILE))
    write_atomic(path / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
    return path


def copy_bundle(source: str | os.PathLike, target: str | os.PathLike, config: dict) -> Path:
    """Copy ``source``'s weights to ``target`` with ``config`` (e.g. with figures added); the copy
    must load."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(source) / WEIGHTS_FILE, target / WEIGHTS_FILE)
    write_atomic(target / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
    load_bundle(target)
    return target
