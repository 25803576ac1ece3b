"""Transcription: paths or arrays in, result records out (``path``, ``text``, ``duration``, ``words``)."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from seqrec.features import VadConfig, audio_duration, find_audio_files
from seqrec.models import DEFAULT_SPEECH_MODEL, BundleError, DecodeOptions, load_model, read_bundle_config
from seqrec.pipelines.core.device import check_device
from seqrec.pipelines.core.files import expand_inputs
from seqrec.pipelines.core.stage import Pipeline, unexpected_error
from seqrec.pipelines.speech.long_audio import (
    DEFAULT_VAD,
    LONG_AUDIO_SECONDS,
    LiveSource,
    transcribe_live,
    transcribe_long,
)
from seqrec.pipelines.speech.stages import speech_pipeline

RESULT_FIELDS = ("path", "text", "score", "duration", "words")

logger = logging.getLogger(__name__)


class Transcriber:
    """A loaded speech model and its pipeline; call it on many inputs, it batches them.

    Parameters
    ----------
    model : a bundled model name or a bundle folder
    device : "cpu", "cuda", or None: the CPU under ONNX, CUDA when available under torch
    runtime : "onnx", "torch", or None: ONNX where the bundle has a graph and onnxruntime is installed
    threads : onnxruntime's threads (None: one per core)
    words : a run-time word list, like a grammar: only these of the model's words come out, and
        everything else is rejected, the model's other words included (``--words``); a word the
        model does not know is a ``ValueError`` naming it
    batch_size : inputs decoded and run through the model together
    vad : how files longer than ``LONG_AUDIO_SECONDS`` and live audio are cut into utterances
    decode : greedy or beam search, rejection threshold; None takes the bundle's own settings
    """

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_SPEECH_MODEL,
        device: str | None = None,
        batch_size: int = 32,
        vad: VadConfig = DEFAULT_VAD,
        decode: DecodeOptions | None = None,
        runtime: str | None = None,
        threads: int | None = None,
        words: Sequence[str] | None = None,
    ):
        modality = read_bundle_config(model).get("modality")
        if modality not in (None, "speech"):  # before loading: hands models have no audio features
            raise BundleError(f"{model}: a model for {modality}, not for speech")
        self.bundle = load_model(model, runtime, check_device(device), threads)
        self.pipeline = speech_pipeline(self.bundle, batch_size=batch_size, decode=decode, words=words)
        self.batch_size = batch_size
        self.vad = vad

    @property
    def sample_rate(self) -> int:
        return self.bundle.config["features"]["sample_rate"]

    @property
    def recognizer(self) -> Pipeline:
        """The pipeline from the speech check on: what every utterance of long or live audio goes through."""
        return self.pipeline["check":]

    def transcribe_paths(self, paths: Iterable[str]) -> Iterator[dict]:
        """One record per path, in order; a failed input gives ``{"path", "error"}``.

        Files up to ``LONG_AUDIO_SECONDS`` are decoded whole and batched; longer ones (and those
        whose header states no length) are streamed and cut into utterances at pauses.
        """
        batch: list[dict] = []
        for path in paths:
            if _is_long(path):
                yield from map(result_record, self.pipeline.run_batch(batch) if batch else [])
                batch = []
                yield result_record(self._transcribe_long(str(path)))
                continue
            batch.append({"path": str(path)})
            if len(batch) == self.batch_size:
                yield from map(result_record, self.pipeline.run_batch(batch))
                batch = []
        if batch:
            yield from map(result_record, self.pipeline.run_batch(batch))

    def _transcribe_long(self, path: str) -> dict:
        try:
            return transcribe_long(self.recognizer, path, self.sample_rate, self.batch_size, self.vad)
        except Exception as error:  # one file's surprise must not stop the others
            logger.debug("transcribing %r failed", path, exc_info=error)
            return {"path": path, "error": unexpected_error(error)}

    def transcribe_live(self, source: LiveSource, path: str | None = None) -> Iterator[dict]:
        """Rows ``{"path", "start", "end", "text", "score", "words", "latency"}``, one per utterance as
        it ends."""
        return transcribe_live(self.recognizer, source, self.sample_rate, path, self.vad)

    def transcribe_array(self, audio: np.ndarray, sample_rate: int) -> dict:
        return result_record(self.pipeline({"path": None, "audio": audio, "sample_rate": sample_rate}))


def result_record(sample: dict) -> dict:
    """The public shape of a result: the input as given plus outputs, or plus ``error``; plus ``note``
    where the audio holds no speech (the text is then empty, and the note says why)."""
    if "error" in sample:
        return {"path": sample["path"], "error": sample["error"]}
    record = {field: sample[field] for field in RESULT_FIELDS}
    if sample.get("note"):
        record["note"] = sample["note"]
    return record


def _is_long(path: str | os.PathLike) -> bool:
    try:
        seconds = audio_duration(path)
    except Exception:  # noqa: BLE001 - decoded whole, which reports the reason as for any short file
        return False
    return seconds is None or seconds > LONG_AUDIO_SECONDS


def expand_audio_inputs(paths: Iterable[str]) -> list[tuple[str, str | None]]:
    """Files as given and folders expanded (recursively) to their audio files.

    Returns (path, error) pairs: ``error`` is set for a folder holding no audio, and the path is
    kept so the caller reports it like any other failed input.
    """
    return expand_inputs(paths, find_audio_files, "no audio files in this folder")


@functools.lru_cache(maxsize=4)
def _cached_transcriber(model: str, device: str | None) -> Transcriber:
    return Transcriber(model, device)


def transcribe(
    path_or_array: str | os.PathLike | np.ndarray,
    sample_rate: int | None = None,
    model: str | os.PathLike = DEFAULT_SPEECH_MODEL,
    device: str | None = None,
) -> dict:
    """Transcribe one file or one array.

    Parameters
    ----------
    path_or_array : a path to an audio file, or mono audio as a [n_samples] array
    sample_rate : required for an array; ignored for a path (the file says)
    model : bundled model name or bundle folder; loaded once and cached

    Returns
    -------
    dict: ``{"path", "text", "duration", "words": [{"word", "start", "end", "score"}]}``
    (``path`` is None for an array), or ``{"path", "error"}`` when the input cannot be used.
    """
    transcriber = _cached_transcriber(str(model), device)
    if isinstance(path_or_array, (str, os.PathLike)):
        return next(transcriber.transcribe_paths([os.fspath(path_or_array)]))
    if sample_rate is None:
        raise ValueError("transcribe(array) needs sample_rate")
    audio = np.asarray(path_or_array, dtype=np.float32)
    if audio.ndim == 2:  # [n_samples, channels], as soundfile returns
        audio = audio.mean(axis=1)
    return transcriber.transcribe_array(audio, sample_rate)
