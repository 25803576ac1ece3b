"""Output heads that sit on the shared encoder."""
from __future__ import annotations

import torch
from torch import nn


class CTCHead(nn.Module):
    """Per-step log-probabilities over a vocabulary plus the CTC blank (index 0)."""

    def __init__(self, n_input: int, n_tokens: int):
        super().__init__()
        self.linear = nn.Linear(n_input, n_tokens)

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        """[B, T, n_input] -> log-probabilities [B, T, n_tokens] (float32 even under autocast)."""
        return self.linear(encoded).float().log_softmax(dim=-1)
