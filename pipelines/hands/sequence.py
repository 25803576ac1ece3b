"""One input's hands over time: the landmark arrays every hands module passes around."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from seqrec.features import N_COORDS, N_HAND_LANDMARKS, N_HANDS

# Where a row's plain ``label`` (one that names no head) is kept in ``labels``: the model's only
# classifier head takes it, and a pose composed into a CTC sequence is read as its symbol.
UNNAMED_HEAD = ""


@dataclass
class HandSequence:
    """One input's hands over time and its targets.

    ``landmarks`` [T, 2, 21, 3] float32 and ``present`` [T, 2] bool in the layout of
    ``seqrec.features.vision.hand_layout``; ``aspect`` is the picture's width over height. A photo is a
    sequence of one frame. ``labels`` maps head names to labels (``UNNAMED_HEAD`` for a plain
    ``label``, see ``label``); ``text`` is a CTC target.
    """

    landmarks: np.ndarray
    present: np.ndarray
    aspect: float = 1.0
    labels: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    path: str = ""
    timestamps: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.landmarks)

    @property
    def label(self) -> str | None:
        """The plain label of a row that named no head (``label`` rather than ``labels``)."""
        return self.labels.get(UNNAMED_HEAD)

    def label_for(self, head: str, plain_counts: bool = True) -> str | None:
        """The label for ``head``: its own, else the plain one where ``plain_counts`` (the head is
        the model's only classifier), else None."""
        return self.labels.get(head, self.label if plain_counts else None)

    @property
    def found(self) -> bool:
        """Whether any hand was seen in any frame."""
        return bool(self.present.any())


def empty_hands(n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n_frames, N_HANDS, N_HAND_LANDMARKS, N_COORDS), np.float32), np.zeros(
        (n_frames, N_HANDS), bool
    )
