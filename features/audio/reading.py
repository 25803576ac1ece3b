"""Audio decoding: any file libsndfile or FFmpeg (through PyAV) can read, as float32 mono at one rate.

``load_audio`` decodes a whole file; ``stream_audio`` yields it block by block in bounded memory.
Both read through the same sources (``_SoundfileSource``, ``_PyAVSource``), so they accept and
refuse the same files with the same one-line reasons.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from seqrec.features.errors import InputError
from seqrec.features.files import find_files

SAMPLE_RATE = 16_000
# A file decoded whole (load_audio) longer than this is refused before it is decoded, so a stray
# multi-hour file cannot exhaust memory; longer recordings go through stream_audio instead.
MAX_SECONDS = 20 * 60
# stream_audio's memory does not grow with the length, but a day-long file is still a mistake.
MAX_STREAM_SECONDS = 24 * 60 * 60

# Audio whose peak stays below this level (dBFS) is silence: 16-bit dither sits near -90 dBFS.
SILENCE_FLOOR_DB = -60.0

# Extensions a folder is searched for. Anything else passed explicitly is still tried.
AUDIO_EXTENSIONS = frozenset(
    [
        ".wav",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".mp3",
        ".aiff",
        ".aif",
        ".au",
        ".caf",
        ".w64",
        ".rf64",
        ".m4a",
        ".mp4",
        ".aac",
        ".webm",
        ".mkv",
        ".wma",
    ]
)
# soxr's filter for whole clips and streamed blocks alike: librosa's default, "soxr_hq".
RESAMPLE_QUALITY = "HQ"
# Samples libsndfile reads at a time when a whole file is wanted (about 4 s at 16 kHz).
_READ_FRAMES = 1 << 16


def load_audio(
    path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS
) -> np.ndarray:
    """Decode an audio file to mono float32 at ``sample_rate``.

    libsndfile (wav, flac, ogg, mp3, …) is tried first; containers such as mp4, m4a and webm go
    through PyAV. Channels are averaged, any sample format becomes float32 in [-1, 1].

    Returns
    -------
    np.ndarray, shape [n_samples], float32

    Raises
    ------
    InputError
        with a one-line reason: missing, a folder, empty, not audio, corrupt, no samples, too long.
    """
    with _open_source(Path(path), max_seconds) as source:
        chunks = list(source.chunks(_READ_FRAMES))
        file_rate = source.rate
    audio = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return resample(audio, file_rate, sample_rate)


def stream_audio(
    path: str | os.PathLike,
    sample_rate: int = SAMPLE_RATE,
    block_seconds: float = 1.0,
    max_seconds: float = MAX_STREAM_SECONDS,
) -> Iterator[np.ndarray]:
    """Decode an audio file block by block: memory stays the same whatever the file's length.

    The same files as :func:`load_audio`, mixed to mono and resampled by a streaming resampler
    (the filter ``resample`` uses: the blocks joined match ``load_audio``'s array to a sample or so).

    Yields
    ------
    np.ndarray, shape [round(block_seconds * sample_rate)], float32; the last block may be shorter

    Raises
    ------
    InputError
        when iterated, for the reasons :func:`load_audio` gives; the length is checked against
        ``max_seconds`` from the header where it has one, and while decoding where it has not.
    """
    block = max(1, round(block_seconds * sample_rate))
    with _open_source(Path(path), max_seconds) as source:
        file_block = max(1, round(block_seconds * source.rate))
        yield from _rebuffer(resample_stream(source.chunks(file_block), source.rate, sample_rate), block)


def audio_duration(path: str | os.PathLike) -> float | None:
    """The length in seconds that the file's header states, without decoding; None where it states none.

    Raises
    ------
    InputError
        for a file :func:`load_audio` would refuse before decoding (missing, empty, not audio).
    """
    with _open_source(Path(path), float("inf")) as source:
        return source.seconds


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono float32 audio; a no-op when the rates match."""
    audio = np.asarray(audio, dtype=np.float32)
    if from_rate == to_rate or audio.size == 0:
        return audio
    import soxr  # lazy: only needed once audio is actually processed

    # What librosa.resample(res_type="soxr_hq") returns (a test holds them equal), without
    # importing librosa and scipy.signal (about half a second) on a file's first resampling.
    resampled = soxr.resample(audio, from_rate, to_rate, quality=RESAMPLE_QUALITY)
    size = math.ceil(audio.size * to_rate / from_rate)
    return np.pad(resampled[:size], (0, max(0, size - resampled.size))).astype(np.float32, copy=False)


def resample_stream(chunks: Iterable[np.ndarray], from_rate: int, to_rate: int) -> Iterator[np.ndarray]:
    """``resample`` for a stream of mono float32 chunks: soxr carries the filter state across them,
    so the output joined equals one resampling of the input joined."""
    if from_rate == to_rate:
        yield from chunks
        return
    import soxr

    stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality=RESAMPLE_QUALITY)
    for chunk in chunks:
        yield stream.resample_chunk(chunk)
    yield stream.resample_chunk(np.zeros(0, np.float32), last=True)


def is_silent(audio: np.ndarray, floor_db: float = SILENCE_FLOOR_DB) -> bool:
    """True when no sample rises above ``floor_db`` dBFS: nothing there to recognise."""
    return audio.size == 0 or float(np.abs(audio).max()) < 10 ** (floor_db / 20)


def find_audio_files(folder: str | os.PathLike) -> list[Path]:
    """All audio files below ``folder``, recursively, in a stable (sorted) order."""
    return find_files(folder, AUDIO_EXTENSIONS)


# -- sources: one open file, its rate, its stated length, and its samples in chunks -------------


class _NotSoundfile(Exception):
    """libsndfile cannot read this file; PyAV may."""


def _open_source(path: Path, max_seconds: float) -> _SoundfileSource | _PyAVSource:
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    try:
        return _SoundfileSource(path, max_seconds)
    except _NotSoundfile:
        return _PyAVSource(path, max_seconds)


class _Source:
    """What both sources share: the checks on each chunk, the length limit, closing."""

    path: Path
    rate: int
    seconds: float | None
    max_seconds: float

    def chunks(self, frames: int) -> Iterator[np.ndarray]:
        """Mono float32 at the file's own rate: ``frames`` samples at a time (libsndfile), or codec
        frames (PyAV)."""
        total = 0
        for chunk in self._decode(frames):
            if not np.isfinite(chunk).all():
                raise InputError(self.path, "audio contains NaN or infinite samples")
            total += chunk.size
            # Headers can be missing or wrong: the limit holds for what is actually decoded too.
            if total > self.max_seconds * self.rate:
                raise InputError(self.path, f"audio is longer than the limit of {self.max_seconds:g} s")
            yield chunk
        if total == 0:
            raise InputError(self.path, "no audio samples")

    def _decode(self, frames: int) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _SoundfileSource(_Source):
    def __init__(self, path: Path, max_seconds: float):
        import soundfile

        try:
            self._file = soundfile.SoundFile(str(path))
        except (soundfile.LibsndfileError, RuntimeError) as error:
            raise _NotSoundfile from error
        self.path, self.max_seconds, self.rate = path, max_seconds, self._file.samplerate
        self.seconds = self._file.frames / self.rate
        try:
            if self._file.frames == 0:
                raise InputError(path, "no audio samples")
            _check_duration(path, self.seconds, max_seconds)
        except InputError:
            self.close()
            raise

    def _decode(self, frames: int) -> Iterator[np.ndarray]:
        import soundfile

        while True:
            try:
                block = self._file.read(frames, dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError) as error:
                raise InputError(self.path, f"corrupt audio data ({_one_line(error)})") from None
            if len(block) == 0:
                return
            yield _mix_to_mono(block)

    def close(self) -> None:
        self._file.close()


class _PyAVSource(_Source):
    def __init__(self, path: Path, max_seconds: float):
        import av

        try:
            self._container = av.open(str(path))
        except (av.error.FFmpegError, UnicodeDecodeError):
            raise InputError(path, "not an audio file libsndfile or FFmpeg can read") from None
        self.path, self.max_seconds = path, max_seconds
        try:
            streams = self._container.streams.audio
            if not streams:
                raise InputError(path, "no audio stream in this file")
            self._stream = streams[0]
            if self._stream.codec_context is None:  # FFmpeg has no decoder for this codec
                raise InputError(path, "no decoder for its audio codec")
            self.rate = self._stream.codec_context.sample_rate or self._stream.rate
            if not self.rate or self.rate <= 0:  # a probe that guessed a format from a few bytes
                raise InputError(path, "not an audio file libsndfile or FFmpeg can read (no sample rate)")
            # Codecs such as AAC decode whole frames: samples past the stream's stated length are padding.
            self._length = None
            if self._stream.duration is not None and self._stream.time_base is not None:
                self._length = round(self._stream.duration * self._stream.time_base * self.rate)
            self.seconds = None
            if self._length is not None:
                self.seconds = self._length / self.rate
            elif self._container.duration is not None:
                self.seconds = self._container.duration / av.time_base
            if self._container.duration is not None:
                _check_duration(path, self._container.duration / av.time_base, max_seconds)
        except InputError:
            self.close()
            raise
        except (av.error.FFmpegError, ValueError, ArithmeticError) as error:  # a header FFmpeg half-parsed
            self.close()
            raise InputError(path, f"corrupt audio header ({_one_line(error)})") from None

    def _decode(self, frames: int) -> Iterator[np.ndarray]:
        import av

        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        left = self._length
        try:
            for frame in itertools.chain(self._container.decode(self._stream), [None]):  # None flushes
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    if left is not None:
                        chunk, left = chunk[:left], max(0, left - chunk.size)
                    if chunk.size:
                        yield chunk
        except (av.error.FFmpegError, ValueError) as error:  # ValueError: frames PyAV cannot convert
            raise InputError(self.path, f"corrupt audio data ({_one_line(error)})") from None

    def close(self) -> None:
        self._container.close()


# -- helpers -------------------------------------------------------------------------------------


def _rebuffer(chunks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup chunks of any length into blocks of exactly ``size`` samples (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        pending.append(chunk)
        held += chunk.size
        if held < size:
            continue
        joined = np.concatenate(pending)
        cut = held - held % size
        yield from np.split(joined[:cut], cut // size)
        pending, held = [joined[cut:]], held - cut
    if held:
        yield np.concatenate(pending)


# Channels that cancel when averaged (one the other inverted: a wiring or phase fault) leave the
# mix less than this share of the loudest channel's energy; that channel is read alone instead.
CANCELLED_MIX = 1e-3


def _mix_to_mono(block: np.ndarray) -> np.ndarray:
    """[frames, channels] -> [frames]: the channels' mean, or the loudest channel alone where the
    mean would cancel it out (right = -left mixes to silence)."""
    mix = block.mean(axis=1)
    if block.shape[1] > 1:
        energy = np.einsum("ij,ij->j", block, block, dtype=np.float64)
        loudest = int(np.argmax(energy))
        if energy[loudest] > 0 and float(np.dot(mix, mix)) < CANCELLED_MIX * energy[loudest]:
            return np.ascontiguousarray(block[:, loudest])
    return mix


def _check_duration(path: Path, seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise InputError(path, f"audio is {seconds:.1f} s long; the limit is {max_seconds:g} s")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
