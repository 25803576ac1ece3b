"""``seqrec gestures``: hand gestures and signs in photos, videos, or live from a camera.

Files give one result per input (txt, json or jsonl); a camera (or ``--stream-file``, a video
played in real time through the same code) gives an event per label change, and with a window
shows each frame as ``draw_overlay`` draws it. Exit codes as every command: 0, 1 when some input
failed (the rest done), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from pathlib import Path

from seqrec.pipelines.cli.errors import EXIT_OK, EXIT_SOME_FAILED, UsageError, report
from seqrec.pipelines.cli.options import WORDS_HELP, add_runtime_options, read_word_list
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.native_logs import native_stderr_silenced
from seqrec.pipelines.core.output_formats import JsonArrayWriter, escaped, write_jsonl_line
from seqrec.pipelines.core.stage import unexpected_error
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL, NO_LABEL

FILE_FORMATS = ("txt", "json", "jsonl")
LIVE_FORMATS = ("txt", "jsonl")
# One window at a time through a small LSTM: a second thread only adds hand-over cost, and the
# landmarker and the frame reader need the cores (benchmarks/gesture_fps.py measures it).
NETWORK_THREADS = 1


def add_gestures_parser(commands) -> None:
    """Add the ``gestures`` command to the ``seqrec`` parser's subcommands."""
    p = commands.add_parser(
        "gestures",
        help="recognise hand gestures and signs in photos, videos, or live from a camera",
        description="Label hand gestures and signs from MediaPipe hand landmarks. PATH: one result per "
        "photo or video. --camera N: live, an event per label change, and a window where a display is "
        "available (q or Esc quits).",
    )
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="images, videos, or folders of them (searched recursively)"
    )
    p.add_argument(
        "--model",
        default=DEFAULT_GESTURE_MODEL,
        metavar="NAME|PATH",
        help=f"bundled model name or bundle folder (default: {DEFAULT_GESTURE_MODEL})",
    )
    p.add_argument(
        "--format",
        choices=FILE_FORMATS,
        help="files: txt (default), json or jsonl; live: jsonl (default) or txt",
    )
    p.add_argument(
        "--flip",
        action="store_true",
        help="mirror the pictures first (a camera that shows you as in a mirror)",
    )
    p.add_argument(
        "--words",
        metavar="LIST",
        help=f"a model that spells (sign-letters-ctc): read only these words, {WORDS_HELP}",
    )
    add_runtime_options(p)
    live = p.add_argument_group(
        "live", "instead of PATH: label changes as they happen, keeping up with the camera"
    )
    live.add_argument("--camera", type=int, metavar="N", help="the camera with this index (0: the first)")
    live.add_argument(
        "--stream-file", metavar="FILE", help="a video played in real time through the camera's code path"
    )
    live.add_argument(
        "--window",
        action=argparse.BooleanOptionalAction,
        help="show the frames with hands, labels, history and frame rate "
        "(default: when a display is available)",
    )
    still = p.add_argument_group("still of the live view")
    still.add_argument(
        "--overlay-png",
        metavar="OUT",
        help="with one video (or photo) PATH: save the frame at --overlay-at as the window draws it (PNG)",
    )
    still.add_argument(
        "--overlay-at", type=float, metavar="SECONDS", help="the frame for --overlay-png (default: the last)"
    )
    p.set_defaults(run=run_gestures)


def run_gestures(args: argparse.Namespace) -> int:
    """Run ``seqrec gestures``; returns the exit code."""
    _check_arguments(args)
    words = read_word_list(args.words) if args.words is not None else None
    from seqrec.features import ModelFileError
    from seqrec.pipelines.hands.recognizer import GestureRecognizer

    with native_stderr_silenced():
        try:
            recognizer = GestureRecognizer(
                args.model,
                args.device,
                flip=args.flip,
                runtime=args.runtime,
                threads=NETWORK_THREADS,
                words=words,
            )
            if "torch" in sys.modules:  # the torch runtime
                sys.modules["torch"].set_num_threads(NETWORK_THREADS)
        except ModelFileError as error:
            raise UsageError(str(error)) from None
        except ValueError as error:
            if words is None:
                raise
            raise UsageError(f"--words: {error}") from None  # a word the model cannot spell
        with recognizer:
            if args.overlay_png:
                return _save_overlay(args, recognizer.model, recognizer.landmarks)
            if args.paths:
                return _recognize_files(args, recognizer)
            return _recognize_live(args, recognizer.model, recognizer.landmarks)


def _check_arguments(args: argparse.Namespace) -> None:
    """Refuse contradictory arguments before anything loads (exit code 2, nothing done)."""
    live = args.camera is not None or args.stream_file is not None
    if sum([bool(args.paths), args.camera is not None, args.stream_file is not None]) != 1:
        raise UsageError("gestures: give PATH..., --camera N or --stream-file FILE (one of them)")
    if args.camera is not None and args.camera < 0:
        raise UsageError(f"--camera {args.camera}: a camera index is 0 or more")
    if live and args.format == "json":
        raise UsageError("--format json: live gestures print txt or jsonl, a line per label change")
    if not live and args.window is not None:
        raise UsageError("--window and --no-window go with --camera or --stream-file")
    if args.window:
        from seqrec.pipelines.hands.live import display_available  # loads torch: only for --window

        if not display_available():
            raise UsageError("--window: no display to open it on (DISPLAY is not set); use --no-window")
    if args.overlay_at is not None and not args.overlay_png:
        raise UsageError("--overlay-at goes with --overlay-png")
    if args.overlay_png:
        if live or len(args.paths) != 1 or Path(args.paths[0]).is_dir():
            raise UsageError("--overlay-png takes one PATH, a video (or a photo)")
        if args.overlay_at is not None and args.overlay_at < 0:
            raise UsageError("--overlay-at must be 0 or more seconds")


def _recognize_files(args: argparse.Namespace, recognizer) -> int:
    from seqrec.pipelines.hands.media import expand_media_inputs

    fmt = args.format or "txt"
    inputs = expand_media_inputs(args.paths)
    failed = 0
    # Each result is written as soon as it is done; json as an array that grows element by element.
    with JsonArrayWriter(sys.stdout) if fmt == "json" else contextlib.nullcontext() as array:
        for path, error in inputs:
            record = {"path": path, "error": error} if error else _recognized(recognizer, path)
            if "error" in record:
                failed += 1
                report(path, record["error"])
            if array is not None:
                array.write(record)
            elif fmt == "jsonl":
                write_jsonl_line(record, sys.stdout)
            elif "error" not in record:
                line = result_text(record)
                print(line if len(inputs) == 1 else f"{escaped(path)}\t{line}", flush=True)
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _recognized(recognizer, path: str) -> dict:
    """``recognizer.recognize(path)``; a surprise on this one file (a bug) is its error row alone."""
    try:
        return recognizer.recognize(path)
    except Exception as error:  # reported as a bug, the other files still done
        logging.getLogger("seqrec").debug("recognizing %r failed", path, exc_info=error)
        return {"path": path, "error": unexpected_error(error)}


def result_text(record: dict) -> str:
    """One readable line for a file's result: a photo's label and score (per head when there are
    several); a video's segments as ``label start-end s (score)``, or its CTC text."""
    if "segments" not in record:
        labels = record.get("labels") or {None: {"label": record["label"], "score": record["score"]}}
        return ", ".join(_labelled(head, value["label"], value["score"]) for head, value in labels.items())
    heads = {segment["head"] for segment in record["segments"]}
    parts = [
        _labelled(
            segment["head"] if len(heads) > 1 else None,
            segment["label"],
            segment["score"],
            f" {segment['start']:.2f}-{segment['end']:.2f} s",
        )
        for segment in record["segments"]
    ]
    if "text" in record:
        parts.insert(0, json.dumps(record["text"], ensure_ascii=False))
    return ", ".join(parts) or NO_LABEL


def _labelled(head: str | None, label: str, score: float, times: str = "") -> str:
    prefix = f"{head}: " if head else ""
    return f"{prefix}{label}{times}" if label == NO_LABEL else f"{prefix}{label}{times} ({score:.2f})"


def _recognize_live(args: argparse.Namespace, model, landmarks) -> int:
    from seqrec.features import FrameSource, InputError
    from seqrec.features.vision.frame_readers import paced
    from seqrec.pipelines.hands.live import GestureWindow, LiveGestures, display_available

    fmt = args.format or "jsonl"
    show_window = args.window if args.window is not None else display_available()
    source_name = f"camera {args.camera}" if args.camera is not None else args.stream_file

    def print_event(event: dict) -> None:
        if fmt == "jsonl":
            write_jsonl_line(event, sys.stdout)
        else:
            at = "" if event["time"] is None else f"{event['time']:.2f} s\t"
            print(
                at
                + _labelled(
                    event["head"] if len(model.classifier_heads) > 1 else None, event["label"], event["score"]
                ),
                flush=True,
            )

    live = LiveGestures(model, landmarks)
    try:
        with FrameSource(
            args.camera if args.camera is not None else args.stream_file, flip=args.flip
        ) as source:
            frames = source if args.camera is not None else paced(source)
            with (
                GestureWindow(f"seqrec gestures: {source_name}")
                if show_window
                else contextlib.nullcontext() as window
            ):
                stats = live.run(frames, on_event=print_event, show=window)
    except InputError as error:
        report(error)
        if fmt == "jsonl":
            write_jsonl_line({"path": source_name, "error": error.reason}, sys.stdout)
        return EXIT_SOME_FAILED
    report(
        source_name,
        f"{stats.processed} frames processed in {stats.seconds:.1f} s ({stats.fps:.1f} fps), "
        f"{stats.dropped} of {stats.read} dropped to keep up",
    )
    return EXIT_OK


def _save_overlay(args: argparse.Namespace, model, landmarks) -> int:
    import cv2

    from seqrec.features import FrameSource, InputError
    from seqrec.pipelines.hands.live import LiveGestures

    path = args.paths[0]
    try:
        with FrameSource(path, flip=args.flip) as source:
            picture = LiveGestures(model, landmarks).picture_at(source, args.overlay_at)
    except InputError as error:
        report(path, error.reason)
        return EXIT_SOME_FAILED
    if picture is None:
        report(path, f"no frame at or before {args.overlay_at:g} s")
        return EXIT_SOME_FAILED
    out = Path(args.overlay_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(out) as tmp:
        if not cv2.imwrite(str(tmp), picture, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise UsageError(f"--overlay-png {out}: cannot write a PNG there")
    print(out)
    return EXIT_OK
