"""The Ray engine of ``seqrec batch``: the same task on a Ray cluster, or on a local Ray started here.

Ray Data streams the items through ``map_batches`` with a pool of actors, each holding the task's
model (a :class:`TaskRunner`, as the local engine's workers do, so rows are the same). Items travel
as JSON, and rows come back as JSON plus their array as ``.npy`` bytes (features), so neither
depends on how Arrow would type a nested result. Needs the ``[ray]`` extra.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

from seqrec.pipelines.batch.inputs import BatchItem
from seqrec.pipelines.batch.tasks import BatchTask, TaskOptions, TaskRunner, decode_row, encode_row
from seqrec.pipelines.core.errors import ConfigError

# Batches waiting at each actor. Ray Data's default (2) left the actors idle between batches while
# the next one was scheduled: on 2 cores, 4 ran 694-764 items/s where 2 ran 620.
BATCHES_QUEUED_PER_ACTOR = 4


def import_ray():
    """The ``ray`` module with Ray Data, or a usage error saying how to install it."""
    try:
        import ray
        import ray.data  # Ray Data comes with the ray[data] extra, not with ray alone
    except ImportError:
        raise ConfigError("the ray engine needs Ray Data: pip install 'seqrec[ray]'") from None
    return ray


class TaskActor:
    """One Ray actor: the task's model, loaded once; a batch of items (as JSON) in, rows out."""

    def __init__(self, task: BatchTask, options: TaskOptions):
        self.runner = TaskRunner(task, options)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = self.runner([BatchItem.from_json(text) for text in batch["item"]])
        encoded = [encode_row(row) for row in rows]
        return {
            "row": np.array([text for text, _ in encoded], dtype=object),
            "array": np.array([array for _, array in encoded], dtype=object),
        }


def run_on_ray(
    task: BatchTask,
    options: TaskOptions,
    items: list[BatchItem],
    workers: int | None,
    batch_size: int,
    address: str | None,
) -> Iterator[list[dict]]:
    """Rows for ``items`` from a pool of ``workers`` actors, a batch at a time, as Ray Data streams them.

    Parameters
    ----------
    workers : actors in the pool, each using one CPU; None (with an address): one per CPU of the cluster
    address : a running cluster's address (``ray.init(address=...)``), whose nodes have seqrec
        installed; None starts a local Ray with just the CPUs the actors need and no dashboard
    """
    ray = import_ray()
    for name in ("ray", "ray.data"):  # Ray's start-up and plan messages are not the job's news
        logging.getLogger(name).setLevel(logging.WARNING)
    # Its warning that progress bars are off: they are off on purpose, the job draws its own.
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": False}
    if address is None:
        ray.init(num_cpus=workers, include_dashboard=False, **quiet)
    else:
        ray.init(address=address, **quiet)
    try:
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the job draws its own
        dataset = ray.data.from_items([{"item": item.to_json()} for item in items])
        results = dataset.map_batches(
            TaskActor,
            fn_constructor_args=(task, options),
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(
                size=workers, max_tasks_in_flight_per_actor=BATCHES_QUEUED_PER_ACTOR
            ),
            num_cpus=1,
        )
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            yield [decode_row(text, array) for text, array in zip(batch["row"], batch["array"], strict=True)]
    finally:
        ray.shutdown()
