"""Audio that cannot hold speech comes out as empty text with a ``note`` saying why, never as a
word; real speech, quiet or phase-inverted stereo included, is transcribed as before, with no note."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from seqrec.features.audio.speech_check import why_not_speech
from seqrec.pipelines.cli import main

DATA_DIR = Path(__file__).parent / "data"
RATE = 16_000
QUIET_DB = -65.0


def _tone(frequency: float, seconds: float = 1.0, rate: int = RATE, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


NON_SPEECH = {
    "silence": (np.zeros(RATE, np.float32), "no speech: silence"),
    "dc": (np.full(RATE, 0.5, np.float32), "no speech: a constant level (-6 dBFS DC offset), no sound"),
    "tone_1hz": (_tone(1.0), "no speech: a steady tone at 1 Hz"),
    "tone_440hz": (_tone(440.0), "no speech: a steady tone at 440 Hz"),
    "white_noise": (
        (0.3 * np.random.default_rng(0).standard_normal(RATE)).astype(np.float32),
        "no speech: noise without speech",
    ),
}
FIXTURE_CLIPS = sorted(
    [*DATA_DIR.glob("*.wav"), *DATA_DIR.glob("*.flac"), *(DATA_DIR / "samples").glob("*.wav")]
)


@pytest.fixture(scope="module")
def transcriber(bundled_model):
    from seqrec.pipelines import Transcriber

    return Transcriber(bundled_model, device="cpu")


@pytest.fixture(scope="module")
def jackson() -> tuple[np.ndarray, int]:
    """tests/data/3_jackson_0.wav ("three", 8 kHz) as float32."""
    audio, rate = soundfile.read(str(DATA_DIR / "3_jackson_0.wav"), dtype="float32")
    return audio, rate


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# -- the check alone (numpy) ----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(NON_SPEECH))
def test_the_check_names_what_the_audio_is(case):
    audio, note = NON_SPEECH[case]
    assert why_not_speech(audio, RATE) == note


@pytest.mark.parametrize("rate", [16_000, 8_000])
@pytest.mark.parametrize("frequency", [1.0, 50.0, 1000.0])
def test_a_steady_tone_is_named_with_its_frequency_at_both_model_rates(frequency, rate):
    assert (
        why_not_speech(_tone(frequency, rate=rate), rate) == f"no speech: a steady tone at {frequency:g} Hz"
    )


def test_random_bytes_read_as_8_bit_audio_are_noise():
    audio = (np.random.default_rng(1).integers(0, 256, RATE) - 128) / 128
    assert why_not_speech(audio, RATE) == "no speech: noise without speech"


@pytest.mark.parametrize("clip", FIXTURE_CLIPS, ids=lambda p: p.name)
@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_no_real_clip_gets_a_note(clip, rate):
    from seqrec.features import load_audio

    assert why_not_speech(load_audio(clip, rate), rate) is None


# -- through the Transcriber and the command ---------------------------------------------------------


@pytest.mark.parametrize("case", sorted(NON_SPEECH))
def test_non_speech_comes_out_as_empty_text_with_a_note(transcriber, case):
    audio, note = NON_SPEECH[case]
    record = transcriber.transcribe_array(audio, RATE)
    assert (record["text"], record["score"], record["words"], record["note"]) == ("", 0.0, [], note)


def test_fixture_clips_are_transcribed_without_a_note(transcriber):
    records = list(transcriber.transcribe_paths([str(p) for p in FIXTURE_CLIPS]))
    assert [("note" in r, "error" in r) for r in records] == [(False, False)] * len(FIXTURE_CLIPS)
    texts = {Path(r["path"]).name: r["text"] for r in records}
    assert (texts["3_jackson_0.wav"], texts["7_theo_1.wav"], texts["0_nicolas_2.wav"]) == (
        "three",
        "seven",
        "zero",
    )


def test_quiet_speech_is_lifted_and_transcribed_as_the_original(transcriber, jackson, tmp_path):
    audio, rate = jackson
    quiet = audio / np.max(np.abs(audio)) * 10 ** (QUIET_DB / 20)
    record = transcriber.transcribe_array(quiet, rate)
    assert (record["text"], "note" in record) == ("three", False)
    path = tmp_path / "quiet.wav"  # the same, as a file a user would have: 16-bit, a few steps high
    soundfile.write(str(path), quiet, rate, subtype="PCM_16")
    [record] = transcriber.transcribe_paths([str(path)])
    assert (record["text"], "note" in record) == ("three", False)


def test_phase_inverted_stereo_is_read_from_one_channel(transcriber, jackson, tmp_path):
    audio, rate = jackson
    path = tmp_path / "inverted.wav"
    soundfile.write(str(path), np.stack([audio, -audio], axis=1), rate, subtype="PCM_16")
    [record] = transcriber.transcribe_paths([str(path)])
    assert (record["text"], "note" in record) == ("three", False)


def test_cli_jsonl_rows_carry_the_note(bundled_model, tmp_path, capsys):
    tone, noise = tmp_path / "tone.wav", tmp_path / "random_bytes.wav"
    soundfile.write(str(tone), _tone(1.0), RATE, subtype="PCM_16")
    random_bytes = np.random.default_rng(2).integers(0, 256, 2 * 8_000).astype(np.uint8)
    soundfile.write(str(noise), (random_bytes.astype(np.float32) - 128) / 128, 8_000, subtype="PCM_U8")
    speech = DATA_DIR / "3_jackson_0.wav"
    assert main(["transcribe", str(tone), str(noise), str(speech), "--format", "jsonl"]) == 0
    rows = {Path(row["path"]).name: row for row in _jsonl(capsys.readouterr().out)}
    assert rows["tone.wav"]["note"] == "no speech: a steady tone at 1 Hz"
    assert rows["random_bytes.wav"]["note"] == "no speech: noise without speech"
    assert [rows[name]["text"] for name in ("tone.wav", "random_bytes.wav")] == ["", ""]
    assert (rows["3_jackson_0.wav"]["text"], "note" in rows["3_jackson_0.wav"]) == ("three", False)


def test_batch_transcribe_rows_carry_the_note(bundled_model, tmp_path):
    from seqrec.pipelines.batch.inputs import BatchItem
    from seqrec.pipelines.batch.tasks import TaskOptions, load_transcriber

    silence = tmp_path / "silence.wav"
    soundfile.write(str(silence), np.zeros(RATE, np.float32), RATE, subtype="PCM_16")
    transcribe_items = load_transcriber(TaskOptions(model=bundled_model, device="cpu"))
    rows = transcribe_items(
        [
            BatchItem("silence", str(silence), "audio"),
            BatchItem("three", str(DATA_DIR / "3_jackson_0.wav"), "audio"),
        ]
    )
    assert (rows[0]["text"], rows[0]["note"]) == ("", "no speech: silence")
    assert (rows[1]["text"], "note" in rows[1]) == ("three", False)
