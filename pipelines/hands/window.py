"""How a classifier reads a video or a camera: windows of frames, and hysteresis for the live
label. An inference setting, stored in the bundle (as decode options are for speech)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowConfig:
    """How a video or camera is read by a classifier: windows of ``frames`` frames every ``hop``
    frames, and hysteresis so the live label does not flicker: a new label takes over when it
    leads with at least ``enter_score`` in ``min_windows`` windows running; the current one holds
    while its score stays at or above ``exit_score``. Stored in the bundle."""

    frames: int = 16
    hop: int = 2
    enter_score: float = 0.6
    exit_score: float = 0.4
    min_windows: int = 2

    def __post_init__(self):
        if not 0.0 <= self.exit_score <= self.enter_score <= 1.0:
            raise ValueError("window scores need 0 <= exit_score <= enter_score <= 1")
        if self.frames < 1 or self.hop < 1 or self.min_windows < 1:
            raise ValueError("window frames, hop and min_windows must be at least 1")
