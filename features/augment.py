"""Audio augmentation for training: speed perturbation, gain, and coloured noise at a random SNR."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .audio import resample


@dataclass(frozen=True)
class AudioAugmentConfig:
    """Ranges drawn uniformly per utterance; every draw comes from the generator the caller passes."""

    speed: tuple[float, float] = (0.9, 1.1)  # Kaldi-style: resampling changes tempo and pitch together
    gain_db: tuple[float, float] = (-10.0, 10.0)
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (5.0, 40.0)
    # Noise colour: power spectrum ~ 1/f**alpha (0 white, 1 pink, 2 brown).
    noise_alpha: tuple[float, float] = (0.0, 2.0)


def augment_audio(audio: np.ndarray, sample_rate: int, config: AudioAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """One random variant of ``audio`` ([n_samples] float32); the length changes with the speed."""
    speed = rng.uniform(*config.speed)
    if abs(speed - 1.0) > 1e-3:
        # Playing `speed` times faster = treating the samples as if recorded at rate * speed.
        audio = resample(audio, round(sample_rate * speed), sample_rate)
    audio = audio * np.float32(10 ** (rng.uniform(*config.gain_db) / 20))
    if rng.random() < config.noise_probability:
        audio = audio + coloured_noise(len(audio), rng.uniform(*config.noise_alpha), rng) * _noise_scale(
            audio, rng.uniform(*config.noise_snr_db)
        )
    return audio.astype(np.float32)


def coloured_noise(n_samples: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power spectrum falls as 1/f**alpha."""
    spectrum = rng.standard_normal(n_samples // 2 + 1) + 1j * rng.standard_normal(n_samples // 2 + 1)
    frequencies = np.maximum(np.arange(len(spectrum)), 1)
    noise = np.fft.irfft(spectrum / frequencies ** (alpha / 2), n=n_samples)
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def _noise_scale(audio: np.ndarray, snr_db: float) -> np.float32:
    # SNR against the loud part of the signal: clips are mostly silence around one word.
    power = np.mean(np.sort(audio**2)[len(audio) // 2 :]) if len(audio) else 0.0
    return np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
