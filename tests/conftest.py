"""Shared fixtures: the real clips under tests/data, and bad (or oddly encoded) inputs made from them.

Every input the tests feed the toolkit is either a committed clip under ``tests/data`` (see its
README for sources and licences) or a file generated here at test time from one of those clips.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile

DATA_DIR = Path(__file__).parent / "data"

# The clip the well-formed format variants are made from, and the word it holds. A loud, clean
# Speech Commands "stop" (peak 0.92) survives 8-bit quantisation and lossy codecs.
SOURCE_CLIP = "sc_stop_0fa1e7a9_nohash_0.flac"
SOURCE_WORD = "stop"
# A real WAV whose 44-byte header the corrupt case overwrites with random bytes.
CORRUPTED_WAV = "3_jackson_0.wav"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of committed real clips."""
    return DATA_DIR


@pytest.fixture(scope="session")
def fixture_manifest() -> list[dict]:
    """Rows of tests/data/manifest.jsonl (NeMo fields) with ``audio_filepath`` made absolute."""
    rows = [
        json.loads(line) for line in (DATA_DIR / "manifest.jsonl").read_text().splitlines() if line.strip()
    ]
    return [{**row, "audio_filepath": str(DATA_DIR / row["audio_filepath"])} for row in rows]


@pytest.fixture(scope="session")
def source_clip() -> tuple[np.ndarray, int]:
    """SOURCE_CLIP as float32 mono and its sample rate, read directly with soundfile."""
    audio, rate = soundfile.read(str(DATA_DIR / SOURCE_CLIP), dtype="float32")
    return audio, rate


@pytest.fixture
def bad_inputs(tmp_path: Path, source_clip) -> InputCases:
    """Every bad or unusual input case as a path under ``tmp_path``, generated on first access.

    Cases: nonexistent, folder_without_audio, empty_wav, zero_samples_wav, corrupt_header_wav,
    text_as_wav, silence_wav, and SOURCE_CLIP re-encoded as pcm_u8_wav, pcm_24_wav, float32_wav,
    stereo_wav, rate_8k_wav, rate_48k_wav, mp3 and m4a_aac.
    """
    return InputCases(tmp_path, *source_clip)


class InputCases(Mapping[str, Path]):
    """A lazy mapping from case name to a freshly generated file, so a test pays only for what it uses.

    ``word`` is what every re-encoded case says; ``seconds`` is how long it lasts.
    """

    word = SOURCE_WORD

    def __init__(self, folder: Path, audio: np.ndarray, rate: int):
        self.folder, self.audio, self.rate = folder, audio, rate
        self.seconds = len(audio) / rate
        self._made: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self._made:
            make = getattr(self, f"_make_{name}", None)
            if make is None:
                raise KeyError(name)
            self._made[name] = make()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return (name.removeprefix("_make_") for name in vars(InputCases) if name.startswith("_make_"))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    # -- refused inputs ------------------------------------------------------------------
    def _make_nonexistent(self) -> Path:
        return self.folder / "missing.wav"

    def _make_folder_without_audio(self) -> Path:
        folder = self.folder / "notes"
        folder.mkdir()
        (folder / "readme.txt").write_text("no audio here\n")
        return folder

    def _make_empty_wav(self) -> Path:
        path = self.folder / "empty.wav"
        path.write_bytes(b"")
        return path

    def _make_zero_samples_wav(self) -> Path:
        path = self.folder / "zero_samples.wav"
        soundfile.write(str(path), np.zeros(0, np.float32), self.rate, subtype="PCM_16")
        return path

    def _make_corrupt_header_wav(self) -> Path:
        path = self.folder / "corrupt_header.wav"
        data = bytearray((DATA_DIR / CORRUPTED_WAV).read_bytes())
        data[:44] = np.random.default_rng(0).integers(0, 256, 44, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(data))
        return path

    def _make_text_as_wav(self) -> Path:
        path = self.folder / "notes.wav"
        path.write_text("These are meeting notes, not a recording.\n")
        return path

    # -- silence ---------------------------------------------------------------------------
    def _make_silence_wav(self) -> Path:
        path = self.folder / "silence.wav"
        soundfile.write(str(path), np.zeros(self.rate, np.float32), self.rate, subtype="PCM_16")
        return path

    # -- well-formed variants of the spoken clip -------------------------------------------
    def _make_pcm_u8_wav(self) -> Path:
        return self._write("pcm_u8.wav", self.audio, self.rate, subtype="PCM_U8")

    def _make_pcm_24_wav(self) -> Path:
        return self._write("pcm_24.wav", self.audio, self.rate, subtype="PCM_24")

    def _make_float32_wav(self) -> Path:
        return self._write("float32.wav", self.audio, self.rate, subtype="FLOAT")

    def _make_stereo_wav(self) -> Path:
        # Two different channels (the right one quieter), so averaging is what is tested.
        return self._write(
            "stereo.wav", np.stack([self.audio, 0.5 * self.audio], axis=1), self.rate, subtype="PCM_16"
        )

    def _make_rate_8k_wav(self) -> Path:
        return self._write("rate_8k.wav", _resample(self.audio, self.rate, 8_000), 8_000, subtype="PCM_16")

    def _make_rate_48k_wav(self) -> Path:
        return self._write("rate_48k.wav", _resample(self.audio, self.rate, 48_000), 48_000, subtype="PCM_16")

    def _make_mp3(self) -> Path:
        return self._write("clip.mp3", self.audio, self.rate, format="MP3", subtype="MPEG_LAYER_III")

    def _make_m4a_aac(self) -> Path:
        path = self.folder / "clip.m4a"
        _write_aac(path, self.audio, self.rate)
        return path

    def _write(self, name: str, audio: np.ndarray, rate: int, **kwargs) -> Path:
        path = self.folder / name
        soundfile.write(str(path), audio, rate, **kwargs)
        return path


def _resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resampling for making fixtures, independent of the toolkit's own (soxr, as librosa uses)."""
    import soxr

    return soxr.resample(audio, from_rate, to_rate).astype(np.float32)


def _write_aac(path: Path, audio: np.ndarray, rate: int) -> None:
    """AAC in an MP4 (.m4a) container through PyAV, as phones and voice memo apps record."""
    import av

    with av.open(str(path), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        frame_size = stream.codec_context.frame_size or 1024
        for start in range(0, len(audio), frame_size):
            chunk = audio[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="session")
def bundled_model() -> str:
    """The default bundled speech model's name; it ships with the package, so its absence is a failure."""
    from seqrec.models import DEFAULT_SPEECH_MODEL, bundled_model_names

    assert DEFAULT_SPEECH_MODEL in bundled_model_names(), (
        "the bundled model is missing from the installed package"
    )
    return DEFAULT_SPEECH_MODEL


@pytest.fixture(scope="session")
def utterances_alone() -> Callable[..., list[dict]]:
    """``utterances_alone(transcriber, path)``: each utterance the segmenter cuts from ``path``,
    recognised on its own, its words moved to file time. A reference made by the model, not a
    hard-coded text, for what the long-file and live paths must give."""
    from seqrec.features import StreamingSegmenter, VadConfig, stream_audio

    def recognise(transcriber, path) -> list[dict]:
        rate = transcriber.bundle.config["features"]["sample_rate"]
        samples = []
        for utterance in StreamingSegmenter(rate, VadConfig()).segments(stream_audio(path, rate)):
            [sample] = transcriber.pipeline.run_batch(
                [{"path": None, "audio": utterance.audio, "sample_rate": rate}]
            )
            shift = utterance.start
            words = [
                {**w, "start": round(w["start"] + shift, 3), "end": round(w["end"] + shift, 3)}
                for w in sample["words"]
            ]
            samples.append({**sample, "words": words})
        return samples

    return recognise


@pytest.fixture
def copy_fixture(tmp_path: Path) -> Callable[[str, str], Path]:
    """Copy a tests/data clip to ``tmp_path/relative``; returns the new path."""

    def copy(name: str, relative: str) -> Path:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_DIR / name, target)
        return target

    return copy


# -- long recordings made of the real clips --------------------------------------------------------

# Pauses between joined clips alternate between digital silence and noise at this RMS (about -66 dBFS).
LOW_NOISE = 5e-4


@dataclass(frozen=True)
class JoinedClips:
    """A file of clips laid end to end, and where each one went: (name, start, end) in seconds."""

    path: Path
    sample_rate: int
    clips: list[tuple[str, float, float]]
    seconds: float


@pytest.fixture
def join_clips(tmp_path: Path) -> Callable[..., JoinedClips]:
    """Write tests/data clips (names relative to it) one after another, with a pause before each,
    into one PCM_16 file under ``tmp_path``, block by block so a long file costs no memory.

    ``repeat`` plays the list that many times; ``gap`` bounds each pause (seconds, drawn with
    ``seed``); ``pauses`` is "silence" (digital), "noise" (``LOW_NOISE``) or "alternate";
    ``channels`` copies the mono mix to each channel. A pause ends the file too.
    """

    def join(
        names: list[str],
        repeat: int = 1,
        gap: tuple[float, float] = (0.8, 1.6),
        sample_rate: int = 16_000,
        channels: int = 1,
        seed: int = 0,
        pauses: str = "alternate",
        name: str = "joined.wav",
    ) -> JoinedClips:
        rng = np.random.default_rng(seed)
        audio = {clip: _clip_at_rate(clip, sample_rate) for clip in set(names)}
        path = tmp_path / name
        placed, cursor = [], 0
        with soundfile.SoundFile(str(path), "w", sample_rate, channels, subtype="PCM_16") as out:

            def write(samples: np.ndarray) -> None:
                out.write(np.repeat(samples[:, None], channels, axis=1))

            def pause(seconds: float) -> int:
                n = int(seconds * sample_rate)
                noisy = pauses == "noise" or (pauses == "alternate" and len(placed) % 2 == 1)
                write(
                    rng.standard_normal(n).astype(np.float32) * LOW_NOISE
                    if noisy
                    else np.zeros(n, np.float32)
                )
                return n

            for _ in range(repeat):
                for clip in names:
                    cursor += pause(rng.uniform(*gap))
                    write(audio[clip])
                    placed.append((clip, cursor / sample_rate, (cursor + len(audio[clip])) / sample_rate))
                    cursor += len(audio[clip])
            cursor += pause(gap[1])
        return JoinedClips(path, sample_rate, placed, cursor / sample_rate)

    return join


def _clip_at_rate(name: str, sample_rate: int) -> np.ndarray:
    audio, rate = soundfile.read(str(DATA_DIR / name), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    return audio if rate == sample_rate else _resample(audio, rate, sample_rate)
