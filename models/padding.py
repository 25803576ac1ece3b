"""Feature arrays of different lengths as one zero-padded batch, for either runtime."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad_batch(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """[T_i, D] arrays -> features [B, max T_i, D] float32 (zeros after each item) and lengths [B] int64."""
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    batch = np.zeros((len(arrays), int(lengths.max(initial=0)), arrays[0].shape[-1]), dtype=np.float32)
    for row, array in enumerate(arrays):
        batch[row, : len(array)] = array
    return batch, lengths
