"""Output heads that sit on the shared encoder; each reads the encoding and its valid lengths."""

from __future__ import annotations

import torch
from torch import nn


class CTCHead(nn.Module):
    """Per-step log-probabilities over a vocabulary plus the CTC blank (index 0)."""

    def __init__(self, n_input: int, n_tokens: int):
        super().__init__()
        self.linear = nn.Linear(n_input, n_tokens)

    def forward(self, encoded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """[B, T, n_input] -> log-probabilities [B, T, n_tokens] (float32 even under autocast)."""
        return self.linear(encoded).float().log_softmax(dim=-1)


class ClassifierHead(nn.Module):
    """One label per sequence: attention pooling over the valid steps, then a linear layer.

    A learned query scores every step and the softmax over the valid ones weights the average,
    so a gesture held in a few frames of a window outweighs the frames around it (mean pooling
    would let them dilute it). Padding steps get no weight, so a padded batch gives each item the
    output it gets alone.
    """

    def __init__(self, n_input: int, n_labels: int):
        super().__init__()
        self.attention = nn.Linear(n_input, 1)
        self.linear = nn.Linear(n_input, n_labels)

    def forward(self, encoded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """[B, T, n_input] and [B] lengths -> log-probabilities [B, n_labels] (float32)."""
        steps = torch.arange(encoded.shape[1], device=encoded.device)
        valid = steps[None, :] < lengths.to(encoded.device)[:, None]  # [B, T]
        weights = (
            self.attention(encoded).squeeze(-1).float().masked_fill(~valid, float("-inf")).softmax(dim=1)
        )
        pooled = torch.einsum("bt,btd->bd", weights, encoded.float())
        return self.linear(pooled).float().log_softmax(dim=-1)
