"""Spectral features are librosa's MFCC, log-mel and Δ, whatever the clip's length."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from seqrec.features import SpectralConfig, load_audio, spectral_features, spectral_features_batch
from seqrec.features.audio import spectral as spectral_module
from seqrec.features.audio.spectral import librosa_features

DATA = Path(__file__).parent / "data"
CLIPS = ["sc_left_189cbabe_nohash_0.flac", "3_jackson_0.wav"]


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
@pytest.mark.parametrize("sample_rate", [8000, 16000])
def test_features_equal_librosa_on_real_clips(kind, sample_rate):
    config = SpectralConfig(kind=kind, sample_rate=sample_rate, fmax=sample_rate / 2, cmvn=False)
    for name in CLIPS:
        audio = load_audio(DATA / name, sample_rate)
        ours, reference = spectral_features(audio, config), librosa_features(audio, config)
        assert ours.shape == reference.shape == (1 + len(audio) // config.hop_length, config.dim)
        scale = np.abs(reference).max(axis=0)
        np.testing.assert_allclose(ours, reference, atol=1e-4 * scale.max(), rtol=1e-4)


@pytest.mark.parametrize("n_samples", [170, 400, 560, 801])
def test_short_audio_matches_librosa_at_the_edges(n_samples):
    """Clips of 3 to 11 frames: the Δ window shrinks to fit, and the edge fit still matches."""
    config = SpectralConfig(sample_rate=8000, fmax=4000, cmvn=False)
    audio = np.random.default_rng(n_samples).normal(0, 0.1, n_samples).astype(np.float32)
    ours = spectral_features(audio, config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa: n_fft is larger than the signal
        reference = librosa_features(audio, config)
    np.testing.assert_allclose(ours, reference, atol=1e-3, rtol=1e-4)


def test_cmvn_features_have_zero_mean_unit_variance():
    audio = load_audio(DATA / CLIPS[0], 8000)
    features = spectral_features(audio, SpectralConfig(sample_rate=8000, fmax=4000))
    np.testing.assert_allclose(features.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(features.std(axis=0), 1, atol=1e-3)


@pytest.mark.parametrize("batch_samples", [1 << 16, 20_000])
def test_batched_features_equal_each_clip_alone(monkeypatch, batch_samples):
    """Clips of equal length are computed together (in groups capped at BATCH_SAMPLES: here three
    one-second clips in one group, or in groups of two), others alone; every clip gets exactly
    what it gets by itself, in order."""
    monkeypatch.setattr(spectral_module, "BATCH_SAMPLES", batch_samples)
    config = SpectralConfig(sample_rate=8000, fmax=4000)
    real = [load_audio(DATA / name, 8000) for name in CLIPS]
    rng = np.random.default_rng(0)
    clips = [
        real[0],
        rng.normal(0, 0.1, 8000),
        real[1],
        rng.normal(0, 0.1, 8000),
        real[0][:300],
        rng.normal(0, 0.1, 8000),
    ]
    clips = [np.asarray(c, dtype=np.float32) for c in clips]
    batched = spectral_features_batch(clips, config)
    assert len(batched) == len(clips)
    for clip, features in zip(clips, batched, strict=False):
        alone = spectral_features(clip, config)
        assert features.shape == alone.shape
        np.testing.assert_allclose(features, alone, rtol=1e-5, atol=1e-5)
