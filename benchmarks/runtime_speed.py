"""Steady-state speed of the two runtimes, ONNX and torch, on the same inputs in the same process.

    python benchmarks/runtime_speed.py [MANIFEST ...] [--clips N] [--repeat 3] [--model NAME|PATH]
        [--hand-model NAME|PATH] [--hand-manifest PATH] [--windows N] [--threads N]

Speech (default inputs as benchmarks/transcribe_throughput.py: the Speech Commands and FSDD test
manifests that scripts/build_commands.py writes, else the clips in tests/data; ``--clips`` keeps
the first N):

- ``network``: the features computed beforehand, the network alone, batches of 32 sorted by
  length as ``CTCRecognize`` runs them;
- ``transcribe``: ``Transcriber.transcribe_paths`` over the clips, everything from decoding the
  files to word times.

Hands (default: the ``hand-gestures`` test set, kinivi's landmark windows, that
scripts/build_hand_models.py --prepare-only writes): landmark features computed beforehand, the
network alone on windows of the model's length (16 frames) at batch 1 (a live window at a time)
and at batch 32, with the threads that ``seqrec gestures`` gives the network.

Both runtimes are loaded and warmed up first; each measurement alternates them ``--repeat``
times (so a busy moment falls on both alike) and keeps each one's best. Threads: each runtime's
default for speech (one per core), unless ``--threads``. Reported as items per second for each
runtime and ``onnx_over_torch``, the ratio of the two. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from transcribe_throughput import input_paths  # beside this script

from seqrec.models import DEFAULT_SPEECH_MODEL
from seqrec.pipelines.cli.gestures import NETWORK_THREADS
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL
from seqrec.pipelines.hands.data import load_hand_sequences
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.speech.transcriber import Transcriber

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("onnx", "torch")
BATCH = 32
HAND_MANIFEST = ROOT / "data" / "hand-gestures" / "test" / "manifest.jsonl"


def best_rates(work: dict, items: int, repeat: int) -> dict:
    """``work[runtime]()`` run ``repeat`` times, alternating runtimes; each one's best items/s."""
    best = dict.fromkeys(work, float("inf"))
    for _ in range(repeat):
        for name, run in work.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    rates = {name: round(items / seconds, 1) for name, seconds in best.items()}
    return {
        "items": items,
        "items_per_second": rates,
        "onnx_over_torch": round(rates["onnx"] / rates["torch"], 3),
    }


def batched(network, arrays: list[np.ndarray], order: list[int], batch: int):
    def run() -> None:
        for start in range(0, len(order), batch):
            network([arrays[i] for i in order[start : start + batch]])

    return run


def speech_speed(paths: list[str], model: str, threads: int | None, repeat: int) -> dict:
    transcribers = {r: Transcriber(model, "cpu", runtime=r, threads=threads) for r in RUNTIMES}
    features = transcribers["onnx"].pipeline[:"features"]
    samples = []
    for start in range(0, len(paths), BATCH):
        samples += features.run_batch([{"path": p} for p in paths[start : start + BATCH]])
    arrays = [s["features"] for s in samples if "features" in s]
    audio_seconds = sum(s.get("duration", 0.0) for s in samples if "features" in s)
    order = sorted(range(len(arrays)), key=lambda i: len(arrays[i]))

    def transcribe(transcriber):
        return lambda: list(transcriber.transcribe_paths(paths))

    for transcriber in transcribers.values():  # warm-up: lazy imports, allocators, first-call costs
        list(transcriber.transcribe_paths(paths[:BATCH]))
    network = best_rates(
        {r: batched(t.bundle.network, arrays, order, BATCH) for r, t in transcribers.items()},
        len(arrays),
        repeat,
    )
    whole = best_rates({r: transcribe(t) for r, t in transcribers.items()}, len(paths), repeat)
    whole["x_real_time"] = {
        r: round(rate * audio_seconds / len(paths), 1) for r, rate in whole["items_per_second"].items()
    }
    return {
        "model": model,
        "clips": len(paths),
        "audio_seconds": round(audio_seconds, 1),
        "mean_frames": round(float(np.mean([len(a) for a in arrays])), 1),
        "network": network,
        "transcribe": whole,
    }


def hands_speed(manifest: Path, model: str, windows: int | None, repeat: int) -> dict:
    models = {r: GestureModel(model, "cpu", runtime=r, threads=NETWORK_THREADS) for r in RUNTIMES}
    sequences = load_hand_sequences([manifest], manifest.parent / "cache", log=lambda *_: None)
    sequences = [s for s in sequences if s.found]
    # Windows as a video is cut (the model's window length), where the set has them (kinivi's
    # test set holds single-frame poses beside its 16-frame trajectories).
    frames = models["onnx"].window.frames
    sequences = ([s for s in sequences if len(s) == frames] or sequences)[:windows]
    arrays = [models["onnx"].features_of(s) for s in sequences]
    order = list(range(len(arrays)))
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(NETWORK_THREADS)  # as `seqrec gestures` runs the torch network
    try:
        for m in models.values():  # warm-up
            m.bundle.network(arrays[:BATCH])
            m.bundle.network(arrays[:1])
        return {
            "model": model,
            "manifest": str(manifest),
            "window_frames": int(np.median([len(a) for a in arrays])),
            "threads": NETWORK_THREADS,
            **{
                f"network_batch_{batch}": best_rates(
                    {r: batched(m.bundle.network, arrays, order, batch) for r, m in models.items()},
                    len(arrays),
                    repeat,
                )
                for batch in (1, BATCH)
            },
        }
    finally:
        torch.set_num_threads(torch_threads)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path, help="speech manifests")
    parser.add_argument("--clips", type=int, help="the first N speech clips (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--hand-model", default=DEFAULT_GESTURE_MODEL)
    parser.add_argument("--hand-manifest", type=Path, default=HAND_MANIFEST)
    parser.add_argument("--windows", type=int, help="the first N hand windows (default: all)")
    parser.add_argument("--threads", type=int, help="speech: both runtimes' threads (default: theirs)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    load_before = os.getloadavg()[0]
    paths = input_paths(args.manifests)[: args.clips]
    result = {
        "cpu_count": os.cpu_count(),
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "speech_threads": {
            "onnx": args.threads or "onnxruntime's default (one per core)",
            "torch": torch.get_num_threads(),
        },
        "repeat": args.repeat,
        "speech": speech_speed(paths, args.model, args.threads, args.repeat),
    }
    if args.hand_manifest.is_file():
        result["hands"] = hands_speed(args.hand_manifest, args.hand_model, args.windows, args.repeat)
    else:
        result["hands"] = f"no {args.hand_manifest}: run scripts/build_hand_models.py --prepare-only"
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
