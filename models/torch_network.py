"""A ``SequenceModel`` behind the same call as ``OnnxNetwork``: numpy arrays in, numpy arrays out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from seqrec.models.padding import pad_batch
from seqrec.models.sequence_model import SequenceModel


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchNetwork:
    """``network(arrays)`` -> ({head name: log-probabilities}, output lengths), with torch."""

    runtime = "torch"

    def __init__(self, model: SequenceModel):
        self.model = model

    @torch.inference_mode()
    def __call__(self, arrays: Sequence[np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        features, lengths = pad_batch(arrays)
        device = self.model.device
        outputs, out_lengths = self.model(torch.from_numpy(features).to(device), torch.from_numpy(lengths))
        return {name: values.float().cpu().numpy() for name, values in outputs.items()}, out_lengths.numpy()
