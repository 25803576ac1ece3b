"""Batch jobs: one task over many inputs, resumable, on a pool of worker processes or on Ray.

    summary = run_job(BatchJob("transcribe", "data/test.jsonl", "out/test.jsonl", workers=2))

Each worker loads the task's model once and takes the inputs a batch at a time. The output is
append-only (a JSON-Lines file flushed row by row, or a features folder written shard by shard),
so rerunning a job that crashed or was killed skips the ids already written and does the rest:
every input appears exactly once. The summary (counts, failures, throughput, and WER/CER or
accuracy where the input has references) goes to stderr and to ``OUT.summary.json``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seqrec.pipelines.batch.inputs import BatchItem, read_inputs
from seqrec.pipelines.batch.tasks import BatchTask, TaskOptions, TaskRunner, get_task
from seqrec.pipelines.core.errors import ConfigError, report_line
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.result_log import ResultLog

if TYPE_CHECKING:
    from seqrec.pipelines.core.feature_shards import FeatureShards

ENGINES = ("local", "ray")
# Batches queued per worker: enough that a worker never waits for the next, few enough that a
# Ctrl-C or a crash leaves little work in flight.
BATCHES_IN_FLIGHT_PER_WORKER = 2
# The summary lists this many failures by name; ``failed`` counts them all.
MAX_FAILURES_LISTED = 100
# A pool whose workers die this many times in a row before finishing one batch is not the fault of
# some inputs: the job stops.
MAX_POOLS_WITHOUT_RESULTS = 5


def available_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class BatchJob:
    """One ``seqrec batch`` command. ``workers`` None: the cores here (local), or the cluster's CPUs (Ray)."""

    task: str
    input: str
    output: str
    options: TaskOptions = field(default_factory=TaskOptions)
    workers: int | None = None
    engine: str = "local"
    ray_address: str | None = None
    retry_errors: bool = False
    quiet: bool = False

    @property
    def summary_path(self) -> Path:
        return Path(str(self.output).rstrip("/\\") + ".summary.json")


def run_job(job: BatchJob) -> dict:
    """Run ``job`` to the end and return its summary (also written to ``job.summary_path``).

    Everything that can be checked is checked before any work starts: the task and its model,
    the input (a malformed manifest line names its number), the engine, and that the output can
    be written. Those raise ``ConfigError`` (or ``BundleError``); a failed input is a row with
    ``error``, never an exception.
    """
    started = time.perf_counter()
    task = get_task(job.task)
    if job.engine not in ENGINES:
        raise ConfigError(f"engine {job.engine!r}: choose {' or '.join(ENGINES)}")
    if job.workers is not None and job.workers < 1:
        raise ConfigError("workers must be at least 1")
    if job.options.batch_size < 1:
        raise ConfigError("batch_size must be at least 1")
    # This machine's cores by default; on a Ray cluster, one actor per CPU it has (known once connected).
    workers = job.workers or (None if job.ray_address else available_cores())
    options = task.prepare(job.options)
    items = read_inputs(job.input, task.reads)
    if not any(item.media in task.reads for item in items):
        kinds = ", ".join(sorted({item.media for item in items}))
        raise ConfigError(
            f"{job.input}: batch {task.name} reads {' or '.join(task.reads)}; this input lists {kinds}"
        )
    if job.engine == "ray":
        from seqrec.pipelines.batch.ray_engine import import_ray

        import_ray()  # the extra is missing: say so now, not after the output is opened
    elif job.ray_address is not None:
        raise ConfigError("a Ray address goes with the ray engine")

    if task.writes_features:
        from seqrec.pipelines.core.feature_shards import FeatureShards  # numpy: only for features

        output = FeatureShards(job.output, options.features, job.retry_errors)
    else:
        output = ResultLog(job.output, job.retry_errors)
    with output:
        done = output.rows
        done_before = sum(item.id in done for item in items)
        pending = [item for item in items if item.id not in done]
        clock = _Clock(started)
        with _Progress(job, len(items), done_before) as progress:
            wrong_media = [_wrong_media_row(task, item) for item in pending if item.media not in task.reads]
            _write_rows(output, wrong_media, progress)
            runnable = [item for item in pending if item.media in task.reads]
            for rows in _run_engine(job, task, options, runnable, workers):
                _write_rows(output, rows, progress)
                clock.add(rows)
    summary = summarize(job, task, options, workers, items, output.rows, done_before, output.repaired, clock)
    with replaced_atomically(job.summary_path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(summary_text(summary, job.summary_path), file=sys.stderr)
    return summary


def _run_engine(
    job: BatchJob, task: BatchTask, options: TaskOptions, items: list[BatchItem], workers: int | None
) -> Iterator[list[dict]]:
    if not items:
        return iter(())
    if job.engine == "ray":
        from seqrec.pipelines.batch.ray_engine import run_on_ray

        return run_on_ray(task, options, items, workers, options.batch_size, job.ray_address)
    return run_local(task, options, items, workers, options.batch_size)


def _write_rows(output: ResultLog | FeatureShards, rows: list[dict], progress: _Progress) -> None:
    for row in rows:
        output.write(row)
        if "error" in row:
            progress.report_failure(row)
    progress.update(len(rows))


def _wrong_media_row(task: BatchTask, item: BatchItem) -> dict:
    return {
        "id": item.id,
        "path": item.path,
        "error": f"batch {task.name} reads {' or '.join(task.reads)}, not {item.media}",
    }


class _Progress:
    """A progress bar with rate and ETA on a terminal; nothing with ``--quiet`` (or off a terminal)."""

    def __init__(self, job: BatchJob, total: int, done_before: int):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            initial=done_before,
            unit="item",
            desc=f"batch {job.task}",
            file=sys.stderr,
            disable=True if job.quiet else None,
            smoothing=0.05,
            dynamic_ncols=True,
        )
        self.quiet = job.quiet

    def update(self, n: int) -> None:
        self.bar.update(n)

    def report_failure(self, row: dict) -> None:
        """One line per failed input, above the bar, as ``seqrec transcribe`` reports them."""
        if not self.quiet:
            self.bar.write(report_line(row["path"], row["error"]), file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()


# -- the local engine: a pool of worker processes ------------------------------------------------

_runner: TaskRunner | None = None
_startup_error: BaseException | None = None


def _start_worker(task: BatchTask, options: TaskOptions) -> None:
    """In each worker process, once: load the task's model."""
    global _runner, _startup_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the job's to handle: it stops the pool
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        _runner = TaskRunner(task, options)
    except Exception as error:  # noqa: BLE001 - kept for the job to report, not swallowed
        # Raised again with the first batch, in the job's process, where it can be reported.
        _startup_error = error


def _exit_with_parent(parent: int) -> None:
    """Stop this worker within a second of its job's end: after a kill -9 no one is left to tell it."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _run_batch(items: list[BatchItem]) -> list[dict]:
    if _runner is None:
        raise _startup_error
    return _runner(items)


def run_local(
    task: BatchTask, options: TaskOptions, items: list[BatchItem], workers: int, batch_size: int
) -> Iterator[list[dict]]:
    """Rows for ``items`` from ``workers`` processes, a batch at a time, as batches finish.

    A worker that dies (a crash in a decoder, the kernel's OOM killer) takes its batches with it:
    the pool is started again and those items are run alone, one at a time, until the one that
    kills a worker is found; it gets an error row and the rest run as usual.
    """
    batches = deque(items[start : start + batch_size] for start in range(0, len(items), batch_size))
    suspects: deque[BatchItem] = deque()
    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools: unsafe
    pools_without_results = 0
    while batches or suspects:
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(task, options)
        )
        died: list[dict] = []
        results = 0
        try:
            for rows in _run_pool(pool, batches, suspects, workers, died):
                results += 1
                yield rows
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if died:
            yield died
        pools_without_results = 0 if results else pools_without_results + 1
        if pools_without_results == MAX_POOLS_WITHOUT_RESULTS:
            raise RuntimeError(
                f"the worker processes died {pools_without_results} times before finishing a batch; "
                "see the errors above"
            )


def _run_pool(
    pool: ProcessPoolExecutor, batches: deque, suspects: deque, workers: int, died: list[dict]
) -> Iterator[list[dict]]:
    """Run batches (or, after a worker died, the suspects one by one) until done or the pool breaks.

    When it breaks, the items it was running become suspects, or, for an item that ran alone, an
    error row in ``died``.
    """
    in_flight: dict[Future, list[BatchItem]] = {}
    while batches or suspects or in_flight:
        if suspects:
            if not in_flight:  # a suspect runs alone, so a worker that dies names it
                item = suspects.popleft()
                in_flight[pool.submit(_run_batch, [item])] = [item]
        else:
            while batches and len(in_flight) < BATCHES_IN_FLIGHT_PER_WORKER * workers:
                batch = batches.popleft()
                in_flight[pool.submit(_run_batch, batch)] = batch
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        # Batches that finished are kept even when another one broke the pool at the same time.
        for future in sorted(done, key=lambda future: isinstance(future.exception(), BrokenProcessPool)):
            if isinstance(future.exception(), BrokenProcessPool):
                lost = list(in_flight.values())
                if len(lost) == 1 and len(lost[0]) == 1:
                    item = lost[0][0]
                    died.append(
                        {
                            "id": item.id,
                            "path": item.path,
                            "error": "the worker process died while reading this input",
                        }
                    )
                else:
                    suspects.extend(item for batch in lost for item in batch)
                return
            yield future.result()
            del in_flight[future]


# -- the summary -----------------------------------------------------------------------------


class _Clock:
    """When rows arrived: start-up is the time to the first batch, steady state the rate after it."""

    def __init__(self, started: float):
        self.started = started
        self.first: float | None = None
        self.last: float | None = None
        self.rows = self.steady_rows = 0
        self.audio_seconds = self.steady_audio_seconds = 0.0

    def add(self, rows: list[dict]) -> None:
        now = time.perf_counter()
        audio = sum(row.get("duration", 0.0) for row in rows if "error" not in row)
        if self.first is None:
            self.first = now
        else:
            self.steady_rows += len(rows)
            self.steady_audio_seconds += audio
        self.last = now
        self.rows += len(rows)
        self.audio_seconds += audio

    def figures(self) -> dict:
        seconds = time.perf_counter() - self.started
        figures = {"seconds": round(seconds, 3)}
        if self.first is None:
            return figures
        figures["startup_seconds"] = round(self.first - self.started, 3)
        figures["items_per_second"] = round(self.rows / seconds, 2)
        if self.audio_seconds:
            figures["x_real_time"] = round(self.audio_seconds / seconds, 1)
        steady = self.last - self.first
        if self.steady_rows and steady > 0:
            figures["steady_seconds"] = round(steady, 3)
            figures["steady_items_per_second"] = round(self.steady_rows / steady, 2)
            if self.steady_audio_seconds:
                figures["steady_x_real_time"] = round(self.steady_audio_seconds / steady, 1)
        return figures


def summarize(
    job: BatchJob,
    task: BatchTask,
    options: TaskOptions,
    workers: int | None,
    items: list[BatchItem],
    rows_by_id: dict[str, dict],
    done_before: int,
    repaired: bool,
    clock: _Clock,
) -> dict:
    """Counts over every input (this run's rows and earlier runs'), this run's timing, the task's metrics."""
    rows = [rows_by_id[item.id] for item in items]
    failures = [
        {"id": row["id"], "path": row["path"], "error": row["error"]} for row in rows if "error" in row
    ]
    return {
        "task": job.task,
        "input": str(job.input),
        "output": str(job.output),
        "engine": job.engine,
        "workers": workers,
        "items": len(items),
        "succeeded": len(rows) - len(failures),
        "failed": len(failures),
        "done_before": done_before,
        "processed": len(items) - done_before,
        "repaired_torn_line": repaired,
        "timing": clock.figures(),
        "metrics": task.metrics(rows, options) if task.metrics else {},
        "failures": failures[:MAX_FAILURES_LISTED],
    }


def summary_text(summary: dict, path: Path) -> str:
    """The summary in a few lines for stderr."""
    lines = [
        (
            f"seqrec batch {summary['task']}: {summary['items']} inputs, "
            f"{summary['succeeded']} ok, {summary['failed']} failed"
            f" ({summary['processed']} run now, {summary['done_before']} done before)"
        )
    ]
    timing = summary["timing"]
    if "startup_seconds" in timing:
        line = f"  {timing['seconds']:.1f} s: start-up {timing['startup_seconds']:.1f} s"
        if "steady_items_per_second" in timing:
            line += f", then {timing['steady_items_per_second']:.1f} inputs/s"
            if "steady_x_real_time" in timing:
                line += f" ({timing['steady_x_real_time']:.0f}x real time)"
        lines.append(line)
    metrics = summary["metrics"]
    if "wer" in metrics:
        lines.append(
            f"  WER {metrics['wer']:.2%}, CER {metrics['cer']:.2%} over {metrics['utterances']} references"
        )
    if "accuracy" in metrics:
        lines.append(f"  accuracy {metrics['accuracy']:.2%} over {metrics['references']} references")
    lines.append(f"  summary: {path}")
    return "\n".join(lines)
