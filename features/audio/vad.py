"""Voice-activity segmentation: a stream of audio blocks in, utterances with their start times out.

Energy based, numpy only. Each 10 ms frame's log-energy is compared with an adaptive noise floor
(the quietest 100 ms of the last few seconds); speech starts well above the floor and goes on
while it stays somewhat above (hysteresis). Pauses shorter than ``min_silence`` stay inside an
utterance, bursts shorter than ``min_speech`` are dropped, each utterance gets ``padding`` on
both sides, and one that runs past ``max_seconds`` is cut at its quietest moment. Memory holds
one utterance at most, whatever the length of the stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class VadConfig:
    """How speech is told from background. Times in seconds, levels in dB."""

    frame_seconds: float = 0.01
    onset_db: float = 10.0  # a frame this far above the noise floor starts speech
    offset_db: float = 5.0  # ... and speech goes on while frames stay this far above it
    floor_window: float = 5.0  # the floor is the quietest moment of this much past audio
    floor_smoothing: float = 0.1  # ... measured over this long, so one quiet frame is not a floor
    min_floor_db: float = (
        -60.0
    )  # the floor never drops below this (dBFS): low noise after digital silence is not speech
    warmup: float = 1.0  # the first floor is taken over this much audio, so speech at the start counts
    min_speech: float = 0.1  # a quick, quiet "eight" stays above the threshold for only about 0.12 s
    min_silence: float = 0.3
    padding: float = 0.15
    max_seconds: float = 15.0

    def __post_init__(self):
        if not 0 <= self.padding <= self.min_silence:
            raise ValueError(
                "padding must be between 0 and min_silence: the end padding is audio already heard"
            )
        if self.max_seconds < 2 * (self.padding + self.min_speech):
            raise ValueError("max_seconds is too short to hold a padded utterance")
        if self.offset_db > self.onset_db:
            raise ValueError("offset_db must not exceed onset_db")


class Utterance(NamedTuple):
    """One stretch of speech: where it starts in the stream (seconds) and its samples."""

    start: float
    audio: np.ndarray


class StreamingSegmenter:
    """Cut a stream of mono audio blocks into utterances as they end.

    >>> segmenter = StreamingSegmenter(16_000)
    >>> for start, audio in segmenter.segments(blocks):   # blocks of any length
    ...     print(start, len(audio) / 16_000)

    ``push`` returns the utterances a block completes, ``flush`` the last one at the end of the
    stream. An utterance is complete ``min_silence`` after its speech stops (the first ones wait
    for the ``warmup`` audio too). Frames are counted from the start of the stream; the buffer
    keeps only the utterance being heard, or ``padding`` when there is none.
    """

    def __init__(self, sample_rate: int, config: VadConfig = VadConfig()):
        self.sample_rate = sample_rate
        self.config = config
        self.frame = max(1, round(config.frame_seconds * sample_rate))  # samples per frame

        def frames(seconds: float) -> int:
            return max(1, round(seconds * sample_rate / self.frame))

        self._smoothing = frames(config.floor_smoothing)
        self._floor_window = frames(config.floor_window)
        self._warmup = frames(config.warmup)
        self._min_speech = frames(config.min_speech)
        self._min_silence = frames(config.min_silence)
        self._padding = round(config.padding * sample_rate / self.frame)
        self._max_frames = frames(config.max_seconds)

        self._samples_in = 0
        self._frames_done = 0  # frames decided so far
        self._audio = np.zeros(0, np.float32)  # samples from frame _buffer_frame on
        self._levels = np.zeros(0, np.float32)  # the level (dB) of each buffered frame
        self._buffer_frame = 0
        self._power_tail: np.ndarray | None = None  # last frames' powers, for the smoothing window
        self._smoothed_tail: np.ndarray | None = None  # last smoothed levels, for the floor window
        self._speaking = False  # the hysteresis state of the last frame
        self._start: int | None = None  # first frame (padding included) of the utterance being heard
        self._speech_start = 0  # its first frame above the threshold
        self._last_speech = 0  # its last frame above the threshold
        self._emitted_to = 0  # frame where the last utterance ended: the next never overlaps it

    @property
    def seconds(self) -> float:
        """Stream time consumed so far."""
        return self._samples_in / self.sample_rate

    def segments(self, blocks: Iterable[np.ndarray]) -> Iterator[Utterance]:
        """Every utterance of a whole stream, as each ends."""
        for block in blocks:
            yield from self.push(block)
        yield from self.flush()

    def push(self, block: np.ndarray) -> list[Utterance]:
        """Add the next samples (mono float32 at ``sample_rate``); returns the utterances they complete."""
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self._samples_in += block.size
        self._audio = np.concatenate([self._audio, block])
        if self._smoothed_tail is None and self._samples_in // self.frame < self._warmup:
            return []  # still gathering the audio the first floor is taken from
        found = self._decide()
        self._trim()
        return found

    def flush(self) -> list[Utterance]:
        """The end of the stream: the utterance still open, if it is long enough. The segmenter is
        then spent."""
        found = self._decide()
        if self._start is not None:
            end = min((self._last_speech + 1 + self._padding) * self.frame, self._samples_in)
            if self._last_speech + 1 - self._speech_start >= self._min_speech:
                found.append(self._utterance(self._start, end))
            self._start = None
        self._audio, self._levels = self._audio[:0], self._levels[:0]
        return found

    # -- deciding frame by frame ------------------------------------------------------------

    def _decide(self) -> list[Utterance]:
        """Classify the frames that arrived since the last call; returns the utterances they end."""
        first = self._frames_done - self._buffer_frame
        n_new = self._samples_in // self.frame - self._frames_done
        if n_new <= 0:
            return []
        samples = self._audio[first * self.frame : (first + n_new) * self.frame].reshape(n_new, self.frame)
        power = np.square(samples, dtype=np.float64).mean(axis=1)
        levels = 10 * np.log10(power + 1e-12)
        self._levels = np.concatenate([self._levels, levels.astype(np.float32)])
        floors = self._noise_floors(power)
        onset, offset = self.config.onset_db, self.config.offset_db
        found = []
        for f, level, floor in zip(
            range(self._frames_done, self._frames_done + n_new),
            levels.tolist(),
            floors.tolist(),
            strict=False,
        ):
            self._speaking = level > floor + (offset if self._speaking else onset)
            if self._start is None:
                if self._speaking:
                    self._start = max(f - self._padding, self._emitted_to)
                    self._speech_start = self._last_speech = f
                continue
            if self._speaking:
                self._last_speech = f
            elif f - self._last_speech >= self._min_silence:
                end = self._last_speech + 1 + self._padding  # min_silence >= padding: all heard already
                if self._last_speech + 1 - self._speech_start >= self._min_speech:
                    found.append(self._utterance(self._start, end * self.frame))
                self._start, self._emitted_to = None, end
                continue
            if f + 1 - self._start >= self._max_frames:
                found.append(self._cut(f))
        self._frames_done += n_new
        return found

    def _cut(self, last: int) -> Utterance:
        """End an over-long utterance at its quietest moment in the second half; the rest goes on."""
        lo = self._start + self._max_frames // 2
        levels = self._levels[lo - self._buffer_frame : last + 1 - self._buffer_frame]
        # A 50 ms average: a gap between words, not a single quiet frame inside a vowel.
        smoothed = np.convolve(levels, np.ones(5) / 5, mode="same") if levels.size >= 5 else levels
        cut = lo + int(np.argmin(smoothed))
        utterance = self._utterance(self._start, cut * self.frame)
        self._start = self._emitted_to = cut
        self._speech_start = cut
        self._last_speech = max(self._last_speech, cut - 1)
        return utterance

    def _noise_floors(self, power: np.ndarray) -> np.ndarray:
        """The floor (dB) for each new frame: the lowest smoothed level in the window before it."""
        if self._power_tail is None:
            self._power_tail = np.full(self._smoothing - 1, power[0])
        history = np.concatenate([self._power_tail, power])
        sums = np.cumsum(np.r_[0.0, history])
        smoothed = 10 * np.log10(
            (sums[self._smoothing :] - sums[: -self._smoothing]) / self._smoothing + 1e-12
        )
        self._power_tail = history[power.size :]
        if self._smoothed_tail is None:
            # The first floor looks ahead over the warm-up audio, so speech at the very start is
            # measured against the pauses after it instead of being taken for the floor.
            self._smoothed_tail = np.array([smoothed.min()])
        window = np.concatenate([self._smoothed_tail, smoothed])
        if window.size < self._floor_window - 1 + power.size:
            window = np.concatenate(
                [np.full(self._floor_window - 1 + power.size - window.size, np.inf), window]
            )
        floors = np.lib.stride_tricks.sliding_window_view(window, self._floor_window).min(axis=1)
        self._smoothed_tail = window[power.size :]
        return np.maximum(floors, self.config.min_floor_db)

    # -- the buffer ----------------------------------------------------------------------------

    def _utterance(self, start_frame: int, end_sample: int) -> Utterance:
        offset = self._buffer_frame * self.frame
        audio = self._audio[start_frame * self.frame - offset : end_sample - offset].copy()
        return Utterance(round(start_frame * self.frame / self.sample_rate, 6), audio)

    def _trim(self) -> None:
        """Drop what no utterance can still need: before the open one, or all but the padding."""
        keep = (
            self._start
            if self._start is not None
            else max(self._frames_done - self._padding, self._emitted_to)
        )
        drop = keep - self._buffer_frame
        if drop > 0:
            self._audio = self._audio[drop * self.frame :]
            self._levels = self._levels[drop:]
            self._buffer_frame = keep
