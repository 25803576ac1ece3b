"""How a CTC model's output becomes text: the options a bundle stores, in plain Python.

Apart from the decoders so that checking a bundle's config (``read_bundle_config``, before a batch
job starts its workers) imports no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecodeOptions:
    """How CTC output becomes text; kept apart from the model's dims, stored in the bundle."""

    method: str = "greedy"  # "greedy", or "beam": lexicon-constrained beam search
    beam_size: int = 32
    beam_threshold: float = 25.0
    word_score: float = 0.0  # added per word: below 0 discourages insertions
    lm_weight: float = 0.0  # weight of the word bigram (0: lexicon only)
    rejection_threshold: float = 0.0  # words whose score is below this are dropped

    def __post_init__(self):
        if self.method not in ("greedy", "beam"):
            raise ValueError(f"decode method must be 'greedy' or 'beam', not {self.method!r}")
