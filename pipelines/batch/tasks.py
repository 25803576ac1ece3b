"""The tasks ``seqrec batch`` runs, in a small registry.

A task is a loader, called once in each worker process (it loads the model and returns a function
from a list of items to one dict of result fields per item), plus what it reads, how its options
are checked before any work starts, and which figures it adds to the job's summary. Adding a task
is one decorated loader:

    @register_task("transcribe", reads=("audio",), prepare=_prepare_transcribe, metrics=word_error_metrics)
    def load_transcriber(options): ...

Every engine runs a task through :class:`TaskRunner`, so rows are the same whichever ran them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from seqrec.models import DEFAULT_SPEECH_MODEL, normalize_text, read_bundle_config
from seqrec.pipelines.batch.inputs import BatchItem
from seqrec.pipelines.core.errors import ConfigError

# The field of a result that holds an array rather than JSON: the features task's output.
ARRAY_FIELD = "features"
THREADS_PER_WORKER = 1
# Features are stored at half precision: training reads them back as float32 from a float16 cache anyway.
FEATURE_DTYPE = "float16"  # a numpy dtype name: numpy is imported where arrays are made


@dataclass(frozen=True)
class TaskOptions:
    """What a task's loader needs; sent to every worker, so plain values only.

    ``model`` None means the task's default; ``features`` (a SpectralConfig as a dict) is filled
    in by the features task's ``prepare`` from ``recipe`` or the model's bundle.
    """

    model: str | None = None
    recipe: str | None = None
    device: str | None = None
    batch_size: int = 32
    features: dict | None = None
    runtime: str | None = None  # "onnx", "torch", or None for the model loader's choice
    threads: int | None = None  # per worker: set by the runner


ItemsFunction = Callable[[list[BatchItem]], list[dict]]


@dataclass(frozen=True)
class BatchTask:
    """A task. ``load`` runs once per worker; ``prepare`` once per job, before any work, raising
    ``ConfigError`` (or ``BundleError``) for options that cannot work and filling in defaults.
    Workers receive the task itself, so its functions are module-level (picklable by name)."""

    name: str
    reads: tuple[str, ...]
    load: Callable[[TaskOptions], ItemsFunction]
    prepare: Callable[[TaskOptions], TaskOptions]
    metrics: Callable[[list[dict], TaskOptions], dict] | None = None
    writes_features: bool = False


TASKS: dict[str, BatchTask] = {}


def no_preparation(options: TaskOptions) -> TaskOptions:
    return options


def register_task(
    name: str,
    reads: tuple[str, ...],
    prepare: Callable[[TaskOptions], TaskOptions] = no_preparation,
    metrics: Callable[[list[dict], TaskOptions], dict] | None = None,
    writes_features: bool = False,
):
    """Register the decorated loader as task ``name`` (see the module's docstring)."""

    def add(load: Callable[[TaskOptions], ItemsFunction]) -> Callable[[TaskOptions], ItemsFunction]:
        TASKS[name] = BatchTask(name, reads, load, prepare, metrics, writes_features)
        return load

    return add


def get_task(name: str) -> BatchTask:
    if name not in TASKS:
        raise ConfigError(f"batch {name}: no such task (tasks: {', '.join(sorted(TASKS))})")
    return TASKS[name]


class TaskRunner:
    """A task loaded in one worker: items in, one result row per item out, never raising for an item.

    Rows are ``{"id", "path", ...task fields..., "reference"?, "seconds"}`` or ``{"id", "path",
    "error"}``; ``seconds`` is the item's share of its batch's time. An unexpected exception in a
    batch is retried item by item, so it costs only the item that raised it an error row.
    """

    def __init__(self, task: BatchTask, options: TaskOptions):
        from threadpoolctl import threadpool_limits

        # Workers are the parallelism: each keeps to one thread (BLAS, OpenMP, torch, onnxruntime).
        # Measured on 2 busy cores, one worker with 2 torch threads ran 5 items/s, with 1 thread 340:
        # threads that spin-wait for each other lose to whatever else runs on the machine.
        self.run_items = task.load(dataclasses.replace(options, threads=THREADS_PER_WORKER))
        if "torch" in sys.modules:  # the torch runtime, or a task that trains: only then
            sys.modules["torch"].set_num_threads(THREADS_PER_WORKER)
        self._limits = threadpool_limits(THREADS_PER_WORKER)

    def __call__(self, items: list[BatchItem]) -> list[dict]:
        started = time.perf_counter()
        try:
            results = self.run_items(items)
        except Exception as error:  # noqa: BLE001 - one bad input must not stop the batch
            # A bug or a library's surprise on one input: not the job's end.
            if len(items) > 1:
                return [row for item in items for row in self([item])]
            results = [{"error": f"unexpected {type(error).__name__}: {' '.join(str(error).split())}"}]
        seconds = (time.perf_counter() - started) / max(1, len(items))
        return [result_row(item, fields, seconds) for item, fields in zip(items, results, strict=False)]


def result_row(item: BatchItem, fields: dict, seconds: float) -> dict:
    """The public shape of one result: id and path first, then the task's fields or the error."""
    if "error" in fields:
        return {"id": item.id, "path": item.path, "error": fields["error"]}
    row = {"id": item.id, "path": item.path, **fields}
    if item.reference is not None:
        row["reference"] = item.reference
    row["seconds"] = round(seconds, 5)
    return row


def encode_row(row: dict) -> tuple[str, bytes]:
    """A row as JSON plus its array (``.npy`` bytes, empty when none), for engines that ship rows
    between processes as data."""
    if ARRAY_FIELD not in row:
        return json.dumps(row, ensure_ascii=False), b""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, row[ARRAY_FIELD], allow_pickle=False)
    return json.dumps(
        {k: v for k, v in row.items() if k != ARRAY_FIELD}, ensure_ascii=False
    ), buffer.getvalue()


def decode_row(text: str, array: bytes) -> dict:
    row = json.loads(text)
    if array:
        import numpy as np

        row[ARRAY_FIELD] = np.load(io.BytesIO(array), allow_pickle=False)
    return row


# -- transcribe -------------------------------------------------------------------------------------


def _prepare_model_task(
    options: TaskOptions, default_model: str, misfit: Callable[[dict], str | None]
) -> TaskOptions:
    """Options for a task that runs a model: ``default_model`` unless one is given, checked by
    ``misfit`` (why its config does not suit the task, or None) before any worker starts."""
    model = options.model or default_model
    config = read_bundle_config(model)  # a missing or broken bundle is a usage error now, not in every worker
    reason = misfit(config)
    if reason:
        raise ConfigError(f"model {model}: {reason}")
    if options.recipe is not None:
        raise ConfigError("a recipe goes with the features task")
    return dataclasses.replace(options, model=model)


def _prepare_transcribe(options: TaskOptions) -> TaskOptions:
    return _prepare_model_task(
        options,
        DEFAULT_SPEECH_MODEL,
        lambda config: (
            None
            if config.get("modality") == "speech"
            else f"a {config.get('modality')} model; transcribe needs a speech model"
        ),
    )


def word_error_metrics(rows: list[dict], options: TaskOptions) -> dict:
    """WER and CER over the rows with a reference, scored as ``seqrec evaluate`` scores them.

    A closed-vocabulary model's references keep only its words; a reference left empty (speech
    outside the vocabulary) counts towards ``false_accept_rate`` instead.
    """
    from seqrec.pipelines.core.metrics import closed_vocabulary_rates
    from seqrec.pipelines.speech.scoring import keep_vocabulary

    vocabulary = tuple(read_bundle_config(options.model).get("vocabulary") or ())
    pairs = []
    for row in rows:
        if "reference" in row and "error" not in row:
            reference = normalize_text(row["reference"])
            pairs.append((keep_vocabulary(reference, vocabulary) if vocabulary else reference, row["text"]))
    if not pairs:
        return {}
    return closed_vocabulary_rates([reference for reference, _ in pairs], [text for _, text in pairs])


@register_task("transcribe", reads=("audio",), prepare=_prepare_transcribe, metrics=word_error_metrics)
def load_transcriber(options: TaskOptions) -> ItemsFunction:
    """The speech model, once: items -> ``text``, ``score``, ``duration``, ``words``."""
    from seqrec.pipelines.speech.transcriber import Transcriber

    transcriber = Transcriber(
        options.model,
        options.device,
        batch_size=options.batch_size,
        runtime=options.runtime,
        threads=options.threads,
    )

    def transcribe_items(items: list[BatchItem]) -> list[dict]:
        records = transcriber.transcribe_paths(item.path for item in items)
        return [{key: value for key, value in record.items() if key != "path"} for record in records]

    return transcribe_items


# -- features -----------------------------------------------------------------------------------------


def _prepare_features(options: TaskOptions) -> TaskOptions:
    from seqrec.features import SpectralConfig
    from seqrec.pipelines.core.config import from_dict, read_recipe_mapping

    if options.recipe is not None and options.model is not None:
        raise ConfigError("features: give a model or a recipe (whose feature settings to use), not both")
    if options.recipe is not None:
        # Only the recipe's feature settings are wanted: read them without the training modules.
        data, source = read_recipe_mapping(options.recipe)
        if data.get("modality", "speech") not in ("speech", "audio"):
            raise ConfigError(f"recipe {source}: not a speech recipe; batch features computes audio features")
        config = from_dict(SpectralConfig, data.get("features") or {}, f"{source}: features")
    else:
        model = options.model or DEFAULT_SPEECH_MODEL
        settings = read_bundle_config(model)
        if settings.get("modality") != "speech":
            modality = settings.get("modality")
            raise ConfigError(f"model {model}: a {modality} model; batch features computes audio features")
        config = SpectralConfig(**settings["features"])
    return dataclasses.replace(options, features=config.to_dict())


@register_task("features", reads=("audio",), prepare=_prepare_features, writes_features=True)
def load_feature_extractor(options: TaskOptions) -> ItemsFunction:
    """Audio -> spectral features [T, D] (float16), ``frames`` and ``duration``: exactly what training
    computes from audio."""
    from seqrec.features import SpectralConfig
    from seqrec.pipelines.core.stage import Pipeline
    from seqrec.pipelines.speech.stages import LoadAudio, SpectralFeatures

    config = SpectralConfig(**options.features)
    pipeline = Pipeline([("load", LoadAudio(config.sample_rate)), ("features", SpectralFeatures(config))])

    def extract(items: list[BatchItem]) -> list[dict]:
        results = []
        for sample in pipeline.run_batch([{"path": item.path} for item in items]):
            if "error" in sample:
                results.append({"error": sample["error"]})
            else:
                features = sample["features"].astype(FEATURE_DTYPE)
                results.append(
                    {ARRAY_FIELD: features, "frames": len(features), "duration": sample["duration"]}
                )
        return results

    return extract


# -- gestures -----------------------------------------------------------------------------------------


def label_accuracy(rows: list[dict], options: TaskOptions) -> dict:
    """Share of the rows with a reference whose ``label`` equals it."""
    scored = [row for row in rows if "reference" in row and "error" not in row]
    if not scored:
        return {}
    return {
        "accuracy": sum(row["label"] == row["reference"] for row in scored) / len(scored),
        "references": len(scored),
    }


def _prepare_gestures(options: TaskOptions) -> TaskOptions:
    from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL

    return _prepare_model_task(
        options,
        DEFAULT_GESTURE_MODEL,
        lambda config: (
            None
            if config.get("modality") == "hands"
            else f"a {config.get('modality')} model; gestures needs a hands model"
        ),
    )


@register_task(
    "gestures", reads=("video", "image", "landmarks"), prepare=_prepare_gestures, metrics=label_accuracy
)
def load_gesture_recognizer(options: TaskOptions) -> ItemsFunction:
    """The hands model and MediaPipe's landmarker, once: a photo -> ``label``, ``score``, ``hands``;
    a video -> ``segments`` (and a CTC model's ``text``, ``symbols``); a landmark file (a Kaggle
    parquet sequence) -> one ``label`` and ``score`` for the whole sequence, or ``text``."""
    from seqrec.pipelines.hands.recognizer import GestureRecognizer

    recognizer = GestureRecognizer(
        options.model, options.device, runtime=options.runtime, threads=options.threads
    )

    def recognize_items(items: list[BatchItem]) -> list[dict]:
        records = (
            recognizer.recognize_landmark_file(item.path, item.sequence_id)
            if item.media == "landmarks"
            else recognizer.recognize(item.path)
            for item in items
        )
        return [{key: value for key, value in record.items() if key != "path"} for record in records]

    return recognize_items
