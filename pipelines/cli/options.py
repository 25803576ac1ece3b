"""Options that several commands share, spelled and explained once."""

from __future__ import annotations

import argparse

RUNTIME_HELP = (
    "onnx (onnxruntime, no torch) or torch; default: onnx where the model has an ONNX graph and "
    "onnxruntime is installed"
)
DEVICE_HELP = "cpu or cuda (default: the CPU under onnx; under torch, cuda when available)"


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """``--runtime`` and ``--device``: what runs the network, and where."""
    parser.add_argument("--runtime", choices=("onnx", "torch"), help=RUNTIME_HELP)
    parser.add_argument("--device", help=DEVICE_HELP)
