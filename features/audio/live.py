"""Live audio: blocks as they are heard, from a microphone (sounddevice) or a file played in real time.

Both sources give the same thing: ``blocks(sample_rate, block_seconds)`` yields mono float32
blocks no sooner than they would have been heard, and ``wall_time(t)`` says when (on
``time.monotonic``'s clock) the audio at ``t`` seconds into the stream was heard, so a consumer
can tell how late its results are. A file played ``speed`` times faster than real time stands in
for a microphone in tests.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator

import numpy as np

from seqrec.features.audio.reading import resample_stream, stream_audio


class MicrophoneError(RuntimeError):
    """No usable microphone: sounddevice or PortAudio missing, no input device, or it cannot open.

    ``str(error)`` is the one line a user sees.
    """


class PacedFile:
    """An audio file released block by block at the pace it would be heard (``speed`` times faster).

    Raises ``InputError`` for a file ``load_audio`` would refuse, once iterated.
    """

    def __init__(self, path: str | os.PathLike, speed: float = 1.0):
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.path, self.speed = path, speed
        self._started: float | None = None

    def blocks(self, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
        self._started = time.monotonic()
        heard = 0
        for block in stream_audio(self.path, sample_rate, block_seconds):
            heard += block.size
            # A block is complete only once its last sample has been "heard".
            delay = self.wall_time(heard / sample_rate) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield block

    def wall_time(self, stream_seconds: float) -> float:
        return self._started + stream_seconds / self.speed


class Microphone:
    """An input device through sounddevice (PortAudio), checked when made so a missing one fails early.

    Parameters
    ----------
    device : a sounddevice device index; None for the system's default input

    Raises
    ------
    MicrophoneError
        sounddevice is not installed, the PortAudio library is missing, or there is no such input device.
    """

    def __init__(self, device: int | None = None):
        try:
            import sounddevice
        except ImportError:
            raise MicrophoneError(
                "the sounddevice package is not installed (pip install 'seqrec[mic]')"
            ) from None
        except OSError:  # sounddevice is there but finds no libportaudio to load
            raise MicrophoneError(
                "the PortAudio library is not installed (Debian/Ubuntu: apt install libportaudio2)"
            ) from None
        self._sd = sounddevice
        self.device = device
        try:
            info = sounddevice.query_devices(device, kind="input")
        except (sounddevice.PortAudioError, ValueError):
            info = None
        if info is None or info["max_input_channels"] < 1:
            inputs = self.input_devices()
            if device is None or not inputs:
                raise MicrophoneError(
                    "no audio input device found" + (f" (input devices: {inputs})" if inputs else "")
                )
            raise MicrophoneError(f"device {device} is not an audio input device (input devices: {inputs})")
        self.name = info["name"]
        self.device_rate = int(info["default_samplerate"])
        self._started: float | None = None

    def input_devices(self) -> str:
        """The input devices PortAudio knows, as ``index: name`` items; empty when there are none."""
        try:
            devices = self._sd.query_devices()
        except self._sd.PortAudioError:
            return ""
        return ", ".join(f"{d['index']}: {d['name']}" for d in devices if d["max_input_channels"] > 0)

    def blocks(self, sample_rate: int, block_seconds: float) -> Iterator[np.ndarray]:
        """Record until the consumer stops; resampled when the device cannot record at ``sample_rate``."""
        sd = self._sd
        rate = sample_rate
        try:
            sd.check_input_settings(self.device, channels=1, dtype="float32", samplerate=sample_rate)
        except (sd.PortAudioError, ValueError):
            rate = self.device_rate
        heard: queue.Queue[np.ndarray] = queue.Queue()

        def on_audio(indata, frames, time_info, status) -> None:  # PortAudio's thread: copy and hand over
            heard.put(indata[:, 0].copy())

        try:
            stream = sd.InputStream(
                device=self.device,
                channels=1,
                dtype="float32",
                samplerate=rate,
                blocksize=max(1, round(block_seconds * rate)),
                callback=on_audio,
            )
        except (sd.PortAudioError, ValueError) as error:
            raise MicrophoneError(
                f"cannot open {self.name!r} for recording: {' '.join(str(error).split())}"
            ) from None

        def recorded() -> Iterator[np.ndarray]:
            while True:
                yield heard.get()

        with stream:
            self._started = time.monotonic()
            yield from resample_stream(recorded(), rate, sample_rate)

    def wall_time(self, stream_seconds: float) -> float:
        return self._started + stream_seconds
