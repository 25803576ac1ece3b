"""Frame-level audio features: MFCC (+Δ, ΔΔ) or log-mel, with per-utterance mean/variance normalisation."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .audio import SAMPLE_RATE

# Δ features look this many frames around each frame (librosa's default regression width).
DELTA_WIDTH = 9


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
    """Compute features for one utterance.

    Parameters
    ----------
    audio : np.ndarray, shape [n_samples], float32 at ``config.sample_rate``

    Returns
    -------
    np.ndarray, shape [n_frames, config.dim], float32
    """
    import librosa  # lazy: training from precomputed features needs only torch

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
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    base = librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc) if config.kind == "mfcc" else log_mel
    parts = [base]
    if config.deltas:
        parts += [_delta(base, order=1), _delta(base, order=2)]
    features = np.concatenate(parts, axis=0).T
    if config.cmvn:
        features = cmvn(features)
    return features.astype(np.float32)


def cmvn(features: np.ndarray) -> np.ndarray:
    """Per-utterance mean and variance normalisation over time, [T, D] -> [T, D]."""
    mean = features.mean(axis=0, keepdims=True)
    std = features.std(axis=0, keepdims=True)
    # A constant dimension (digital silence) has std 0: leave it centred rather than divide by 0.
    return (features - mean) / np.maximum(std, 1e-5)


def _delta(base: np.ndarray, order: int) -> np.ndarray:
    import librosa

    n_frames = base.shape[1]
    width = min(DELTA_WIDTH, n_frames if n_frames % 2 else n_frames - 1)
    if width < 3:  # too short to regress over: no change is the honest estimate
        return np.zeros_like(base)
    return librosa.feature.delta(base, width=width, order=order, mode="interp")
