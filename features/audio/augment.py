"""Audio augmentation for training: speed perturbation, gain, room reverberation, noise at a random
SNR (real recorded noise when the recipe names some, coloured noise otherwise), a telephone line,
and quiet padding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrec.features.audio.reading import resample


@dataclass(frozen=True)
class AudioAugmentConfig:
    """Ranges drawn uniformly per utterance; every draw comes from the generator the caller passes."""

    speed: tuple[float, float] = (0.9, 1.1)  # Kaldi-style: resampling changes tempo and pitch together
    gain_db: tuple[float, float] = (-10.0, 10.0)
    noise_probability: float = 0.5
    noise_snr_db: tuple[float, float] = (5.0, 40.0)
    # Noise colour: power spectrum ~ 1/f**alpha (0 white, 1 pink, 2 brown).
    noise_alpha: tuple[float, float] = (0.0, 2.0)
    # Recorded noise (audio files, or folders of them): when given, this share of the noisy
    # utterances gets a random stretch of a real recording instead of coloured noise.
    noise_files: tuple[str, ...] = ()
    real_noise_share: float = 0.7
    # Reverberation: a synthetic room (exponentially decaying noise after the direct sound).
    reverb_probability: float = 0.0
    reverb_rt60: tuple[float, float] = (0.15, 0.7)  # seconds for the tail to fall 60 dB
    reverb_drr_db: tuple[float, float] = (-3.0, 12.0)  # direct-to-reverberant energy ratio
    # Padding: quiet coloured noise before and after (each side drawn alone). Clips cut to one word
    # teach a model one framing of it; a segmenter or a stream hands it others, and features
    # normalised per utterance change with how much quiet surrounds the word.
    pad_probability: float = 0.0
    pad_seconds: tuple[float, float] = (0.0, 0.5)
    pad_level_db: tuple[float, float] = (-80.0, -45.0)  # RMS, dB below full scale
    # A telephone line: the band a phone passes (about 300-3400 Hz, edges drawn) and 8-bit mu-law
    # (G.711). Real telephone speech that is all other speech teaches a model that the line itself
    # means "reject" unless its own words come through the line too.
    telephone_probability: float = 0.0

    def __post_init__(self):
        for name in (
            "noise_probability",
            "real_noise_share",
            "reverb_probability",
            "pad_probability",
            "telephone_probability",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {getattr(self, name)}")
        if self.reverb_rt60[0] <= 0 or self.reverb_rt60[1] < self.reverb_rt60[0]:
            raise ValueError(f"reverb_rt60 must be a range of positive seconds, not {self.reverb_rt60}")


def augment_audio(
    audio: np.ndarray,
    sample_rate: int,
    config: AudioAugmentConfig,
    rng: np.random.Generator,
    noises: Sequence[np.ndarray] = (),
) -> np.ndarray:
    """One random variant of ``audio`` ([n_samples] float32); the length changes with the speed.

    ``noises`` are the recipe's recorded noise files, decoded once by the caller at ``sample_rate``.
    """
    speed = rng.uniform(*config.speed)
    if abs(speed - 1.0) > 1e-3:
        # Playing `speed` times faster = treating the samples as if recorded at rate * speed.
        audio = resample(audio, round(sample_rate * speed), sample_rate)
    audio = audio * np.float32(10 ** (rng.uniform(*config.gain_db) / 20))
    if rng.random() < config.reverb_probability:
        audio = reverberate(
            audio, sample_rate, rng.uniform(*config.reverb_rt60), rng.uniform(*config.reverb_drr_db), rng
        )
    if rng.random() < config.noise_probability:
        if noises and rng.random() < config.real_noise_share:
            noise = noise_stretch(noises[rng.integers(len(noises))], len(audio), rng)
        else:
            noise = coloured_noise(len(audio), rng.uniform(*config.noise_alpha), rng)
        audio = audio + noise * noise_scale(audio, rng.uniform(*config.noise_snr_db))
    if rng.random() < config.telephone_probability:
        audio = telephone_line(audio, sample_rate, rng)
    if rng.random() < config.pad_probability:
        audio = pad_quietly(audio, sample_rate, config, rng)
    return audio.astype(np.float32)


MU = 255.0  # G.711 mu-law


def telephone_line(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """``audio`` as a telephone passes it: band-passed (low edge 250-400 Hz, high edge 3000-3500 Hz,
    4th-order Butterworth) and coded as 8-bit mu-law at a level drawn so the peak uses 30-100% of
    the code's range; same length, back at the input's level."""
    from scipy.signal import butter, sosfilt

    high = min(rng.uniform(3000.0, 3500.0), 0.45 * sample_rate)
    band = butter(4, [rng.uniform(250.0, 400.0), high], btype="band", fs=sample_rate, output="sos")
    passed = sosfilt(band, audio)
    peak = float(np.max(np.abs(passed))) if len(passed) else 0.0
    if peak <= 0.0:
        return passed.astype(np.float32)
    scale = rng.uniform(0.3, 1.0) / peak
    level = np.clip(passed * scale, -1.0, 1.0)
    coded = np.sign(level) * np.log1p(MU * np.abs(level)) / np.log1p(MU)
    coded = np.round((coded + 1.0) * 127.5) / 127.5 - 1.0  # 256 codes
    decoded = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(MU)) / MU
    return (decoded / scale).astype(np.float32)


def pad_quietly(
    audio: np.ndarray, sample_rate: int, config: AudioAugmentConfig, rng: np.random.Generator
) -> np.ndarray:
    """``audio`` with quiet coloured noise of random lengths and levels before and after it."""

    def side() -> np.ndarray:
        n_samples = int(rng.uniform(*config.pad_seconds) * sample_rate)
        level = np.float32(10 ** (rng.uniform(*config.pad_level_db) / 20))
        return (
            coloured_noise(n_samples, rng.uniform(*config.noise_alpha), rng) * level
            if n_samples
            else np.zeros(0, np.float32)
        )

    return np.concatenate([side(), audio, side()])


def reverberate(
    audio: np.ndarray, sample_rate: int, rt60: float, drr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """``audio`` as heard in a room whose reverberation falls 60 dB in ``rt60`` seconds, with the
    direct sound ``drr_db`` above the reverberant tail; same length, same RMS."""
    from scipy.signal import fftconvolve

    n_taps = max(2, int(rt60 * sample_rate))
    tail = rng.standard_normal(n_taps) * np.exp(-6.908 * np.arange(n_taps) / n_taps)  # e^-6.908 = -60 dB
    tail[0] = 0.0
    impulse = tail * np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    impulse[0] = 1.0  # the direct path
    wet = fftconvolve(audio, impulse)[: len(audio)]
    rms_in, rms_out = np.sqrt(np.mean(audio**2)), np.sqrt(np.mean(wet**2))
    return (wet * (rms_in / rms_out if rms_out > 0 else 1.0)).astype(np.float32)


def noise_stretch(recording: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n_samples`` stretch of a noise recording, looped when the recording is shorter;
    unit RMS, so that the SNR alone sets its level."""
    if len(recording) == 0:
        return np.zeros(n_samples, np.float32)
    start = int(rng.integers(len(recording)))
    stretch = np.resize(np.roll(recording, -start), n_samples)
    return (stretch / max(float(np.sqrt(np.mean(stretch**2))), 1e-12)).astype(np.float32)


def coloured_noise(n_samples: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise whose power spectrum falls as 1/f**alpha."""
    spectrum = rng.standard_normal(n_samples // 2 + 1) + 1j * rng.standard_normal(n_samples // 2 + 1)
    frequencies = np.maximum(np.arange(len(spectrum)), 1)
    noise = np.fft.irfft(spectrum / frequencies ** (alpha / 2), n=n_samples)
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def noise_scale(audio: np.ndarray, snr_db: float) -> np.float32:
    """The gain that puts unit-RMS noise ``snr_db`` under ``audio``: the SNR is against the loud
    half of the signal, since clips are mostly silence around one word."""
    power = np.mean(np.sort(audio**2)[len(audio) // 2 :]) if len(audio) else 0.0
    return np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
