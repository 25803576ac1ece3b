"""Stages and pipelines: named steps that each read some fields of a sample and add others.

A sample is a dict with an ``id``; a stage that fails on one input records ``error`` on that
sample (a one-line reason, without the path the sample already carries) and later stages pass it
by, so one bad file never stops a batch. A stage that raises anything else on one input (a bug, or
a library's surprise) costs that input alone an ``unexpected ...`` error: the traceback goes to the
``seqrec`` logger at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from seqrec.features import InputError

PASSTHROUGH = "passthrough"

logger = logging.getLogger(__name__)


class MissingFieldError(KeyError):
    """A stage got a sample without a field it needs: a wiring mistake, not a user's bad input."""

    def __init__(self, stage: str, field: str):
        super().__init__(f"stage {stage!r} needs field {field!r}, which no earlier stage provides")
        self.stage, self.field = stage, field

    def __str__(self) -> str:
        return self.args[0]


class Stage:
    """One step. Subclasses set ``requires``/``provides`` and implement :meth:`process`.

    ``process_batch`` defaults to one item at a time; model stages override it to pad and batch.
    A stage never knows which executor runs it.
    """

    requires: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()

    def process(self, sample: dict) -> dict:
        raise NotImplementedError

    def process_batch(self, samples: list[dict]) -> list[dict]:
        return [_process_one(self.process, sample) for sample in samples]


class Pipeline:
    """Named stages run in order, like scikit-learn's ``Pipeline``.

    >>> asr = Pipeline([("load", LoadAudio(16_000)), ("features", SpectralFeatures(cfg)), ("recognize", rec)])
    >>> asr[:"features"]       # the feature part alone
    """

    def __init__(self, steps: list[tuple[str, Stage | str]]):
        names = [name for name, _ in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique: {names}")
        for name, stage in steps:
            if stage != PASSTHROUGH and not (hasattr(stage, "process") and hasattr(stage, "process_batch")):
                raise TypeError(f"stage {name!r} is {type(stage).__name__}, not a Stage or {PASSTHROUGH!r}")
        self.steps = list(steps)

    @property
    def stages(self) -> list[tuple[str, Stage]]:
        return [(name, stage) for name, stage in self.steps if stage != PASSTHROUGH]

    @property
    def inputs(self) -> set[str]:
        """Fields a sample must bring: required by some stage and provided by none before it."""
        provided, needed = set(), set()
        for _, stage in self.stages:
            needed |= set(stage.requires) - provided
            provided |= set(stage.provides)
        return needed

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop = (self._index(k) if isinstance(k, str) else k for k in (key.start, key.stop))
            if isinstance(key.stop, str):
                stop += 1  # a name as the end includes that stage, as in "up to features"
            return Pipeline(self.steps[start : stop : key.step])
        return self.steps[self._index(key) if isinstance(key, str) else key][1]

    def _index(self, name: str) -> int:
        for i, (step_name, _) in enumerate(self.steps):
            if step_name == name:
                return i
        raise KeyError(f"no stage named {name!r}; stages: {[n for n, _ in self.steps]}")

    def __call__(self, sample: dict) -> dict:
        return self.run_batch([sample])[0]

    def run_batch(self, samples: list[dict]) -> list[dict]:
        """Run every stage over the batch; failed samples carry ``error`` and skip later stages."""
        samples = [dict(sample) for sample in samples]
        for name, stage in self.stages:
            live = [i for i, sample in enumerate(samples) if "error" not in sample]
            if not live:
                break
            for i in live:
                for field in stage.requires:
                    if field not in samples[i]:
                        raise MissingFieldError(name, field)
            try:
                done = stage.process_batch([samples[i] for i in live])
            except MissingFieldError:
                raise
            except Exception as error:  # noqa: BLE001 - one bad input must not cost the others theirs
                if len(live) == 1:
                    done = [_failed(name, samples[live[0]], error)]
                else:
                    # The batch call does not say which item failed: redo one by one to find it.
                    done = [
                        _process_one(lambda s, stage=stage: stage.process_batch([s])[0], samples[i], name)
                        for i in live
                    ]
            for i, sample in zip(live, done, strict=False):
                samples[i] = sample
        return samples

    def stream(self, samples: Iterable[dict], batch_size: int = 1) -> Iterator[dict]:
        """Run over an iterable (a camera, a microphone, a long list), ``batch_size`` at a time."""
        batch = []
        for sample in samples:
            batch.append(sample)
            if len(batch) == batch_size:
                yield from self.run_batch(batch)
                batch = []
        if batch:
            yield from self.run_batch(batch)

    def __repr__(self) -> str:
        return (
            "Pipeline(["
            + ", ".join(f"({n!r}, {type(s).__name__ if s != PASSTHROUGH else s!r})" for n, s in self.steps)
            + "])"
        )


def _process_one(process, sample: dict, stage: str | None = None) -> dict:
    """``process(sample)``, or the sample with ``error``: an ``InputError``'s reason; with ``stage``
    named, any other exception too (see ``_failed``)."""
    try:
        return process(sample)
    except InputError as error:
        return {**sample, "error": error.reason}
    except MissingFieldError:
        raise
    except Exception as error:  # see _failed
        if stage is None:
            raise
        return _failed(stage, sample, error)


def _failed(stage: str, sample: dict, error: Exception) -> dict:
    """``sample`` with the error ``stage`` raised on it alone: an ``InputError``'s reason, or for
    anything else ``unexpected TYPE: message`` (its traceback logged at debug level)."""
    if isinstance(error, InputError):
        return {**sample, "error": error.reason}
    logger.debug("stage %r failed on %r", stage, sample.get("path", sample.get("id")), exc_info=error)
    return {**sample, "error": unexpected_error(error)}


def unexpected_error(error: BaseException) -> str:
    """The one-line reason an input failed on an exception that is no ``InputError``."""
    detail = " ".join(str(error).split())
    return f"unexpected {type(error).__name__}" + (f": {detail}" if detail else "")
