"""Live audio: ``--stream-file`` plays a file through the path a microphone feeds, utterance by
utterance, so everything but the sound card is tested without one; ``--mic`` fails in one line
where there is no microphone.

Inputs are real clips from tests/data laid end to end with pauses (the ``join_clips`` fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from seqrec.features.audio.live import Microphone, MicrophoneError, PacedFile
from seqrec.pipelines import Transcriber
from seqrec.pipelines.cli import main
from seqrec.pipelines.speech.long_audio import LONG_AUDIO_SECONDS

# Single words, each one utterance.
CLIPS = [
    "3_jackson_0.wav",
    "sc_yes_03401e93_nohash_0.flac",
    "0_nicolas_2.wav",
    "sc_stop_0fa1e7a9_nohash_0.flac",
    "samples/tflite_micro_no_1000ms.wav",
    "sc_left_189cbabe_nohash_0.flac",
]
ROW_FIELDS = {"path", "start", "end", "text", "score", "words", "latency"}
TOLERANCE = 0.15


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def transcriber(bundled_model) -> Transcriber:
    return Transcriber(bundled_model, device="cpu")


# -- --stream-file ------------------------------------------------------------------------------


def test_stream_file_prints_one_jsonl_row_per_utterance_as_it_ends(
    transcriber, utterances_alone, join_clips, capsys
):
    joined = join_clips(CLIPS, pauses="noise")
    assert main(["transcribe", "--stream-file", str(joined.path), "--speed", "20", "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    rows = _jsonl(out)
    assert err == ""
    assert len(rows) == len(joined.clips)
    assert [row["text"] for row in rows] == [
        sample["text"] for sample in utterances_alone(transcriber, joined.path)
    ]
    for row, (name, clip_start, clip_end) in zip(rows, joined.clips, strict=False):
        assert set(row) == ROW_FIELDS
        assert row["path"] == str(joined.path)
        assert clip_start - TOLERANCE - 0.15 <= row["start"] < row["end"] <= clip_end + TOLERANCE + 0.15, (
            name,
            row,
        )
        assert all(row["start"] <= w["start"] <= w["end"] <= row["end"] for w in row["words"])
        assert row["latency"] > 0  # a result can only follow the audio it is about
        assert 0 <= row["score"] <= 1


def test_stream_file_txt_prints_each_utterance_text_on_its_own_line(
    transcriber, utterances_alone, join_clips, capsys
):
    joined = join_clips(CLIPS, pauses="silence")
    assert main(["transcribe", "--stream-file", str(joined.path), "--speed", "50"]) == 0
    texts = [sample["text"] for sample in utterances_alone(transcriber, joined.path)]
    assert len(texts) == len(joined.clips) and all(texts)
    assert capsys.readouterr() == ("".join(text + "\n" for text in texts), "")


def test_the_live_path_gives_the_words_of_the_long_file_path(transcriber, join_clips):
    joined = join_clips(CLIPS, repeat=3, pauses="noise")
    assert joined.seconds > LONG_AUDIO_SECONDS  # so the file is cut into utterances too
    rows = list(transcriber.transcribe_live(PacedFile(joined.path, speed=100), str(joined.path)))
    [record] = transcriber.transcribe_paths([str(joined.path)])
    assert [word for row in rows for word in row["words"]] == record["words"]


def test_a_paced_file_gives_each_block_no_sooner_than_it_would_be_heard(join_clips):
    joined = join_clips(["sc_stop_0fa1e7a9_nohash_0.flac"], gap=(1.0, 1.0))  # 3 s
    source = PacedFile(joined.path, speed=6)
    heard = 0
    for block in source.blocks(16_000, 0.1):
        heard += block.size
        assert time.monotonic() >= source.wall_time(heard / 16_000) - 1e-3
    assert heard / 16_000 == pytest.approx(joined.seconds, abs=1e-3)
    assert source.wall_time(joined.seconds) - source.wall_time(0) == pytest.approx(joined.seconds / 6)


def test_stream_file_that_cannot_be_read_fails_in_one_line(bundled_model, tmp_path, capsys):
    missing = str(tmp_path / "missing.wav")
    assert main(["transcribe", "--stream-file", missing, "--format", "jsonl"]) == 1
    out, err = capsys.readouterr()
    assert _jsonl(out) == [{"path": missing, "error": "no such file"}]
    assert err == f"seqrec: {missing}: no such file\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "transcribe: give PATH..., --mic or --stream-file FILE"),
        (["--mic", "clip.wav"], "give PATH..., --mic or --stream-file FILE: one source at a time"),
        (
            ["--mic", "--stream-file", "clip.wav"],
            "give PATH..., --mic or --stream-file FILE: one source at a time",
        ),
        (
            ["--stream-file", "clip.wav", "--speed", "0"],
            "--speed goes with --stream-file and must be positive",
        ),
        (
            ["--stream-file", "clip.wav", "--format", "srt", "--output", "subs"],
            "--format srt: live audio prints txt or jsonl",
        ),
        (["--stream-file", "clip.wav", "--device-index", "1"], "--device-index goes with --mic"),
        (["clip.wav", "--speed", "2"], "--speed goes with --stream-file"),
        (["clip.wav", "--device-index", "1"], "--device-index goes with --mic"),
    ],
)
def test_live_options_misused_are_a_usage_error_that_does_nothing(
    tmp_path, monkeypatch, capsys, args, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["transcribe", *args]) == 2
    assert capsys.readouterr() == ("", f"seqrec: {message}\n")
    assert list(tmp_path.iterdir()) == []


# -- --mic --------------------------------------------------------------------------------------


def test_mic_without_an_audio_device_exits_2_with_one_stderr_line(tmp_path):
    try:
        Microphone()
    except MicrophoneError:
        pass
    else:
        pytest.skip("this machine has a microphone")
    script = [sys.executable, "-m", "seqrec.pipelines.cli", "transcribe", "--mic"]
    done = subprocess.run(
        script,
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert (done.returncode, done.stdout) == (2, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("seqrec: --mic: ")


def test_mic_without_sounddevice_names_the_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # what a failed import leaves
    assert main(["transcribe", "--mic"]) == 2
    assert capsys.readouterr() == (
        "",
        "seqrec: --mic: the sounddevice package is not installed (pip install 'seqrec[mic]')\n",
    )


def test_mic_without_the_portaudio_library_says_so(monkeypatch, tmp_path, capsys):
    # sounddevice raises OSError at import when it finds no libportaudio.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["transcribe", "--mic"]) == 2
    assert capsys.readouterr() == (
        "",
        "seqrec: --mic: the PortAudio library is not installed (Debian/Ubuntu: apt install libportaudio2)\n",
    )


def _fake_sounddevice(devices: list[dict]) -> types.ModuleType:
    """sounddevice's device queries over a fixed device list, as PortAudio answers them."""

    class PortAudioError(Exception):
        pass

    def query_devices(device=None, kind=None):
        listed = [{**d, "index": i} for i, d in enumerate(devices)]
        if device is None and kind is None:
            return listed
        if device is None:
            device = next((d["index"] for d in listed if d["max_input_channels"] > 0), -1)
        if not 0 <= device < len(devices):
            raise PortAudioError(f"Error querying device {device}")
        return listed[device]

    return types.SimpleNamespace(PortAudioError=PortAudioError, query_devices=query_devices)


@pytest.mark.parametrize(
    ("devices", "args", "message"),
    [
        ([], [], "no audio input device found"),
        (
            [{"name": "HDMI", "max_input_channels": 0, "default_samplerate": 48000.0}],
            [],
            "no audio input device found",
        ),
        (
            [
                {"name": "USB mic", "max_input_channels": 1, "default_samplerate": 48000.0},
                {"name": "HDMI", "max_input_channels": 0, "default_samplerate": 48000.0},
            ],
            ["--device-index", "1"],
            "device 1 is not an audio input device (input devices: 0: USB mic)",
        ),
        (
            [{"name": "USB mic", "max_input_channels": 1, "default_samplerate": 48000.0}],
            ["--device-index", "7"],
            "device 7 is not an audio input device (input devices: 0: USB mic)",
        ),
    ],
)
def test_mic_with_no_such_input_device_is_one_line_naming_the_inputs(
    monkeypatch, capsys, devices, args, message
):
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice(devices))
    assert main(["transcribe", "--mic", *args]) == 2
    assert capsys.readouterr() == ("", f"seqrec: --mic: {message}\n")


def test_a_microphone_block_stream_is_resampled_to_the_model_rate(monkeypatch):
    """A device that records only at 48 kHz: its blocks arrive at 16 kHz, the same signal."""
    fake = _fake_sounddevice([{"name": "USB mic", "max_input_channels": 1, "default_samplerate": 48000.0}])
    tone = np.sin(2 * np.pi * 440 * np.arange(48_000) / 48_000).astype(np.float32)

    def check_input_settings(device, channels, dtype, samplerate):
        if samplerate != 48_000:
            raise fake.PortAudioError("Invalid sample rate")

    class InputStream:
        def __init__(self, device, channels, dtype, samplerate, blocksize, callback):
            self.callback, self.blocksize = callback, blocksize

        def __enter__(self):
            for start in range(0, len(tone), self.blocksize):
                chunk = tone[start : start + self.blocksize]
                self.callback(chunk[:, None], len(chunk), None, None)
            return self

        def __exit__(self, *exc):
            return False

    fake.check_input_settings, fake.InputStream = check_input_settings, InputStream
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    mic = Microphone()
    got = []
    for block in mic.blocks(16_000, 0.1):
        got.append(block)
        if sum(b.size for b in got) >= 15_000:
            break
    audio = np.concatenate(got)
    expected = np.sin(2 * np.pi * 440 * np.arange(audio.size) / 16_000)
    np.testing.assert_allclose(audio[2000:14000], expected[2000:14000], atol=0.02)
