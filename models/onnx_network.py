"""A bundle's ONNX graph run by onnxruntime: the network without torch (see ``onnx_graph``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqrec.models.bundle_files import BundleError
from seqrec.models.padding import pad_batch

ONNX_FILE = "model.onnx"


class OnnxNetwork:
    """``network(arrays)`` -> ({head name: log-probabilities}, output lengths), as ``TorchNetwork``.

    Parameters
    ----------
    path : the ``.onnx`` file
    threads : onnxruntime's threads within an operator; None lets it choose (one per core)
    """

    runtime = "onnx"

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its notes on unused initialisers are not the user's
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # noqa: BLE001 - onnxruntime has its own exception types for bad files
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise BundleError(f"{path}: not a usable ONNX model ({first_line})") from None
        self.output_names = [output.name for output in self.session.get_outputs()]
        self.path = Path(path)

    def __call__(self, arrays: Sequence[np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        features, lengths = pad_batch(arrays)
        values = self.session.run(None, {"features": features, "lengths": lengths})
        outputs = dict(zip(self.output_names, values, strict=True))
        return outputs, outputs.pop("output_lengths")
