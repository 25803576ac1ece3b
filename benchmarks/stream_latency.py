"""Live transcription latency: a recording played in real time through ``seqrec transcribe --stream-file``.

    python benchmarks/stream_latency.py [MANIFEST ...] [--seconds 120] [--speed 1] [--model NAME|PATH]
        [--seed 0] [--runtime onnx|torch]

The recording is built as benchmarks/long_audio.py builds its file (real test clips joined with
pauses of low noise). The command runs in a fresh process, exactly as a user runs it, so the
blocks arrive paced by the wall clock (``--speed`` times real time) and each utterance's row
carries its latency: the wall-clock seconds from the end of the utterance in the stream to its
row. Part of that is waiting by design: an utterance is over only once ``min_silence`` has passed
after its speech (its ``padding`` of that already belongs to it), and audio arrives in blocks;
``endpoint_wait_seconds`` is that part, the baseline the rest (recognition) adds to.
The first utterance's latency is reported apart (``first_latency_seconds``): it also pays for
what the first call of the network costs (allocations, lazy set-up), so the steady figure is
``rest_latency_seconds``, mean / p90 / max of every later utterance. ``--runtime`` is passed to
the command (default: its own choice, ONNX where the bundle has a graph).
Prints one JSON object: the text, WER against the joined clips, and latency statistics.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from long_audio import clip_rows, write_joined  # beside this script

from seqrec.features import VadConfig
from seqrec.models import DEFAULT_SPEECH_MODEL
from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.speech.long_audio import LIVE_BLOCK_SECONDS


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runtime", choices=("onnx", "torch"), help="default: the command's own choice")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.wav"
        placed = write_joined(clip_rows(args.manifests), args.seconds, path, args.seed)
        command = [
            sys.executable,
            "-m",
            "seqrec.pipelines.cli",
            "transcribe",
            "--stream-file",
            str(path),
            "--speed",
            str(args.speed),
            "--model",
            args.model,
            "--device",
            "cpu",
            "--format",
            "jsonl",
            *(["--runtime", args.runtime] if args.runtime else []),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    latencies = [row["latency"] for row in rows]
    text = " ".join(row["text"] for row in rows if row.get("text"))
    reference = " ".join(row["text"] for row in placed)
    rates = error_rates([reference], [text])
    vad = VadConfig()
    result = {
        "audio_seconds": args.seconds,
        "speed": args.speed,
        "runtime": args.runtime or "default",
        "clips": len(placed),
        "utterances": len(rows),
        "text": text,
        "wer": round(rates["wer"], 4),
        "first_latency_seconds": round(latencies[0], 3) if latencies else None,
        "rest_latency_seconds": _stats(latencies[1:]),
        "latency_seconds": _stats(latencies),
        "endpoint_wait_seconds": {
            "min": round(vad.min_silence - vad.padding, 3),
            "max": round(vad.min_silence - vad.padding + LIVE_BLOCK_SECONDS, 3),
        },
    }
    print(json.dumps(result, indent=2))
    return 0


def _stats(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "utterances": len(values),
        "mean": round(statistics.fmean(values), 3),
        "p50": round(float(np.percentile(values, 50)), 3),
        "p90": round(float(np.percentile(values, 90)), 3),
        "max": round(max(values), 3),
    }


if __name__ == "__main__":
    sys.exit(main())
