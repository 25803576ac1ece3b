"""How a CTC model's output becomes text: the options a bundle stores, in plain Python.

Apart from the decoders so that checking a bundle's config (``read_bundle_config``, before a batch
job starts its workers) imports no numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DecodeOptions:
    """How CTC output becomes text; kept apart from the model's dims, stored in the bundle."""

    method: str = "greedy"  # "greedy", or "beam": lexicon-constrained beam search
    beam_size: int = 32
    beam_threshold: float = 25.0
    word_score: float = 0.0  # added per word: below 0 discourages insertions
    lm_weight: float = 0.0  # weight of the word bigram (0: lexicon only)
    # Added per filler (other speech) on top of word_score, for a bundle that has one: below 0 the
    # search gives a stretch of speech to one of the model's words more readily (recall, against
    # false accepts).
    filler_score: float = 0.0
    rejection_threshold: float = 0.0  # words whose score is below this are dropped
    # A word's raw score (its characters' mean probability) mapped to the probability that the word
    # is right, sigmoid(slope * logit(raw) + offset), as ``seqrec calibrate`` fitted it on dev;
    # the identity until then.
    calibration_slope: float = 1.0
    calibration_offset: float = 0.0

    def __post_init__(self):
        if self.method not in ("greedy", "beam"):
            raise ValueError(f"decode method must be 'greedy' or 'beam', not {self.method!r}")
        for name in ("calibration_slope", "calibration_offset", "rejection_threshold", "filler_score"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"decode {name} must be a finite number, not {getattr(self, name)!r}")

    @property
    def calibrated(self) -> bool:
        return (self.calibration_slope, self.calibration_offset) != (1.0, 0.0)

    def word_probability(self, raw_score: float) -> float:
        """``raw_score`` as the calibrated probability that the word is right (itself uncalibrated)."""
        if not self.calibrated:
            return raw_score
        raw = min(max(raw_score, 1e-6), 1.0 - 1e-6)
        z = self.calibration_slope * math.log(raw / (1.0 - raw)) + self.calibration_offset
        return round(1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0, 4)
