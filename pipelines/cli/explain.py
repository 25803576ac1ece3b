"""``seqrec explain INPUT --out DIR``: one self-contained HTML page of what the model does with
INPUT (an audio file, a photo or a video), and its result as ``transcribe`` or ``gestures`` prints
it."""

from __future__ import annotations

import json
from pathlib import Path

from seqrec.features import InputError
from seqrec.models import bundled_model_names
from seqrec.pipelines.cli.errors import EXIT_OK, EXIT_SOME_FAILED, report, require_torch


def add_explain_parser(commands) -> None:
    p = commands.add_parser(
        "explain",
        help="draw what the model hears or sees in one input: gates, saliency, outputs (an HTML page)",
        description="Write DIR/INPUT_NAME.html: the input (waveform and MFCCs, or frames and landmark "
        "trajectories), every gate of the recurrent encoder over time, which moments the output "
        "depends on (gradient x input), and what the heads say, on one time axis. Pictures are "
        "inside the file. Prints the page's path and the result.",
    )
    p.add_argument("input", metavar="INPUT", help="an audio file, a photo or a video")
    p.add_argument(
        "--model",
        help=f"a bundled model ({', '.join(bundled_model_names())}) or a bundle folder; default: the "
        "default speech model for audio, the default hands model for a photo or a video",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write the page into")
    p.set_defaults(run=run_explain)


def run_explain(args) -> int:
    require_torch("explain")
    from seqrec.pipelines.explain import explain, write_page

    try:
        explanation = explain(args.input, args.model)
    except InputError as error:
        report(error)
        return EXIT_SOME_FAILED
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    page = write_page(explanation, out / f"{Path(args.input).stem}.html")
    print(json.dumps({"page": str(page), **explanation.result}))
    return EXIT_OK
