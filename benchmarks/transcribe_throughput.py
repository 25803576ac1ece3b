"""Transcription speed on this machine: steady-state audio seconds per second, and start-up apart.

    python benchmarks/transcribe_throughput.py [MANIFEST ...] [--repeat 3] [--model NAME|PATH]

Default inputs: the Speech Commands and FSDD test manifests that scripts/build_commands.py
writes (data/commands/test_*.jsonl), else the clips in tests/data. Steady state: the model
is loaded and warmed up first; every stage of the pipeline is timed in the same run, so the cost of
decoding audio and of features shows beside the whole path. Start-up (import + model load) runs in
fresh subprocesses. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from seqrec.features import find_audio_files
from seqrec.models import DEFAULT_SPEECH_MODEL
from seqrec.pipelines import Transcriber
from seqrec.pipelines.core.manifest import read_manifest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFESTS = [
    ROOT / "data/commands/test_speech_commands.jsonl",
    ROOT / "data/commands/test_fsdd.jsonl",
]
STARTUP_CODE = "from seqrec.pipelines import Transcriber; Transcriber()"


def input_paths(manifests: list[Path]) -> list[str]:
    manifests = manifests or [m for m in DEFAULT_MANIFESTS if m.is_file()]
    if manifests:
        return [row["audio_filepath"] for manifest in manifests for row in read_manifest(manifest)]
    return [str(p) for p in find_audio_files(ROOT / "tests" / "data")]


def steady_state(transcriber: Transcriber, paths: list[str], stages: int, repeat: int) -> dict:
    """Best of ``repeat`` passes over all paths through the first ``stages`` stages of the pipeline."""
    pipeline = transcriber.pipeline[:stages]
    batch_size = transcriber.batch_size
    best, audio_seconds = float("inf"), 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        audio_seconds = 0.0
        for start in range(0, len(paths), batch_size):
            for sample in pipeline.run_batch([{"path": p} for p in paths[start : start + batch_size]]):
                audio_seconds += sample.get("duration", 0.0)
        best = min(best, time.perf_counter() - started)
    return {
        "seconds": round(best, 3),
        "audio_seconds": round(audio_seconds, 1),
        "x_real_time": round(audio_seconds / best, 1),
    }


def startup_seconds(model: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        code = STARTUP_CODE.replace("Transcriber()", f"Transcriber({model!r})")
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    paths = input_paths(args.manifests)
    transcriber = Transcriber(args.model, device="cpu")
    steady_state(transcriber, paths[: transcriber.batch_size], 3, 1)  # warm-up: lazy imports, allocator
    stages = {
        name: steady_state(transcriber, paths, i + 1, args.repeat)
        for i, (name, _) in enumerate(transcriber.pipeline.steps)
    }
    result = {
        "inputs": len(paths),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "through_stage": stages,
        "x_real_time": stages[transcriber.pipeline.steps[-1][0]]["x_real_time"],  # the whole pipeline
        "startup_seconds": startup_seconds(args.model),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
