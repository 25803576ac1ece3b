"""Recipes for hand models (``modality: hands``): the same YAML and trainer settings as speech,
with landmark features, named heads, sequence composition and the live window's settings."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from seqrec.features import LandmarkAugmentConfig, LandmarkFeatures
from seqrec.pipelines.training.recipes import ModelConfig, TrainConfig

HEAD_KINDS = ("classifier", "ctc")


@dataclass(frozen=True)
class HeadConfig:
    """One output of the model. ``labels``: a classifier's labels in order (empty: those of the
    training data, sorted); a CTC head's symbols (empty: the characters of the training texts)."""

    kind: str = "classifier"
    labels: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"a head's kind is one of {HEAD_KINDS}, not {self.kind!r}")


@dataclass(frozen=True)
class ComposeConfig:
    """CTC training sequences composed from one-frame poses (photos): a signer showing
    ``min_symbols``…``max_symbols`` of them one after another, each held for ``hold_frames``
    frames, moving between them in ``transition_frames``, drifting across the picture."""

    min_symbols: int = 1
    max_symbols: int = 5
    hold_frames: tuple[int, int] = (6, 20)
    transition_frames: tuple[int, int] = (3, 8)
    lead_frames: tuple[int, int] = (0, 8)  # no hand in view before the first symbol and after the last
    train_sequences: int = 4000  # composed anew every epoch
    dev_sequences: int = 300  # composed once, from the dev poses, with the recipe's seed

    def __post_init__(self):
        if not 1 <= self.min_symbols <= self.max_symbols:
            raise ValueError("compose needs 1 <= min_symbols <= max_symbols")


@dataclass(frozen=True)
class HandDataConfig:
    train: tuple[str, ...]
    dev: tuple[str, ...]
    # One-frame items (photos, single poses) are trained as a pose held for 1..hold_frames frames,
    # so a model taught on photos reads video windows too.
    hold_frames: int = 1
    compose: ComposeConfig | None = None


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


@dataclass(frozen=True)
class HandRecipe:
    name: str
    data: HandDataConfig
    heads: dict[str, HeadConfig]
    modality: str = "hands"
    features: LandmarkFeatures = field(default_factory=LandmarkFeatures)
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(n_hidden=128, n_layers=2, stack=1, dropout=0.2)
    )
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: LandmarkAugmentConfig | None = field(default_factory=LandmarkAugmentConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    description: str = ""
    output_dir: str = ""

    def __post_init__(self):
        if not self.heads:
            raise ValueError("a hands recipe needs at least one head")
        if self.data.compose is not None and [h.kind for h in self.heads.values()] != ["ctc"]:
            raise ValueError("data.compose makes CTC sequences: it needs exactly one head, of kind ctc")

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/{self.name}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
