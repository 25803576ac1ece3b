"""``seqrec record LABEL...``: record hand landmarks from a camera into a landmark dataset folder.

Each label is one take, so one run with several labels (``seqrec record {A..Z} ...``: a prompt per
label, a pause to get ready, then the take) or a few runs build a dataset that a hands recipe
trains on (``data.train: [DIR]``), or that fine-tunes a shipped model to one person's hand.
``--video FILE`` plays a video file in real time through the camera's code path instead.
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
        help="record hand landmarks (not video) from a camera into a dataset folder, with labels",
        description="Record SECONDS of hand landmarks from a camera per LABEL and add each take, labelled, "
        "to the landmark dataset in DIR (DIR/manifest.jsonl and DIR/landmarks/*.npz). With several labels, "
        "each is prompted and recorded after a pause to get ready. A recipe trains on DIR.",
    )
    p.add_argument(
        "labels",
        nargs="+",
        metavar="LABEL",
        help="what the hands show in each take, in order, e.g. Open, or A B C ... for letters",
    )
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
        "--pause",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds to get ready before each take when there are several labels (default 2)",
    )
    p.add_argument(
        "--flip", action="store_true", help="mirror the frames first (a camera that shows you as in a mirror)"
    )
    p.set_defaults(run=run_record)


def run_record(args: argparse.Namespace) -> int:
    """Run ``seqrec record``; returns the exit code."""
    labels = [label.strip() for label in args.labels]
    if not all(labels):
        raise UsageError("record: a LABEL is empty")
    if NO_LABEL in labels:
        raise UsageError(
            f"record: the label {NO_LABEL!r} is what models say when no hand is in view; choose another"
        )
    if not args.seconds > 0:
        raise UsageError(f"--seconds {args.seconds:g}: give a positive duration")
    if not args.pause >= 0:
        raise UsageError(f"--pause {args.pause:g}: give 0 or more seconds")
    if args.camera is not None and args.camera < 0:
        raise UsageError(f"--camera {args.camera}: a camera index is 0 or more")

    from seqrec.features import FrameSource, HandLandmarker, InputError, ModelFileError
    from seqrec.features.vision.frame_readers import paced
    from seqrec.pipelines.hands.recording import append_take, record_take, skip_seconds

    kept = failed = 0
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
                frames = iter(source if args.camera is not None else paced(source))
                for label in labels:
                    if len(labels) > 1 and args.pause > 0:
                        report(f"{label}: get ready ({args.pause:g} s)")
                        skip_seconds(frames, args.pause)
                    if args.camera is not None or len(labels) > 1:
                        report(f"{label}: recording {args.seconds:g} s from {source.name}")
                    take = record_take(frames, args.seconds, landmarks, source=source.name)
                    if _keep(take, label, args.out, source.name, append_take):
                        kept += 1
                    else:
                        failed += 1
        except InputError as error:
            report(f"{error}; " + (f"the {kept} takes before it are kept" if kept else "nothing recorded"))
            return EXIT_SOME_FAILED
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _keep(take, label: str, out: str, source_name: str, append_take) -> bool:
    """Add a take with a hand in view to the dataset and print its line; say why not otherwise."""
    seen = int(take.sequence.present.any(axis=1).sum())
    if not seen:
        report(source_name, f"no hand in view in {len(take.sequence)} frames; {label!r} not recorded")
        return False
    landmark_file = append_take(out, take, label)
    print(
        f"{landmark_file}\t{label}\t{len(take.sequence)} frames, {take.seconds:.2f} s, "
        f"a hand in {seen}, {take.dropped} dropped to keep up",
        flush=True,
    )
    return True
