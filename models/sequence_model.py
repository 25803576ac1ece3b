"""A shared encoder with named heads: the whole recogniser as one module."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from seqrec.models.encoder import BiLSTMEncoder, EncoderDims
from seqrec.models.heads import ClassifierHead, CTCHead

HEAD_TYPES = {"ctc": CTCHead, "classifier": ClassifierHead}


@dataclass(frozen=True)
class HeadDims:
    kind: str  # a key of HEAD_TYPES
    n_outputs: int


@dataclass(frozen=True)
class ModelDims:
    """Everything needed to rebuild the network; saved as ``config.json["dims"]``."""

    encoder: EncoderDims
    heads: dict[str, HeadDims] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> ModelDims:
        return cls(
            encoder=EncoderDims(**data["encoder"]),
            heads={name: HeadDims(**head) for name, head in data["heads"].items()},
        )

    def to_dict(self) -> dict:
        return asdict(self)


class SequenceModel(nn.Module):
    """``BiLSTMEncoder`` followed by one or more heads that read the same encoding."""

    def __init__(self, dims: ModelDims):
        super().__init__()
        unknown = {head.kind for head in dims.heads.values()} - HEAD_TYPES.keys()
        if unknown or not dims.heads:
            raise ValueError(
                f"a model needs heads of kinds {sorted(HEAD_TYPES)}; got {sorted(unknown) or 'none'}"
            )
        self.dims = dims
        self.encoder = BiLSTMEncoder(dims.encoder)
        self.heads = nn.ModuleDict(
            {
                name: HEAD_TYPES[head.kind](dims.encoder.n_output, head.n_outputs)
                for name, head in dims.heads.items()
            }
        )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(
        self, features: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """[B, T, D] features and [B] lengths -> ({head name: log-probabilities}, [B] output lengths).

        A CTC head gives [B, T', n_outputs] (one row per encoder step), a classifier [B, n_outputs].
        """
        encoded, out_lengths = self.encoder(features, lengths)
        return {name: head(encoded, out_lengths) for name, head in self.heads.items()}, out_lengths
