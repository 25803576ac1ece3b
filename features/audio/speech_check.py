"""Is there speech here at all? Audio that cannot hold speech is named, not guessed at.

A model trained on words takes anything it is given for a word: a steady tone, a constant offset
or noise comes out as "go" or "five" (normalised features hide the level, and nothing else tells
the model there is no voice). :func:`why_not_speech` looks before the model does, with measures
that do not depend on the level, in numpy alone:

- the level (dBFS) once the constant offset (DC) is removed: digital silence, or an offset alone;
- the share of the energy in the speech band (200-4000 Hz): a tone at 1 or 50 Hz has none;
- how stable the speech band is over time: speech comes and goes (syllables at 2-8 Hz, pauses),
  a tone or steady noise stays within a few dB, frame after frame, band after band;
- spectral flatness, and how much of the energy lies at one frequency: a tone or noise.

Quiet speech is speech: :func:`raise_quiet` lifts its level so that the features' floor does not
swallow it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

# Peak level (dBFS, after removing DC) under which audio is silence: a 16-bit file's last bits
# (one step is -90 dBFS) or digital zero. Speech far quieter than any recording is still heard.
SILENCE_DB = -80.0
# The band speech carries its words in; the upper edge is capped at the audio's Nyquist frequency.
SPEECH_BAND = (200.0, 4000.0)
# Audio with less than this share of its energy (after DC) in the speech band holds no speech.
MIN_BAND_SHARE = 1e-3
# Steadiness: how much the speech band's level moves over time (dB, 90th minus 10th percentile
# of 50 ms frames) and how much its spectrum does (mean standard deviation of the level in each of
# BANDS bands, dB). Both under their limits: a steady sound. Chosen between the train and dev
# clips (the steadiest: 1.3 dB and 1.2 dB, never both under the limits with a flat spectrum) and
# generated noise (white, pink, random bytes: at most 2.0 dB and 1.5 dB).
MAX_STEADY_SPREAD_DB = 3.0
MAX_STEADY_VARIATION_DB = 2.0
BANDS = 6
# A steady sound with this share of its energy at one frequency is a tone ...
MIN_TONE_SHARE = 0.95
# ... and one whose average spectrum in the speech band is this flat (1: white noise) is noise. A
# steady sound less flat is left to the model: speech buried in rumble or hum is steady too (the
# steadiest train and dev clips reach a flatness of 0.32; pink noise 0.56, white noise 0.84).
MIN_NOISE_FLATNESS = 0.45
# Audio that may hold speech and peaks under QUIET_DB (dBFS) is lifted to a peak of QUIET_TO_DB
# before its features are computed. The quietest real test or dev clip peaks at about -38 dBFS.
QUIET_DB = -50.0
QUIET_TO_DB = -20.0
# Shorter audio is not judged (apart from silence): too few frames to tell steady from speech.
MIN_SECONDS = 0.15
FRAME_SECONDS = 0.05
_FRAMES_PER_BLOCK = 2048
# The whole audio's spectrum (for a tone's frequency) is zero-padded 8 times up to this many samples.
_MAX_PADDED = 1 << 22


@dataclass(frozen=True)
class SpeechMeasures:
    """What :func:`why_not_speech` decides on (see the module's docstring)."""

    peak_db: float  # peak level after removing DC, dBFS
    dc_db: float  # the constant offset, dBFS
    band_share: float  # share of the energy (after DC) in the speech band
    spread_db: float  # how far the speech band's level moves over time
    variation_db: float  # how much its spectrum moves over time
    flatness: float  # spectral flatness of the average spectrum in the speech band (1: white noise)


def why_not_speech(audio: np.ndarray, sample_rate: int) -> str | None:
    """Why ``audio`` cannot hold speech ("no speech: silence", "no speech: a steady tone at 1 Hz",
    "no speech: noise without speech", ...), or None when it may."""
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    if audio.size == 0:
        return "no speech: no samples"
    offset = float(np.mean(audio))
    ac = audio - offset
    peak = float(np.max(np.abs(ac)))
    if peak < _amplitude(SILENCE_DB):
        if abs(offset) >= _amplitude(SILENCE_DB):
            return f"no speech: a constant level ({_db(abs(offset)):.0f} dBFS DC offset), no sound"
        return "no speech: silence"
    if audio.size < MIN_SECONDS * sample_rate:
        return None
    m = speech_measures(audio, sample_rate)
    steady = m.spread_db <= MAX_STEADY_SPREAD_DB and m.variation_db <= MAX_STEADY_VARIATION_DB
    if m.band_share >= MIN_BAND_SHARE and not steady:
        return None  # most speech ends here, before the costly whole-audio spectrum of the tone test
    frequency, tone_share = strongest_frequency(ac, sample_rate)
    if tone_share >= MIN_TONE_SHARE:
        return f"no speech: a steady tone at {_hertz(frequency)}"
    if m.band_share < MIN_BAND_SHARE:
        return f"no speech: only sound below {SPEECH_BAND[0]:.0f} Hz"
    if m.flatness >= MIN_NOISE_FLATNESS:
        return "no speech: noise without speech"
    return None


def speech_measures(audio: np.ndarray, sample_rate: int) -> SpeechMeasures:
    """The measures over time, for audio of at least one frame (``FRAME_SECONDS``); the tone's are
    :func:`strongest_frequency`'s."""
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    offset = float(np.mean(audio))
    ac = audio - offset
    frame = 1 << int(np.ceil(np.log2(FRAME_SECONDS * sample_rate)))
    frame = min(frame, ac.size)
    hop = max(1, frame // 2)
    count = 1 + (ac.size - frame) // hop
    frames = np.lib.stride_tricks.sliding_window_view(ac, frame)[::hop][:count]
    window, in_band, band_matrix = _frame_layout(frame, sample_rate)
    # Frames a block at a time, so that long audio costs no more memory than a few seconds.
    band_power, bands, spectrum = np.empty(count), np.empty((count, BANDS)), np.zeros(in_band.size)
    for first in range(0, count, _FRAMES_PER_BLOCK):
        spectra = np.fft.rfft(frames[first : first + _FRAMES_PER_BLOCK] * window, axis=1)
        power = spectra.real**2 + spectra.imag**2
        rows = slice(first, first + len(power))
        band_power[rows] = power[:, in_band].sum(axis=1)
        bands[rows] = power @ band_matrix
        spectrum += power.sum(axis=0)
    total = float(spectrum.sum()) + 1e-30
    band_share = float(band_power.sum()) / total

    tiny = total / (count * in_band.size) * 1e-6  # a floor relative to the audio's own level
    level = 10 * np.log10(band_power + tiny)
    high_level, low_level = np.percentile(level, [90, 10])
    spread = float(high_level - low_level)
    band_levels = 10 * np.log10(bands + tiny)
    # The spectrum's shape, not the level: each frame's band levels minus their mean.
    shape = band_levels - band_levels.mean(axis=1, keepdims=True)
    variation = float(shape.std(axis=0).mean()) if len(shape) > 1 else 0.0

    in_band_average = spectrum[in_band] / count + 1e-30
    flatness = float(np.exp(np.mean(np.log(in_band_average))) / np.mean(in_band_average))
    return SpeechMeasures(
        peak_db=_db(float(np.max(np.abs(ac)))),
        dc_db=_db(abs(offset)),
        band_share=band_share,
        spread_db=spread,
        variation_db=variation,
        flatness=flatness,
    )


def raise_quiet(audio: np.ndarray, below_db: float, to_db: float) -> np.ndarray:
    """``audio`` scaled up to a peak of ``to_db`` dBFS when its peak is under ``below_db``; as it
    is otherwise (the same array)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0 or peak >= _amplitude(below_db):
        return audio
    return (audio * (_amplitude(to_db) / peak)).astype(audio.dtype, copy=False)


def strongest_frequency(ac: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """The strongest frequency in the whole audio and the share of the energy within a few
    resolution steps (4 / duration) of it: about 1 for a tone, small for noise or speech.

    The frequency is the peak of the zero-padded spectrum or, for a tone with only a few cycles in
    the audio (1 Hz over a second, which the spectrum cannot resolve), the sinusoid that fits best."""
    size = 1 << int(np.ceil(np.log2(max(min(8 * ac.size, _MAX_PADDED), ac.size, sample_rate))))
    power = np.abs(np.fft.rfft(ac * np.hanning(ac.size), size)) ** 2
    peak = int(np.argmax(power))
    step = size / ac.size  # bins per resolution step
    near = power[max(0, peak - int(4 * step)) : peak + int(4 * step) + 1].sum()
    share = float(near / (power.sum() + 1e-30))
    frequency = peak * sample_rate / size
    if frequency * ac.size / sample_rate < 8:
        frequency = _fitted_frequency(ac, sample_rate, max(frequency, sample_rate / ac.size))
    return frequency, share


def _fitted_frequency(ac: np.ndarray, sample_rate: int, guess: float) -> float:
    """The frequency between ``guess`` / 3 and 3 ``guess`` of the sinusoid (plus offset) that fits
    ``ac`` best by least squares, on at most a few thousand samples (only low frequencies are asked)."""
    stride = max(1, ac.size // 4000)
    x = ac[::stride]
    t = np.arange(x.size) * stride / sample_rate
    best, best_error = guess, np.inf
    for frequency in np.geomspace(guess / 3, guess * 3, 241):
        phase = 2 * np.pi * frequency * t
        basis = np.stack([np.cos(phase), np.sin(phase), np.ones_like(t)], axis=1)
        coefficients = np.linalg.lstsq(basis, x, rcond=None)[0]
        error = float(np.sum((x - basis @ coefficients) ** 2))
        if error < best_error:
            best, best_error = frequency, error
    return float(best)


@functools.lru_cache(maxsize=4)  # one per sample rate: the same for every clip of a dataset
def _frame_layout(frame: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A frame's window, its frequencies in the speech band (a mask) and a [frequencies, BANDS]
    0/1 matrix summing them into BANDS bands, log-spaced over the speech band."""
    freqs = np.fft.rfftfreq(frame, 1 / sample_rate)
    low, high = SPEECH_BAND[0], min(SPEECH_BAND[1], sample_rate / 2)
    in_band = (freqs >= low) & (freqs <= high)
    edges = np.geomspace(low, high, BANDS + 1)
    band_matrix = np.stack([(freqs >= a) & (freqs < b) for a, b in itertools.pairwise(edges)], axis=1)
    return np.hanning(frame), in_band, band_matrix.astype(np.float64)


def _hertz(frequency: float) -> str:
    if frequency >= 10:
        return f"{frequency:.0f} Hz"
    return f"{frequency:.1f}".rstrip("0").rstrip(".") + " Hz"


def _amplitude(db: float) -> float:
    return 10 ** (db / 20)


def _db(amplitude: float) -> float:
    return 20 * np.log10(max(amplitude, 1e-12))
