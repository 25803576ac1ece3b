"""Audio augmentation on real clips: reverberation, recorded room noise, and a recipe that uses both."""

import json
from pathlib import Path

import numpy as np
import pytest

from seqrec.features import AudioAugmentConfig, InputError, augment_audio, load_audio
from seqrec.features.audio.augment import noise_stretch, reverberate, telephone_line
from seqrec.pipelines.recipes import load_recipe
from seqrec.pipelines.speech.corpora import room_noise_files
from seqrec.pipelines.speech.data import noise_paths
from seqrec.pipelines.speech.training import train

DATA = Path(__file__).parent / "data"
RATE = 8000
SPEECH_COMMANDS_CLIPS = sorted(DATA.glob("sc_*.flac"))


def _word_then_silence() -> np.ndarray:
    word = load_audio(DATA / "3_jackson_0.wav", RATE)
    return np.concatenate([word, np.zeros(RATE // 2, np.float32)])


def test_reverberation_keeps_length_and_level_and_fills_the_silence_after_the_word():
    dry = _word_then_silence()
    after = slice(len(dry) - RATE // 2, len(dry) - RATE // 4)  # the first 0.25 s after the word
    tails = []
    for rt60 in (0.2, 0.8):
        wet = reverberate(dry, RATE, rt60, drr_db=0.0, rng=np.random.default_rng(1))
        assert wet.shape == dry.shape and wet.dtype == np.float32
        assert np.sqrt(np.mean(wet**2)) == pytest.approx(np.sqrt(np.mean(dry**2)), rel=1e-4)
        tails.append(float(np.mean(wet[after] ** 2)))
    assert np.mean(dry[after] ** 2) == 0.0
    assert 0.0 < tails[0] < tails[1], "a longer RT60 leaves more sound after the word"


def test_a_telephone_line_keeps_the_voice_band_and_codes_it_in_256_levels():
    rate = 16_000  # a Speech Commands clip: sound below and above a phone's band
    word = load_audio(DATA / "sc_yes_03401e93_nohash_0.flac", rate)
    line = telephone_line(word, rate, np.random.default_rng(2))
    assert line.shape == word.shape and line.dtype == np.float32

    def band_share(audio, low, high):
        power = np.abs(np.fft.rfft(audio)) ** 2
        hz = np.fft.rfftfreq(len(audio), 1 / rate)
        return power[(hz >= low) & (hz < high)].sum() / power.sum()

    assert band_share(word, 0, 150) > 100 * band_share(line, 0, 150), "the hum below the band: cut"
    assert band_share(word, 3800, 8000) > 5 * band_share(line, 3800, 8000), "the hiss above: cut"
    assert band_share(line, 400, 3000) > 0.8
    np.testing.assert_array_equal(line, telephone_line(word, rate, np.random.default_rng(2)))
    # mu-law's step grows with the level: the loud half of the samples takes few of the 256 codes.
    loud = np.abs(line) > 0.5 * np.abs(line).max()
    assert len(np.unique(np.round(line[loud], 6))) < 64


def test_room_noise_is_cut_from_the_quiet_parts_of_real_clips(tmp_path):
    rows = [{"audio_filepath": str(path)} for path in SPEECH_COMMANDS_CLIPS]
    files = room_noise_files(rows, tmp_path / "noise", RATE, seconds_per_file=0.5)
    assert files and all(path.is_file() for path in files)
    noise = np.concatenate([load_audio(path, RATE) for path in files])
    speech_peak = max(np.abs(load_audio(path, RATE)).max() for path in SPEECH_COMMANDS_CLIPS)
    assert 0.1 * RATE <= len(noise) < len(SPEECH_COMMANDS_CLIPS) * RATE
    assert np.abs(noise).max() < 0.1 * speech_peak, "no word is left in the noise"
    assert np.sqrt(np.mean(noise**2)) > 1e-4, "room tone, not digital silence"


def test_recorded_noise_is_mixed_at_the_drawn_snr():
    clean = load_audio(DATA / "7_theo_1.wav", RATE)
    room = np.sin(2 * np.pi * 1000 * np.arange(RATE // 10) / RATE).astype(
        np.float32
    )  # shorter than the clip: looped
    stretch = noise_stretch(room, len(clean), np.random.default_rng(0))
    assert len(stretch) == len(clean) and np.sqrt(np.mean(stretch**2)) == pytest.approx(1.0, rel=1e-3)
    config = AudioAugmentConfig(
        speed=(1.0, 1.0),
        gain_db=(0, 0),
        noise_probability=1.0,
        noise_snr_db=(0, 0),
        noise_files=("room.wav",),
        real_noise_share=1.0,
    )
    noisy = augment_audio(clean, RATE, config, np.random.default_rng(0), noises=[room])
    spectrum = np.abs(np.fft.rfft(noisy - clean))
    assert np.argmax(spectrum) == pytest.approx(1000 * len(noisy) / RATE, abs=2), (
        "the added noise is the recording"
    )


def test_noise_paths_names_a_missing_or_empty_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        noise_paths([str(tmp_path / "nowhere")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no audio files"):
        noise_paths([str(tmp_path / "empty")])
    with pytest.raises(ValueError, match="reverb_probability"):
        AudioAugmentConfig(reverb_probability=1.5)


def test_a_recipe_trains_with_room_noise_and_reverberation(tmp_path):
    noise_dir = tmp_path / "noise"
    room_noise_files([{"audio_filepath": str(path)} for path in SPEECH_COMMANDS_CLIPS], noise_dir, RATE)
    manifest = DATA / "manifest.jsonl"
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        "name: tiny\n"
        f"data: {{train: [{manifest}], dev: [{manifest}]}}\n"
        "features: {sample_rate: 8000, fmax: 4000}\n"
        f"augment: {{noise_probability: 1.0, noise_files: [{noise_dir}], reverb_probability: 1.0}}\n"
        "model: {n_hidden: 8, n_layers: 1, stack: 3}\n"
        f"train: {json.dumps({'epochs': 2, 'batch_frames': 300, 'warmup_steps': 1, 'loader_workers': 0})}\n"
        f"output_dir: {tmp_path / 'run'}\n"
    )
    loaded = load_recipe(recipe)
    assert loaded.augment.noise_files == (str(noise_dir),) and loaded.augment.reverb_probability == 1.0
    train(loaded, log=lambda *_: None)
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 2 and all(np.isfinite(h["train_loss"]) for h in history)


def test_padding_surrounds_the_clip_with_quiet_noise():
    clean = load_audio(DATA / "7_theo_1.wav", RATE)
    config = AudioAugmentConfig(
        speed=(1.0, 1.0),
        gain_db=(0, 0),
        noise_probability=0.0,
        pad_probability=1.0,
        pad_seconds=(0.2, 0.4),
        pad_level_db=(-60, -60),
    )
    padded = augment_audio(clean, RATE, config, np.random.default_rng(1))
    added = len(padded) - len(clean)
    assert 0.4 * RATE <= added <= 0.8 * RATE
    start = next(i for i in range(added + 1) if np.array_equal(padded[i : i + len(clean)], clean))
    before, after = padded[:start], padded[start + len(clean) :]
    assert len(before) >= 0.2 * RATE and len(after) >= 0.2 * RATE, "each side is padded"
    for side in (before, after):
        assert 20 * np.log10(np.sqrt(np.mean(side**2))) == pytest.approx(-60, abs=1), "at the drawn level"
