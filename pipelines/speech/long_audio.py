"""Transcription utterance by utterance: long files cut at pauses, and live audio as each utterance ends.

Audio arrives in blocks (``stream_audio`` for a file, a microphone or a paced file when live),
``StreamingSegmenter`` cuts it into utterances, and each utterance goes through the model's own
pipeline from its ``features`` stage on: the recogniser is the one short clips use. Word times
are moved from the utterance to the stream (utterance start + word time), so memory holds one
batch of utterances whatever the length of the audio.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np

from seqrec.features import InputError, StreamingSegmenter, Utterance, VadConfig, stream_audio
from seqrec.pipelines.core.stage import Pipeline
from seqrec.pipelines.speech.stages import transcript_score

# Files longer than this are cut into utterances; shorter ones go whole, as the model was trained.
LONG_AUDIO_SECONDS = 30.0
# Decoding block for long files: large enough that per-block overhead vanishes.
FILE_BLOCK_SECONDS = 2.0
# Live block: a result cannot come sooner than the block that ends its utterance.
LIVE_BLOCK_SECONDS = 0.1
# The voice activity settings when none are given (a frozen dataclass: one instance serves all).
DEFAULT_VAD = VadConfig()


class LiveSource(Protocol):
    """A microphone or a paced file (``seqrec.features.audio.live``)."""

    def blocks(self, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]: ...

    def wall_time(self, stream_seconds: float) -> float: ...


def recognize_utterances(
    recognize: Pipeline, utterances: Iterable[Utterance], sample_rate: int, path: str | None, batch_size: int
) -> Iterator[tuple[Utterance, dict]]:
    """Run utterances through ``recognize`` (a pipeline that starts at features) ``batch_size`` at a time.

    Yields (utterance, sample) in order; the sample's words carry stream times.
    """
    batch: list[Utterance] = []
    for utterance in utterances:
        batch.append(utterance)
        if len(batch) == batch_size:
            yield from _recognize_batch(recognize, batch, sample_rate, path)
            batch = []
    if batch:
        yield from _recognize_batch(recognize, batch, sample_rate, path)


def transcribe_long(
    recognize: Pipeline, path: str, sample_rate: int, batch_size: int = 32, vad: VadConfig = DEFAULT_VAD
) -> dict:
    """Transcribe a file of any length (up to ``MAX_STREAM_SECONDS``) in bounded memory.

    Returns the fields a short file's sample ends with: ``path``, ``text``, ``score`` (the mean
    score of the words, as ``CTCRecognize`` gives per utterance), ``duration`` and ``words`` in
    file time; or ``path`` and ``error``. A file whose header gave no length and that turns out
    no longer than ``LONG_AUDIO_SECONDS`` is transcribed whole, like any short clip.
    """
    blocks = stream_audio(path, sample_rate, FILE_BLOCK_SECONDS)
    limit = LONG_AUDIO_SECONDS * sample_rate
    try:
        head, held = [], 0
        for block in blocks:
            head.append(block)
            held += block.size
            if held > limit:
                break
        if held <= limit:  # the stream ended: a short clip after all
            return recognize(_sample(path, np.concatenate(head), sample_rate))
        segmenter = StreamingSegmenter(sample_rate, vad)
        utterances = segmenter.segments(itertools.chain(head, blocks))
        texts, words = [], []
        for utterance, sample in recognize_utterances(recognize, utterances, sample_rate, path, batch_size):
            if "error" in sample:
                return {
                    "path": path,
                    "error": f"{sample['error']} (in the utterance at {utterance.start:.1f} s)",
                }
            if sample["text"]:
                texts.append(sample["text"])
            words.extend(sample["words"])
    except InputError as error:
        return {"path": path, "error": error.reason}
    return {
        "path": path,
        "text": " ".join(texts),
        "score": transcript_score(words),
        "duration": round(segmenter.seconds, 3),
        "words": words,
    }


def transcribe_live(
    recognize: Pipeline,
    source: LiveSource,
    sample_rate: int,
    path: str | None = None,
    vad: VadConfig = DEFAULT_VAD,
) -> Iterator[dict]:
    """One row per utterance, as soon as it is recognised.

    Rows: ``{"path", "start", "end", "text", "score", "words", "latency"}``, times in seconds from
    the start of the stream; ``latency`` is how long after the end of the utterance was heard
    (wall-clock seconds) the row was made. A failed utterance gives ``error`` instead of text,
    score and words. Raises ``InputError`` for a file that cannot be read.
    """
    # The first utterance would otherwise pay for lazy imports and first-call set-up: pay it before
    # the stream starts, on half a second of faint noise. The speech check would turn that noise
    # away before the model, so the warm-up starts after it.
    faint = np.random.default_rng(0).standard_normal(sample_rate // 2).astype(np.float32) * 1e-3
    warm_up = recognize["features":] if "features" in dict(recognize.steps) else recognize
    warm_up.run_batch([_sample(path, faint, sample_rate)])
    segmenter = StreamingSegmenter(sample_rate, vad)
    utterances = segmenter.segments(source.blocks(sample_rate, LIVE_BLOCK_SECONDS))
    for utterance, sample in recognize_utterances(recognize, utterances, sample_rate, path, batch_size=1):
        end = utterance.start + utterance.audio.size / sample_rate
        row = {"path": path, "start": round(utterance.start, 3), "end": round(end, 3)}
        if "error" in sample:
            row["error"] = sample["error"]
        else:
            row.update(text=sample["text"], score=sample["score"], words=sample["words"])
        row["latency"] = round(time.monotonic() - source.wall_time(end), 3)
        yield row


def _recognize_batch(
    recognize: Pipeline, batch: list[Utterance], sample_rate: int, path: str | None
) -> Iterator[tuple[Utterance, dict]]:
    samples = recognize.run_batch(
        [_sample(path, utterance.audio, sample_rate, utterance.start) for utterance in batch]
    )
    for utterance, sample in zip(batch, samples, strict=False):
        if "words" in sample:
            sample["words"] = [_shift(word, utterance.start) for word in sample["words"]]
        yield utterance, sample


def _sample(path: str | None, audio: np.ndarray, sample_rate: int, start: float = 0.0) -> dict:
    return {
        "id": f"{path}@{start:.3f}",
        "path": path,
        "audio": audio,
        "sample_rate": sample_rate,
        "duration": round(audio.size / sample_rate, 3),
    }


def _shift(word: dict, offset: float) -> dict:
    return {**word, "start": round(word["start"] + offset, 3), "end": round(word["end"] + offset, 3)}
