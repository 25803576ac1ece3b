"""Frame-level audio features: MFCC (+Δ, ΔΔ) or log-mel, with per-utterance mean/variance normalisation."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np

from seqrec.features.audio.reading import SAMPLE_RATE

# Δ features look this many frames around each frame (librosa's default regression width).
DELTA_WIDTH = 9
# Clips computed together hold at most this many samples (4 s at 16 kHz): their frames then stay in
# cache. On 1 s clips, groups of 4 ran 1.7 times the per-clip speed, groups of 64 slower than per clip.
BATCH_SAMPLES = 1 << 16


@dataclass(frozen=True)
class SpectralConfig:
    """How audio becomes features. Stored in every model bundle, so inference matches training."""

    kind: str = "mfcc"  # "mfcc" or "logmel"
    sample_rate: int = SAMPLE_RATE
    n_mfcc: int = 13
    n_mels: int = 40
    win_ms: float = 25.0
    hop_ms: float = 10.0
    fmin: float = 20.0
    fmax: float | None = None
    deltas: bool = True
    cmvn: bool = True

    def __post_init__(self):
        if self.kind not in ("mfcc", "logmel"):
            raise ValueError(f"features.kind must be 'mfcc' or 'logmel', not {self.kind!r}")

    @property
    def hop_length(self) -> int:
        return round(self.sample_rate * self.hop_ms / 1000)

    @property
    def win_length(self) -> int:
        return round(self.sample_rate * self.win_ms / 1000)

    @property
    def frame_seconds(self) -> float:
        return self.hop_length / self.sample_rate

    @property
    def dim(self) -> int:
        base = self.n_mfcc if self.kind == "mfcc" else self.n_mels
        return base * (3 if self.deltas else 1)

    def to_dict(self) -> dict:
        return asdict(self)


def spectral_features(audio: np.ndarray, config: SpectralConfig) -> np.ndarray:
    """Compute features for one utterance: librosa's MFCC (or log-mel) and Δ, computed in one pass.

    The numbers are librosa's (``melspectrogram`` with a centred, zero-padded Hann STFT,
    ``power_to_db``, ``mfcc``, ``delta(mode="interp")``; a test holds them equal), but the mel
    filterbank, DCT and Δ filters are built once per config and every step is one matrix product:
    five to six times librosa's per-call speed on one-second clips (benchmarks/feature_speed.py).

    Parameters
    ----------
    audio : np.ndarray, shape [n_samples], float32 at ``config.sample_rate``

    Returns
    -------
    np.ndarray, shape [n_frames, config.dim], float32
    """
    # One clip's matrix products are small: BLAS threads gain nothing there, and they stay spinning
    # on the cores the model's threads need next (measured: the LSTM ran four times slower).
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _features(np.asarray(audio, dtype=np.float32), config)


def spectral_features_batch(audios: list[np.ndarray], config: SpectralConfig) -> list[np.ndarray]:
    """``spectral_features`` of each utterance, the same numbers, with clips of equal length
    computed together: a dataset of fixed-length clips (Speech Commands' 1 s) then costs a few
    array operations per group instead of per clip. Groups stop at ``BATCH_SAMPLES`` samples: a
    group stays in cache, and long recordings are computed one at a time."""
    results: list[np.ndarray | None] = [None] * len(audios)
    by_length: dict[int, list[int]] = {}
    for i, audio in enumerate(audios):
        by_length.setdefault(len(audio), []).append(i)
    with _blas_controller().limit(limits=1, user_api="blas"):
        for length, indices in by_length.items():
            per_group = max(1, BATCH_SAMPLES // max(length, 1))
            for start in range(0, len(indices), per_group):
                group = indices[start : start + per_group]
                stacked = np.stack([np.asarray(audios[i], dtype=np.float32) for i in group])
                for i, features in zip(group, _features(stacked, config), strict=True):
                    results[i] = features
    return results


def _features(audio: np.ndarray, config: SpectralConfig) -> np.ndarray:
    """[..., n_samples] -> [..., n_frames, dim]: any leading axes are utterances of equal length."""
    n_fft, window, mel_basis, dct = _analysis(config)
    padded = np.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(n_fft // 2, n_fft // 2)])
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., :: config.hop_length, :]
    spectrum = np.fft.rfft(frames * window.astype(np.float64), axis=-1).astype(np.complex64)
    power = spectrum.real**2 + spectrum.imag**2
    log_mel = 10.0 * np.log10(np.maximum(power @ mel_basis, 1e-10))  # power_to_db, ref 1, no top_db
    base = log_mel @ dct if config.kind == "mfcc" else log_mel
    parts = [base]
    if config.deltas:
        parts += [_delta(base, order=1), _delta(base, order=2)]
    features = np.concatenate(parts, axis=-1)
    if config.cmvn:
        features = cmvn(features)
    return features.astype(np.float32)


def librosa_features(audio: np.ndarray, config: SpectralConfig) -> np.ndarray:
    """What ``spectral_features`` computes, by librosa's own functions called one by one as their
    docs show: the reference tests hold it equal to, and benchmarks/feature_speed.py races."""
    import librosa

    n_fft = 1 << (config.win_length - 1).bit_length()
    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32),
        sr=config.sample_rate,
        n_fft=n_fft,
        win_length=config.win_length,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        power=2.0,
    )
    base = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    if config.kind == "mfcc":
        base = librosa.feature.mfcc(S=base, n_mfcc=config.n_mfcc)
    parts = [base]
    if config.deltas:
        width = min(
            DELTA_WIDTH, base.shape[1] if base.shape[1] % 2 else base.shape[1] - 1
        )  # librosa refuses < 3
        parts += [librosa.feature.delta(base, width=width, order=order, mode="interp") for order in (1, 2)]
    features = np.concatenate(parts).T
    return (cmvn(features) if config.cmvn else features).astype(np.float32)


def cmvn(features: np.ndarray) -> np.ndarray:
    """Per-utterance mean and variance normalisation over time, [..., T, D] -> [..., T, D]."""
    mean = features.mean(axis=-2, keepdims=True)
    std = features.std(axis=-2, keepdims=True)
    # A constant dimension (digital silence) has std 0: leave it centred rather than divide by 0.
    return (features - mean) / np.maximum(std, 1e-5)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """The process's thread pools, found once: limiting them per call is then a few microseconds."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.lru_cache(maxsize=8)
def _analysis(config: SpectralConfig) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """n_fft, the Hann window padded to it, the mel filterbank [n_fft/2+1, n_mels] and the
    orthonormal DCT-II [n_mels, n_mfcc], as librosa builds them (tests hold them equal), in numpy:
    recognising speech imports neither librosa nor scipy (with numba, 0.9 s of start-up)."""
    n_fft = 1 << (config.win_length - 1).bit_length()
    # scipy's get_window("hann", fftbins=True): the periodic window, centred in n_fft as librosa pads.
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(config.win_length) / config.win_length)
    window = np.zeros(n_fft)
    start = (n_fft - config.win_length) // 2
    window[start : start + config.win_length] = hann
    mel_basis = mel_filterbank(config.sample_rate, n_fft, config.n_mels, config.fmin, config.fmax)
    dct = _dct_matrix(config.n_mels)[: config.n_mfcc].T
    return n_fft, window.astype(np.float32), mel_basis.T.astype(np.float32), dct.astype(np.float32)


def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II as a matrix [n, n] (row k: frequency k), scipy's ``dct(norm="ortho")``."""
    k = np.arange(n)[:, None]
    matrix = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """librosa.filters.mel's default filterbank [n_mels, n_fft/2+1]: triangles on the Slaney mel
    scale (linear below 1 kHz, logarithmic above), each scaled to unit area (norm="slaney")."""
    fmax = sample_rate / 2 if fmax is None else fmax
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    ramps = np.subtract.outer(edges, bins)
    widths = np.diff(edges)
    weights = np.zeros((n_mels, len(bins)), dtype=np.float32)  # float32 as librosa's, step by step
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / widths[i], ramps[i + 2] / widths[i + 1]))
    weights *= (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[:, np.newaxis]
    return weights


# The Slaney mel scale (librosa's default, htk=False): 3 mels per 200 Hz up to 1 kHz, then log.
_MEL_STEP_HZ, _LOG_FROM_HZ, _LOG_STEP = 200.0 / 3, 1000.0, np.log(6.4) / 27.0


def _hz_to_mel(hz):
    hz = np.asanyarray(hz, dtype=np.float64)
    mels = hz / _MEL_STEP_HZ
    log_from = _LOG_FROM_HZ / _MEL_STEP_HZ
    above = hz >= _LOG_FROM_HZ
    return np.where(above, log_from + np.log(np.maximum(hz, _LOG_FROM_HZ) / _LOG_FROM_HZ) / _LOG_STEP, mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = _MEL_STEP_HZ * mels
    log_from = _LOG_FROM_HZ / _MEL_STEP_HZ
    above = mels >= log_from
    return np.where(above, _LOG_FROM_HZ * np.exp(_LOG_STEP * (mels - log_from)), hz)


def _delta(base: np.ndarray, order: int) -> np.ndarray:
    """librosa's ``delta(base.T, width, order, mode="interp").T`` for [..., T, D]: a Savitzky-Golay
    derivative, whose first and last width/2 frames come from a polynomial fitted to the edge."""
    n_frames = base.shape[-2]
    width = min(DELTA_WIDTH, n_frames if n_frames % 2 else n_frames - 1)
    if width < 3:  # too short to regress over: no change is the honest estimate
        return np.zeros_like(base)
    interior, head, tail = _delta_filters(width, order)
    half = width // 2
    values = base.astype(np.float64)
    result = np.empty_like(values)
    result[..., half : n_frames - half, :] = (
        np.lib.stride_tricks.sliding_window_view(values, width, axis=-2) @ interior
    )
    result[..., :half, :] = head @ values[..., :width, :]
    result[..., n_frames - half :, :] = tail @ values[..., n_frames - width :, :]
    return result.astype(base.dtype)


@functools.lru_cache(maxsize=16)
def _delta_filters(width: int, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay weights of the ``order``-th derivative over ``width`` frames: at the centre,
    and at each of the first and last width/2 positions of the window (scipy's "interp" edges)."""
    half = width // 2

    def weights(position: int) -> np.ndarray:
        return savgol_weights(width, order, deriv=order, position=position)

    head = np.stack([weights(i) for i in range(half)])
    tail = np.stack([weights(width - half + i) for i in range(half)])
    return weights(half), head, tail


def savgol_weights(width: int, order: int, deriv: int, position: int) -> np.ndarray:
    """scipy.signal.savgol_coeffs(width, order, deriv, pos=position, use="dot"): the weights that,
    dotted with ``width`` samples, give the ``deriv``-th derivative at ``position`` of the
    least-squares polynomial of degree ``order`` through them."""
    x = np.arange(-position, width - position, dtype=np.float64)
    powers = x ** np.arange(order + 1).reshape(-1, 1)
    target = np.zeros(order + 1)
    target[deriv] = math.factorial(deriv)
    return np.linalg.lstsq(powers, target, rcond=None)[0]
