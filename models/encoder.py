"""The shared bidirectional recurrent encoder: one class for speech features and hand landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# ``nn.RNN`` keeps its default tanh nonlinearity.
RECURRENT_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


@dataclass(frozen=True)
class EncoderDims:
    """Architecture of a :class:`BiLSTMEncoder`; stored in the bundle and enough to rebuild it."""

    n_input: int
    n_hidden: int = 256
    n_layers: int = 3
    stack: int = 3  # input frames concatenated per LSTM step: `stack`× fewer steps
    dropout: float = 0.1
    cell: str = "lstm"  # a key of RECURRENT_CELLS; dims saved before it existed load as "lstm"

    @property
    def n_output(self) -> int:
        return 2 * self.n_hidden


class BiLSTMEncoder(nn.Module):
    """Frame stacking, an input projection, then a bidirectional recurrence (``dims.cell``: LSTM by
    default, GRU or tanh RNN) over packed sequences.

    Packing means padding never reaches the backward direction: a padded batch gives each item
    exactly the output it gets alone.
    """

    def __init__(self, dims: EncoderDims):
        super().__init__()
        if dims.cell not in RECURRENT_CELLS:
            raise ValueError(f"cell must be one of {sorted(RECURRENT_CELLS)}, not {dims.cell!r}")
        self.dims = dims
        self.projection = nn.Sequential(nn.Linear(dims.n_input * dims.stack, dims.n_hidden), nn.GELU())
        # Named `lstm` whatever the cell: the weights files of every bundle use `encoder.lstm.*`.
        self.lstm = RECURRENT_CELLS[dims.cell](
            dims.n_hidden,
            dims.n_hidden,
            num_layers=dims.n_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dims.dropout if dims.n_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dims.dropout)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Steps out for ``lengths`` frames in: stacking rounds up."""
        return torch.div(lengths + self.dims.stack - 1, self.dims.stack, rounding_mode="floor")

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Parameters
        ----------
        features : [B, T, n_input] float
        lengths : [B] int, valid frames per item

        Returns
        -------
        encoded : [B, ceil(T / stack), 2 * n_hidden]
        out_lengths : [B] int
        """
        batch, n_frames, n_input = features.shape
        stack = self.dims.stack
        pad = (-n_frames) % stack
        if pad:
            features = nn.functional.pad(features, (0, 0, 0, pad))
        steps = features.reshape(batch, (n_frames + pad) // stack, n_input * stack)
        out_lengths = self.output_lengths(lengths.cpu())
        hidden = self.dropout(self.projection(steps))
        packed = pack_padded_sequence(hidden, out_lengths, batch_first=True, enforce_sorted=False)
        encoded, _ = self.lstm(packed)
        encoded, _ = pad_packed_sequence(encoded, batch_first=True, total_length=steps.shape[1])
        return self.dropout(encoded), out_lengths
