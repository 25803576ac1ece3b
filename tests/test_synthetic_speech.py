"""The synthetic speech generator renders real audio with the installed TTS engines.

Nothing is mocked but one thing: the rerun test replaces ``render`` to prove it is never called.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile

from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.speech import synthetic as synthetic_speech
from seqrec.pipelines.speech.synthetic import (
    ENGINE_BINARIES,
    PITCH_RANGE,
    RATE_RANGE,
    Voice,
    available_voices,
    generate_corpus,
    plan_corpus,
    render,
)

INSTALLED = [engine for engine, binaries in ENGINE_BINARIES.items() if all(shutil.which(b) for b in binaries)]
pytestmark = pytest.mark.skipif(
    not INSTALLED,
    reason="no TTS engine installed (apt-get install espeak-ng flite festival festvox-kallpc16k)",
)

MIN_SECONDS, MAX_SECONDS = 0.2, 3.0
# A spoken word peaks far above this; 16-bit silence or dither stays far below.
MIN_PEAK = 0.05
MANIFEST_FIELDS = {"audio_filepath", "duration", "text", "engine", "voice", "rate", "pitch"}


@pytest.fixture(scope="module")
def voices() -> list[Voice]:
    return available_voices()


@pytest.fixture(scope="module")
def quick_voices(voices) -> list[Voice]:
    """A few voices of the engines that start fastest (festival loads its voice for every clip)."""
    fast = [v for v in voices if v.engine != "festival"] or voices
    by_engine: dict[str, list[Voice]] = {}
    for voice in fast:
        by_engine.setdefault(voice.engine, []).append(voice)
    return [voice for pool in by_engine.values() for voice in pool[:2]]


def _read(path):
    info = soundfile.info(str(path))
    audio, _ = soundfile.read(str(path), dtype="float32")
    return audio, info


def test_every_installed_engine_lists_voices(voices):
    listed = {voice.engine for voice in voices}
    assert listed == set(INSTALLED)
    assert len(voices) == len(set(voices))


def test_each_engine_renders_a_word_as_16k_mono_speech(voices, tmp_path):
    for engine in INSTALLED:
        voice = next(v for v in voices if v.engine == engine)
        path = tmp_path / f"{engine}.wav"
        duration = render("seven", voice, rate=1.0, pitch=1.0, path=path)
        audio, info = _read(path)
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16_000, 1, "PCM_16", "WAV"), (
            engine
        )
        assert MIN_SECONDS <= info.duration <= MAX_SECONDS, (engine, info.duration)
        assert duration == pytest.approx(info.duration)
        assert np.abs(audio).max() > MIN_PEAK, engine
        assert not list(tmp_path.glob("*.tmp.*"))


def test_text_that_looks_like_options_is_spoken_not_parsed(quick_voices, tmp_path):
    for voice in {v.engine: v for v in quick_voices}.values():
        path = tmp_path / f"{voice.engine}.wav"
        render("--help -v $(reboot); stop", voice, rate=1.0, pitch=1.0, path=path)
        audio, info = _read(path)
        assert info.duration > MIN_SECONDS and np.abs(audio).max() > MIN_PEAK, voice


def test_a_slower_rate_gives_a_longer_clip(quick_voices, tmp_path):
    voice = quick_voices[0]
    slow = render("forward", voice, rate=RATE_RANGE[0], pitch=1.0, path=tmp_path / "slow.wav")
    fast = render("forward", voice, rate=RATE_RANGE[1], pitch=1.0, path=tmp_path / "fast.wav")
    assert slow > 1.2 * fast


def test_corpus_manifest_rows_resolve_to_the_audio_they_describe(quick_voices, tmp_path):
    manifest = generate_corpus(
        ["yes", "no"],
        tmp_path / "corpus",
        n_per_text=2,
        seed=3,
        voices=quick_voices,
        fields={"in_vocabulary": True},
    )
    raw = [json.loads(line) for line in manifest.read_text().splitlines()]
    rows = list(read_manifest(manifest))
    assert len(rows) == 4
    for stored, row in zip(raw, rows, strict=False):
        assert set(row) == MANIFEST_FIELDS | {"in_vocabulary"}
        assert not stored["audio_filepath"].startswith("/")  # relative to the manifest
        audio, info = _read(row["audio_filepath"])
        assert row["duration"] == pytest.approx(info.duration, abs=1e-3)
        assert info.samplerate == 16_000 and np.abs(audio).max() > MIN_PEAK
        assert row["text"] in {"yes", "no"} and row["in_vocabulary"] is True
        voice = next(v for v in quick_voices if (v.engine, v.name) == (row["engine"], row["voice"]))
        assert RATE_RANGE[0] <= row["rate"] <= RATE_RANGE[1]
        assert (
            PITCH_RANGE[0] <= row["pitch"] <= PITCH_RANGE[1] if voice.pitch_control else row["pitch"] == 1.0
        )
    assert sorted(row["text"] for row in rows) == ["no", "no", "yes", "yes"]
    assert not (tmp_path / "corpus" / "manifest.errors.jsonl").exists()


def test_a_rerun_keeps_the_clips_already_written(quick_voices, tmp_path, monkeypatch):
    first = generate_corpus(
        ["left", "right"], tmp_path, n_per_text=2, seed=5, voices=quick_voices
    ).read_text()

    def no_render(*args, **kwargs):
        raise AssertionError("render called for a clip already on disk")

    monkeypatch.setattr(synthetic_speech, "render", no_render)
    second = generate_corpus(
        ["left", "right"], tmp_path, n_per_text=2, seed=5, voices=quick_voices
    ).read_text()
    assert second == first


def test_the_same_seed_gives_the_same_plan():
    voices = [Voice("espeak-ng", f"en-us+m{i}") for i in range(1, 8)] + [
        Voice("flite", "slt"),
        Voice("flite", "rms", pitch_control=False),
    ]
    texts = ["zero", "one", "go forward"]
    plan = plan_corpus(texts, voices, n_per_text=5, seed=11)
    assert plan == plan_corpus(texts, voices, n_per_text=5, seed=11)
    assert [c.filename for c in plan] == [
        c.filename for c in plan_corpus(texts, voices, n_per_text=5, seed=11)
    ]
    assert plan != plan_corpus(texts, voices, n_per_text=5, seed=12)
    assert [c.text for c in plan] == [t for t in texts for _ in range(5)]
    assert len(set(plan)) == len(plan)
    assert all(c.pitch == 1.0 for c in plan if not c.voice.pitch_control)
    assert [c.text for c in plan_corpus(texts, voices, total=7, seed=11)] == [*texts, *texts, "zero"]


def test_a_failed_render_is_reported_in_one_line_and_left_out(quick_voices, tmp_path):
    good = quick_voices[0]
    bogus = Voice(good.engine, "no-such-voice")
    voices, seed = [good, bogus], 1
    planned_bad = sum(clip.voice == bogus for clip in plan_corpus(["up"], voices, n_per_text=4, seed=seed))
    assert 0 < planned_bad < 4, "pick a seed that plans both voices"
    reports: list[str] = []
    manifest = generate_corpus(
        ["up"], tmp_path, n_per_text=4, seed=seed, voices=voices, report=reports.append
    )
    rows = list(read_manifest(manifest))
    assert len(rows) == 4 - planned_bad and all(row["voice"] == good.name for row in rows)
    assert len(reports) == planned_bad
    for line in reports:
        assert "\n" not in line and line.endswith(f"{good.engine} has no voice 'no-such-voice'")
        assert line.startswith(str(tmp_path / "audio" / good.engine))
    errors = [json.loads(line) for line in (tmp_path / "manifest.errors.jsonl").read_text().splitlines()]
    assert len(errors) == planned_bad and all(e["voice"] == "no-such-voice" and e["error"] for e in errors)
    assert not list((tmp_path / "audio").rglob("*.tmp.*"))


def test_an_unknown_engine_is_a_render_error(tmp_path):
    with pytest.raises(synthetic_speech.SynthesisError, match="unknown engine 'say'"):
        render("stop", Voice("say", "Alex"), 1.0, 1.0, tmp_path / "x.wav")
