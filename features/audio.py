"""Audio loading: any file libsndfile or FFmpeg (through PyAV) can read, as float32 mono at one rate."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import InputError

SAMPLE_RATE = 16_000
# A file longer than this is refused before it is decoded, so a stray multi-hour file cannot
# exhaust memory; utterance segmentation of long recordings lifts it later.
MAX_SECONDS = 20 * 60

# Audio whose peak stays below this level (dBFS) is silence: 16-bit dither sits near -90 dBFS.
SILENCE_FLOOR_DB = -60.0

# Extensions a folder is searched for. Anything else passed explicitly is still tried.
AUDIO_EXTENSIONS = frozenset(
    ".wav .flac .ogg .oga .opus .mp3 .aiff .aif .au .caf .w64 .rf64 .m4a .mp4 .aac .webm .mkv .wma".split()
)


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS) -> np.ndarray:
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
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    try:
        audio, file_rate = _read_soundfile(path, max_seconds)
    except _NotSoundfile:
        audio, file_rate = _read_pyav(path, max_seconds)
    if audio.size == 0:
        raise InputError(path, "no audio samples")
    if not np.isfinite(audio).all():
        raise InputError(path, "audio contains NaN or infinite samples")
    return resample(audio, file_rate, sample_rate)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono float32 audio; a no-op when the rates match."""
    audio = np.asarray(audio, dtype=np.float32)
    if from_rate == to_rate or audio.size == 0:
        return audio
    import librosa  # lazy: librosa is only needed once audio is actually processed

    return librosa.resample(audio, orig_sr=from_rate, target_sr=to_rate, res_type="soxr_hq").astype(np.float32)


def is_silent(audio: np.ndarray, floor_db: float = SILENCE_FLOOR_DB) -> bool:
    """True when no sample rises above ``floor_db`` dBFS: nothing there to recognise."""
    return audio.size == 0 or float(np.abs(audio).max()) < 10 ** (floor_db / 20)


def find_audio_files(folder: str | os.PathLike) -> list[Path]:
    """All audio files below ``folder``, recursively, in a stable (sorted) order."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())


class _NotSoundfile(Exception):
    """libsndfile cannot read this file; PyAV may."""


def _check_duration(path: Path, seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise InputError(path, f"audio is {seconds:.1f} s long; the limit is {max_seconds:g} s")


def _read_soundfile(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise _NotSoundfile from error
    if info.frames == 0:
        raise InputError(path, "no audio samples")
    _check_duration(path, info.frames / info.samplerate, max_seconds)
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise InputError(path, f"corrupt audio data ({_one_line(error)})") from None
    return audio.mean(axis=1), rate


def _read_pyav(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise InputError(path, "not an audio file libsndfile or FFmpeg can read") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise InputError(path, "no audio stream in this file")
        stream = streams[0]
        if container.duration is not None:
            _check_duration(path, container.duration / av.time_base, max_seconds)
        rate = stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as error:
            raise InputError(path, f"corrupt audio data ({_one_line(error)})") from None
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if stream.duration is not None and stream.time_base is not None:
        # Codecs such as AAC decode whole frames: drop the padding past the stream's stated length.
        audio = audio[: round(stream.duration * stream.time_base * rate)]
    _check_duration(path, audio.size / rate, max_seconds)
    return audio, rate


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
