"""``seqrec record LABEL``: record hand landmarks from a camera into a landmark dataset folder.

Each run adds one take with its label, so a few runs (one per gesture) build a dataset that a
hands recipe trains on (``data.train: [DIR]``). ``--video FILE`` plays a video file in real time
through the camera's code path instead.
"""

from __future__ import annotations

import argparse

from seqrec.pipelines.cli.errors import EXIT_OK, EXIT_SOME_FAILED, UsageError, report
from seqrec.pipelines.core.native_logs import native_stderr_silenced
from seqrec.pipelines.hands import NO_LABEL


def add_record_parser(commands) -> None:
    """Add the ``record`` command to the ``seqrec`` parser's subcommands."""
    p = commands.add_parser(
        "record",
        help="record hand landmarks (not video) from a camera into a dataset folder, with a label",
        description="Record SECONDS of hand landmarks from a camera and add them, labelled LABEL, to the "
        "landmark dataset in DIR (DIR/manifest.jsonl and DIR/landmarks/*.npz). Run once per take; a "
        "recipe trains on DIR.",
    )
    p.add_argument("label", metavar="LABEL", help="what the hands show in this take, e.g. Open")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--camera", type=int, metavar="N", help="the camera with this index (0: the first)")
    source.add_argument(
        "--video", metavar="FILE", help="a video file played in real time through the camera's code path"
    )
    p.add_argument(
        "--seconds", type=float, required=True, metavar="S", help="how long to record (from the first frame)"
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="the dataset folder (made if missing; takes are added)"
    )
    p.add_argument(
        "--flip", action="store_true", help="mirror the frames first (a camera that shows you as in a mirror)"
    )
    p.set_defaults(run=run_record)


def run_record(args: argparse.Namespace) -> int:
    """Run ``seqrec record``; returns the exit code."""
    label = args.label.strip()
    if not label:
        raise UsageError("record: LABEL is empty")
    if label == NO_LABEL:
        raise UsageError(
            f"record: the label {NO_LABEL!r} is what models say when no hand is in view; choose another"
        )
    if not args.seconds > 0:
        raise UsageError(f"--seconds {args.seconds:g}: give a positive duration")
    if args.camera is not None and args.camera < 0:
        raise UsageError(f"--camera {args.camera}: a camera index is 0 or more")

    from seqrec.features import FrameSource, HandLandmarker, InputError, ModelFileError
    from seqrec.features.vision.frame_readers import paced
    from seqrec.pipelines.hands.recording import append_take, record_take

    with native_stderr_silenced():
        try:
            landmarks = HandLandmarker()
        except ModelFileError as error:
            raise UsageError(str(error)) from None
        try:
            with (
                landmarks,
                FrameSource(args.camera if args.camera is not None else args.video, flip=args.flip) as source,
            ):
                if args.camera is not None:
                    report(f"recording {label!r} for {args.seconds:g} s from {source.name}")
                frames = source if args.camera is not None else paced(source)
                take = record_take(frames, args.seconds, landmarks, source=source.name)
        except InputError as error:
            report(f"{error}; nothing recorded")
            return EXIT_SOME_FAILED
    seen = int(take.sequence.present.any(axis=1).sum())
    if not seen:
        report(source.name, f"no hand in view in {len(take.sequence)} frames; nothing recorded")
        return EXIT_SOME_FAILED
    landmark_file = append_take(args.out, take, label)
    print(
        f"{landmark_file}\t{label}\t{len(take.sequence)} frames, {take.seconds:.2f} s, "
        f"a hand in {seen}, {take.dropped} dropped to keep up"
    )
    return EXIT_OK
