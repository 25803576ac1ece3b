"""``seqrec batch TASK --input PATH --output OUT``: the command line of :mod:`seqrec.pipelines.batch.job`."""

from __future__ import annotations

import argparse

from seqrec.pipelines.batch.job import ENGINES, BatchJob, run_job
from seqrec.pipelines.batch.tasks import TASKS, TaskOptions
from seqrec.pipelines.cli.options import add_runtime_options


def add_batch_parser(commands) -> None:
    """Add the ``batch`` command to the ``seqrec`` parser's subcommands."""
    p = commands.add_parser(
        "batch",
        help="run a task over many inputs, resumably (transcribe, features, gestures)",
        description="Run TASK over every input of PATH. Rerunning the same command after a crash or a "
        "kill skips the inputs already in OUT and does the rest. Exit code 0: all succeeded; 1: some "
        "failed; 2: usage error.",
    )
    p.add_argument("task", choices=sorted(TASKS), metavar="TASK", help=f"one of: {', '.join(sorted(TASKS))}")
    p.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help="a JSON-Lines manifest, a folder (searched recursively), a LibriSpeech-style tree, a Kaggle "
        "ISLR or ASL-Fingerspelling CSV, or one file",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="OUT",
        help="a JSON-Lines file (transcribe, gestures) or a folder (features)",
    )
    p.add_argument(
        "--model", metavar="NAME|PATH", help="bundled model name or bundle folder (default: the task's)"
    )
    p.add_argument(
        "--recipe",
        metavar="NAME|PATH",
        help="features: take the feature settings from this recipe, not a model",
    )
    _add_execution_options(p)
    p.set_defaults(run=run_batch)


def _add_execution_options(p: argparse.ArgumentParser) -> None:
    """How the job runs: processes or Ray, batch size, device, retries and output on stderr."""
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes (or Ray actors), each loading the model once (default: the cores)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local processes (default) or Ray (the [ray] extra)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --engine ray: a running cluster (default: start a local Ray)",
    )
    p.add_argument(
        "--retry-errors",
        action="store_true",
        help="run again the inputs that failed before (default: skip them too)",
    )
    p.add_argument(
        "--batch-size", type=int, default=32, help="inputs a worker takes and runs through the model together"
    )
    add_runtime_options(p)
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no line per failed input; the summary still prints",
    )


def run_batch(args: argparse.Namespace) -> int:
    """Run the job the arguments describe; its exit code (0, or 1 when some input failed)."""
    from seqrec.pipelines.cli.errors import EXIT_OK, EXIT_SOME_FAILED, UsageError

    # The library checks these too, in its own terms; here the user hears of the flags.
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if args.ray_address is not None and args.engine != "ray":
        raise UsageError("--ray-address goes with --engine ray")
    options = TaskOptions(
        model=args.model,
        recipe=args.recipe,
        device=args.device,
        batch_size=args.batch_size,
        runtime=args.runtime,
    )
    job = BatchJob(
        args.task,
        args.input,
        args.output,
        options,
        args.workers,
        args.engine,
        args.ray_address,
        args.retry_errors,
        args.quiet,
    )
    summary = run_job(job)
    return EXIT_SOME_FAILED if summary["failed"] else EXIT_OK
