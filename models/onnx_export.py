"""Export a bundle for the ONNX runtime: its network as an ONNX graph beside its weights, checked
against torch before anything is written where it would be loaded."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqrec.models.bundle import load_bundle
from seqrec.models.bundle_files import CONFIG_FILE, WEIGHTS_FILE, BundleError, write_atomic
from seqrec.models.onnx_graph import OPSET, build_graph
from seqrec.models.onnx_network import ONNX_FILE, OnnxNetwork
from seqrec.models.torch_network import TorchNetwork

# The largest log-probability difference against torch an export may have (quantised graphs differ
# by design, and are judged by their error rates instead).
PARITY_TOLERANCE = 1e-4
CHECK_LENGTHS = (1, 7, 40, 151)  # frames: a batch of these, padded, and each alone


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_difference: float  # ONNX against torch, log-probabilities, on the check batch
    max_batch_difference: float  # an item in the batch against the same item alone (ONNX)
    size_bytes: int
    quantized: bool


def export_bundle(
    source: str | os.PathLike, out: str | os.PathLike, quantize: bool = False, seed: int = 0
) -> ExportReport:
    """Write ``out`` as a bundle holding ``model.onnx`` (and the source's weights and config, so torch
    still loads it); ``out`` may be the source folder itself. Raises ``BundleError`` when the graph's
    outputs differ from torch's by more than ``PARITY_TOLERANCE`` (unquantised)."""
    bundle = load_bundle(source, "cpu")
    out = Path(out)
    weights = {name: tensor.detach().cpu().numpy() for name, tensor in bundle.model.state_dict().items()}
    graph = build_graph(bundle.model.dims.to_dict(), weights, name=bundle.name)
    with tempfile.TemporaryDirectory() as scratch:
        onnx_path = Path(scratch) / ONNX_FILE
        onnx_path.write_bytes(graph.SerializeToString())
        if quantize:
            onnx_path = _quantize(onnx_path, Path(scratch) / "model.int8.onnx")
        network = OnnxNetwork(onnx_path)
        difference, batch_difference = _compare(TorchNetwork(bundle.model), network, bundle.model.dims, seed)
        if not quantize and difference > PARITY_TOLERANCE:
            raise BundleError(
                f"{bundle.path}: the ONNX graph differs from torch by {difference:.2e} "
                f"(limit {PARITY_TOLERANCE})"
            )
        out.mkdir(parents=True, exist_ok=True)
        weights_out = out / WEIGHTS_FILE
        if not (weights_out.exists() and os.path.samefile(weights_out, bundle.path / WEIGHTS_FILE)):
            shutil.copy(bundle.path / WEIGHTS_FILE, weights_out)
        shutil.copy(onnx_path, out / ONNX_FILE)
    # The config as the source wrote it (whatever its format: bundles are read, never rewritten),
    # plus the graph's entry.
    config = json.loads((bundle.path / CONFIG_FILE).read_text(encoding="utf-8"))
    config["onnx"] = {"file": ONNX_FILE, "opset": OPSET, "quantized": quantize}
    write_atomic(out / CONFIG_FILE, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return ExportReport(out, difference, batch_difference, (out / ONNX_FILE).stat().st_size, quantize)


def _quantize(source: Path, target: Path) -> Path:
    """int8 weights, activations quantised per call (onnxruntime's dynamic quantisation)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It advises shape inference first on the root logger: that helps static quantisation, not this.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return target


def _compare(torch_network, onnx_network, dims, seed: int) -> tuple[float, float]:
    """The largest difference of every head's log-probabilities, ONNX against torch, on a padded
    batch of random inputs; and of ONNX on each item alone against the same item in the batch."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, dims.encoder.n_input)).astype(np.float32) for n in CHECK_LENGTHS]
    expected, lengths = torch_network(arrays)
    got, onnx_lengths = onnx_network(arrays)
    if not np.array_equal(lengths, onnx_lengths):
        raise BundleError(f"the ONNX graph gives output lengths {onnx_lengths}, torch {lengths}")
    difference = batch_difference = 0.0
    for row, array in enumerate(arrays):
        alone, _ = onnx_network([array])
        for name, values in expected.items():
            valid = slice(None) if values.ndim == 2 else slice(0, lengths[row])
            difference = max(difference, float(np.abs(got[name][row][valid] - values[row][valid]).max()))
            batch_difference = max(
                batch_difference, float(np.abs(alone[name][0][valid] - got[name][row][valid]).max())
            )
    return difference, batch_difference
