"""Word times from where the speech is: CTC spikes say which words, energy says when.

A bidirectional CTC model may emit a word's letters anywhere inside the span it has seen, often
well before the word starts, so spike times alone are off by a few hundred milliseconds. The
utterance's own energy shows where each stretch of speech lies: the words, in order, are given
the stretches, after merging stretches split by a short pause inside a word (the stop in "six")
and splitting a stretch that holds several words run together (at its quietest moment).
"""

from __future__ import annotations

import itertools

import numpy as np

from seqrec.features import StreamingSegmenter, VadConfig

# Within an utterance: a pause of 60 ms separates words; 40 ms of speech is enough for a word part.
WORD_VAD = VadConfig(min_silence=0.06, padding=0.0, min_speech=0.04, warmup=0.5)


def speech_stretches(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in one utterance."""
    segmenter = StreamingSegmenter(sample_rate, WORD_VAD)
    return [(u.start, u.start + len(u.audio) / sample_rate) for u in segmenter.segments([audio])]


def align_words_to_speech(words: list[dict], audio: np.ndarray, sample_rate: int) -> list[dict]:
    """The same words with ``start``/``end`` moved onto the stretches of speech, in order.

    Words keep their CTC times when the audio shows no speech stretch at all.
    """
    stretches = speech_stretches(audio, sample_rate)
    if not words or not stretches:
        return words
    while len(stretches) > len(words):  # a word broken by a short pause: join the closest pair
        gaps = [b[0] - a[1] for a, b in itertools.pairwise(stretches)]
        i = int(np.argmin(gaps))
        stretches[i : i + 2] = [(stretches[i][0], stretches[i + 1][1])]
    while len(stretches) < len(words):  # words run together: split the longest stretch where it is quietest
        i = int(np.argmax([end - start for start, end in stretches]))
        start, end = stretches[i]
        middle = _quietest(audio, sample_rate, start, end)
        stretches[i : i + 1] = [(start, middle), (middle, end)]
    return [
        {**word, "start": round(start, 3), "end": round(end, 3)}
        for word, (start, end) in zip(words, stretches, strict=False)
    ]


def _quietest(audio: np.ndarray, sample_rate: int, start: float, end: float) -> float:
    """The quietest 20 ms in the middle half of [start, end], in seconds."""
    frame = int(0.02 * sample_rate)
    lo, hi = int((start + (end - start) / 4) * sample_rate), int((end - (end - start) / 4) * sample_rate)
    if hi - lo < 2 * frame:
        return (start + end) / 2
    energy = np.convolve(audio[lo:hi] ** 2, np.ones(frame), mode="valid")
    return (lo + int(np.argmin(energy)) + frame // 2) / sample_rate
