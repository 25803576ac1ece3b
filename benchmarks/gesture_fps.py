"""Gesture recognition speed on a video: the whole `seqrec gestures` path against MediaPipe alone.

    python benchmarks/gesture_fps.py [VIDEO] [--model NAME|PATH] [--repeat 5] [--runtime onnx|torch]

VIDEO defaults to MediaPipe's test video in ../shared/data (8.1 s, 640x360), else the clip in
tests/data. In one run, alternating so a busy machine slows both alike:

- pipeline: ``recognize_file``, what `seqrec gestures VIDEO` runs: decoding, VIDEO-mode
  landmarks on every frame, features, windows, the classifier and the smoothing;
- baseline: a bare MediaPipe HandLandmarker in VIDEO mode (same model file and settings) over the
  same frames, decoded beforehand, so decoding is not in it;
- classifier: the model alone on each window of the video at batch 1 (features apart), median
  over all windows of all repeats, with the network's threads as the command sets them;
- command: ``seqrec gestures VIDEO --model M --runtime R`` in a fresh process, start included
  (imports, loading the models, decoding), against a fresh process that decodes the same video and
  runs the bare landmarker over its frames (its imports and creation included):
  ``command_ratio`` is the command's fps over that one's, from the medians of ``--repeat`` runs.

The network runs in the runtime ``--runtime`` names (default onnx; torch is imported only for
``--runtime torch``).

Prints one JSON object: ``ratio`` is the pipeline's fps over the baseline's, each from its best
run (goal >= 0.9; ``ratio_median`` from the median runs), ``classifier_ms.median`` the goal of
<= 2 ms per window. What the pipeline adds to the landmarks is broken down: decoding per frame
(done on a thread ahead of the landmarks, so it is hidden where a core is free) and windows,
classifier and smoothing per frame (windows batched); ``load_average`` says how busy the machine was.
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

import numpy as np

from seqrec.features import FrameSource, HandLandmarker, HandLandmarkerConfig, load_hand_model
from seqrec.models import bundled_model_names
from seqrec.pipelines.cli.gestures import NETWORK_THREADS
from seqrec.pipelines.core.native_logs import native_stderr_silenced
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL
from seqrec.pipelines.hands.data import sequence_of_hands
from seqrec.pipelines.hands.media import recognize_file
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.stream import video_segments

ROOT = Path(__file__).resolve().parent.parent
SEQREC = str(Path(sys.executable).parent / "seqrec")
VIDEOS = [
    ROOT.parent / "shared/data/hands/video/hand_landmarker_test_video.mp4",
    ROOT / "tests/data/hands/hand_clip.mp4",
]


def decoded_frames(video: Path) -> list[tuple[float, np.ndarray]]:
    with FrameSource(video) as source:
        return list(source)


def bare_landmarker_seconds(frames: list[tuple[float, np.ndarray]]) -> float:
    """MediaPipe's HandLandmarker alone, VIDEO mode, over frames already decoded (its creation included)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    config = HandLandmarkerConfig()
    options = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=load_hand_model()),
        running_mode=vision.RunningMode.VIDEO,
        num_hands=2,
        min_hand_detection_confidence=config.min_detection_confidence,
        min_hand_presence_confidence=config.min_presence_confidence,
        min_tracking_confidence=config.min_tracking_confidence,
    )
    started = time.perf_counter()
    with vision.HandLandmarker.create_from_options(options) as landmarker:
        for seconds, frame in frames:
            landmarker.detect_for_video(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=frame), round(seconds * 1000)
            )
    return time.perf_counter() - started


def pipeline_seconds(model: GestureModel, landmarks: HandLandmarker, video: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    record = recognize_file(model, landmarks, str(video))
    return time.perf_counter() - started, record


def decode_seconds(video: Path) -> float:
    started = time.perf_counter()
    with FrameSource(video) as source:
        for _ in source:
            pass
    return time.perf_counter() - started


def windows_seconds(model: GestureModel, hands: list) -> float:
    """Windows, classifier and smoothing over a whole video's landmarks, as the pipeline runs them."""
    started = time.perf_counter()
    video_segments(model, hands)
    return time.perf_counter() - started


def window_times(model: GestureModel, hands: list) -> tuple[list[float], list[float]]:
    """Per window of the video (as the stream cuts them): seconds for features, and for the model."""
    window, hop = model.window.frames, model.window.hop
    feature_times, model_times = [], []
    for end in range(window, len(hands) + 1, hop):
        sequence = sequence_of_hands(hands[end - window : end])
        if not sequence.found:
            continue
        started = time.perf_counter()
        features = model.features_of(sequence)
        between = time.perf_counter()
        model.run([features])
        feature_times.append(between - started)
        model_times.append(time.perf_counter() - between)
    return feature_times, model_times


def process_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def command_runs(video: Path, model_name: str, runtime: str, repeat: int) -> dict:
    """``seqrec gestures VIDEO`` and a bare landmarker, each in a fresh process, start included;
    alternating, once each first (the files in the page cache for both)."""
    command = [
        SEQREC,
        "gestures",
        str(video),
        "--model",
        model_name,
        "--runtime",
        runtime,
        "--format",
        "jsonl",
    ]
    bare = [sys.executable, __file__, str(video), "--bare-landmarker-process"]
    process_seconds(command)
    process_seconds(bare)
    command_times, bare_times = [], []
    for _ in range(repeat):
        bare_times.append(process_seconds(bare))
        command_times.append(process_seconds(command))
    return {
        "command": " ".join(["seqrec", *command[1:]]),
        "command_seconds": [round(s, 3) for s in command_times],
        "bare_landmarker_process_seconds": [round(s, 3) for s in bare_times],
        "command_ratio": round(statistics.median(bare_times) / statistics.median(command_times), 3),
    }


def milliseconds(times: list[float]) -> dict:
    ms = np.array(times) * 1000
    return {
        "median": round(float(np.median(ms)), 3),
        "p90": round(float(np.percentile(ms, 90)), 3),
        "windows": len(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--model", help=f"default: {DEFAULT_GESTURE_MODEL} when bundled, else sign-digits")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runtime", choices=("onnx", "torch"), default="onnx")
    parser.add_argument("--bare-landmarker-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    video = args.video or next(v for v in VIDEOS if v.is_file())
    if args.bare_landmarker_process:  # the baseline of ``command_runs``, in its own process
        with native_stderr_silenced():
            bare_landmarker_seconds(decoded_frames(video))
        return
    model_name = args.model or (
        DEFAULT_GESTURE_MODEL if DEFAULT_GESTURE_MODEL in bundled_model_names() else "sign-digits"
    )
    load_before = os.getloadavg()[0]

    with native_stderr_silenced():
        model = GestureModel(model_name, "cpu", runtime=args.runtime, threads=NETWORK_THREADS)
        if args.runtime == "torch":  # as `seqrec gestures` runs the torch network
            import torch

            torch.set_num_threads(NETWORK_THREADS)
        frames = decoded_frames(video)
        with HandLandmarker() as landmarks:
            pipeline_seconds(model, landmarks, video)  # warm-up: first-call costs out of the figures
            bare_landmarker_seconds(frames[:10])
            pipeline_runs, baseline_runs = [], []
            for _ in range(args.repeat):
                baseline_runs.append(bare_landmarker_seconds(frames))
                seconds, record = pipeline_seconds(model, landmarks, video)
                pipeline_runs.append(seconds)
            with landmarks.tracker() as tracker:
                hands = [tracker.detect(frame, seconds) for seconds, frame in frames]
        feature_times, model_times = [], []
        for _ in range(args.repeat):
            f, m = window_times(model, hands)
            feature_times += f
            model_times += m
        decoding = min(decode_seconds(video) for _ in range(args.repeat))
        windows = min(windows_seconds(model, hands) for _ in range(args.repeat))
    commands = command_runs(video, model_name, args.runtime, args.repeat)

    n = len(frames)
    pipeline_fps, baseline_fps = n / min(pipeline_runs), n / min(baseline_runs)
    classifier = milliseconds(model_times)
    print(
        json.dumps(
            {
                "video": str(video),
                "frames": n,
                "frame_size": list(frames[0][1].shape[1::-1]),
                "model": model_name,
                "cpu_count": os.cpu_count(),
                "runtime": model.bundle.runtime,
                "network_threads": NETWORK_THREADS,
                "torch_imported": "torch" in sys.modules,
                "repeat": args.repeat,
                "pipeline_fps": round(pipeline_fps, 1),
                "baseline_landmarker_fps": round(baseline_fps, 1),
                "ratio": round(pipeline_fps / baseline_fps, 3),
                "ratio_median": round(statistics.median(baseline_runs) / statistics.median(pipeline_runs), 3),
                "ratio_goal": 0.9,
                "landmarks_ms_per_frame": round(min(baseline_runs) / n * 1000, 2),
                "decode_ms_per_frame": round(decoding / n * 1000, 2),
                "windows_classifier_smoothing_ms_per_frame": round(windows / n * 1000, 3),
                "classifier_ms": classifier,
                "classifier_goal_ms": 2.0,
                "features_ms": milliseconds(feature_times),
                "pipeline_seconds": [round(s, 3) for s in pipeline_runs],
                "baseline_seconds": [round(s, 3) for s in baseline_runs],
                "segments": len(record.get("segments", [])),
                **commands,
                "command_fps": round(n / statistics.median(commands["command_seconds"]), 1),
                "bare_landmarker_process_fps": round(
                    n / statistics.median(commands["bare_landmarker_process_seconds"]), 1
                ),
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
