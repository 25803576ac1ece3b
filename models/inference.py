"""A bundle loaded for recognition, by whichever runtime can run it: onnxruntime where the bundle
has an ONNX graph and onnxruntime is installed (no torch needed), else torch.

Everything downstream (features, decoders, stages) sees the same ``InferenceModel``: the config,
the tokenizer, and a network that takes numpy feature arrays and gives numpy log-probabilities.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqrec.models.bundle_files import BundleError, read_bundle_config, resolve_bundle
from seqrec.models.onnx_network import ONNX_FILE, OnnxNetwork
from seqrec.models.tokenizer import CharTokenizer

RUNTIMES = ("onnx", "torch")
NEEDS_TORCH = "needs torch, which this install does not have (pip install 'seqrec[train]')"

Network = Callable[[Sequence[np.ndarray]], tuple[dict[str, np.ndarray], np.ndarray]]


@dataclass
class InferenceModel:
    path: Path | None
    config: dict
    network: Network
    tokenizer: CharTokenizer | None

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name if self.path else "model")

    @property
    def runtime(self) -> str:
        return self.network.runtime

    @property
    def stack(self) -> int:
        """Input frames per encoder step: a step lasts ``stack`` feature frames."""
        return self.config["dims"]["encoder"]["stack"]

    @classmethod
    def from_torch(cls, path, config: dict, model, tokenizer: CharTokenizer | None) -> InferenceModel:
        """A model being trained or evaluated, as it is in memory."""
        from seqrec.models.torch_network import TorchNetwork

        return cls(path, {**config, "dims": model.dims.to_dict()}, TorchNetwork(model), tokenizer)


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def choose_runtime(path: Path, runtime: str | None, device: str | None) -> str:
    """``runtime`` as asked, checked; None: ONNX when the bundle has a graph, onnxruntime is
    installed and the device is the CPU, else torch."""
    if runtime not in (None, *RUNTIMES):
        raise BundleError(f"runtime {runtime!r}: must be one of {', '.join(RUNTIMES)}")
    has_graph = (path / ONNX_FILE).is_file()
    if runtime == "onnx":
        if not has_graph:
            raise BundleError(
                f"{path}: no {ONNX_FILE} in this folder (make one: seqrec export {path} --out DIR)"
            )
        if not onnx_available():
            raise BundleError("runtime onnx needs onnxruntime, which this install does not have")
        if device not in (None, "cpu"):
            raise BundleError(f"runtime onnx runs on the CPU here; for device {device} use --runtime torch")
        return "onnx"
    if runtime is None and has_graph and onnx_available() and device in (None, "cpu"):
        return "onnx"
    if not torch_available():
        raise BundleError(
            f"{path}: runtime torch {NEEDS_TORCH}"
            if runtime == "torch" or not has_graph
            else f"{path}: this bundle's ONNX graph needs onnxruntime, and torch is missing too"
        )
    return "torch"


def load_model(
    name_or_path: str | os.PathLike,
    runtime: str | None = None,
    device: str | None = None,
    threads: int | None = None,
) -> InferenceModel:
    """Load a bundle for recognition (see ``choose_runtime`` for which runtime runs it).

    ``device``: None for the CPU under ONNX and CUDA where present under torch; a device given is
    expected checked (``pipelines.core.device.check_device`` says why one is unusable)."""
    path = resolve_bundle(name_or_path)
    config = read_bundle_config(path)
    if not isinstance(config.get("dims"), dict):
        raise BundleError(f"{path}: config.json has no model dims")
    chosen = choose_runtime(path, runtime, device)
    tokenizer = CharTokenizer(config["tokenizer"]["symbols"]) if "tokenizer" in config else None
    if chosen == "onnx":
        return InferenceModel(path, config, OnnxNetwork(path / ONNX_FILE, threads), tokenizer)
    from seqrec.models.bundle import load_bundle
    from seqrec.models.torch_network import TorchNetwork, default_device

    bundle = load_bundle(path, device or default_device())
    return InferenceModel(path, bundle.config, TorchNetwork(bundle.model), bundle.tokenizer)
