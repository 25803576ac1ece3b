"""``seqrec export MODEL --format onnx --out DIR``: a bundle with its network as an ONNX graph, which
the ONNX runtime (no torch) loads with ``--model DIR``."""

from __future__ import annotations

import json

from seqrec.models import bundled_model_names
from seqrec.pipelines.cli.errors import EXIT_OK, require_torch


def add_export_parser(commands) -> None:
    p = commands.add_parser(
        "export",
        help="export a model for the ONNX runtime (a bundle folder that --model DIR loads)",
        description="Write MODEL's network as an ONNX graph (dynamic batch and length, checked against "
        "torch) into DIR with its config and weights. DIR may be the model's own folder.",
    )
    p.add_argument(
        "model", metavar="MODEL", help=f"a bundled model ({', '.join(bundled_model_names())}) or folder"
    )
    p.add_argument("--format", choices=("onnx",), default="onnx", help="the format (onnx, the default)")
    p.add_argument("--out", required=True, metavar="DIR", help="the bundle folder to write")
    p.add_argument(
        "--quantize", action="store_true", help="int8 weights (dynamic quantisation): about 4x smaller"
    )
    p.set_defaults(run=run_export)


def run_export(args) -> int:
    require_torch("export")
    from seqrec.models.onnx_export import export_bundle

    report = export_bundle(args.model, args.out, quantize=args.quantize)
    row = {
        "path": str(report.path),
        "format": args.format,
        "quantized": report.quantized,
        "size_bytes": report.size_bytes,
        "max_difference": float(f"{report.max_difference:.3g}"),
        "max_batch_difference": float(f"{report.max_batch_difference:.3g}"),
    }
    print(json.dumps(row))
    return EXIT_OK
