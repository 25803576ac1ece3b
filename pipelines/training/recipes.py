"""What every recipe has, whatever it trains: a name, the encoder's size, the trainer's settings.

Each modality's recipe (``speech.training.SpeechRecipe``, ``hands.training.HandRecipe``) adds its
data, features and outputs to this base; ``seqrec.pipelines.recipes.load_recipe`` picks one by the
recipe's ``modality``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from seqrec.pipelines.core.errors import ConfigError


def start_bundle_config(bundle: str, modality: str, recipe_features: dict) -> dict:
    """The config of a fine-tune's start (``train.init_from``), checked before any data is read: it
    reads, is a ``modality`` model, and has the recipe's features (the same dims with other numbers,
    another sample rate or other landmark features, would fit and mislead). A ``ConfigError``
    otherwise, naming each difference."""
    from seqrec.models import BundleError, read_bundle_config

    try:
        config = read_bundle_config(bundle)
    except BundleError as error:
        raise ConfigError(f"train.init_from: {error}") from None
    if config.get("modality") != modality:
        raise ConfigError(
            f"train.init_from: {bundle}: a {config.get('modality')} model, not a {modality} one"
        )
    check_start_features(config.get("features"), recipe_features, bundle)
    return config


def check_start_features(bundle_features: dict | None, recipe_features: dict, bundle: str) -> None:
    """``start_bundle_config``'s features check alone, for a bundle already loaded."""
    theirs = bundle_features or {}
    if theirs != recipe_features:
        differ = sorted(
            key for key in {*theirs, *recipe_features} if theirs.get(key) != recipe_features.get(key)
        )
        raise ConfigError(
            f"train.init_from: {bundle}: its features differ from this recipe's in "
            + ", ".join(
                f"{key} ({theirs.get(key)!r} there, {recipe_features.get(key)!r} here)" for key in differ
            )
        )


def check_at_least(section: object, minimum: float, *keys: str) -> None:
    """A ``ValueError`` naming the first of ``keys`` whose value in ``section`` is below ``minimum``
    (``from_dict`` turns it into a ``ConfigError`` naming the recipe and the section)."""
    for key in keys:
        value = getattr(section, key)
        if not value >= minimum:  # NaN too
            raise ValueError(f"{key} must be at least {minimum:g}, not {value!r}")


def check_fraction(section: object, *keys: str, below_one: bool = False) -> None:
    """A ``ValueError`` naming the first of ``keys`` outside [0, 1] (or [0, 1) with ``below_one``)."""
    for key in keys:
        value = getattr(section, key)
        if not (0 <= value < 1 if below_one else 0 <= value <= 1):
            raise ValueError(f"{key} must be in [0, {'1)' if below_one else '1]'}, not {value!r}")


# The encoder's RECURRENT_CELLS, named here too: recipes load without importing torch.
MODEL_CELLS = ("lstm", "gru", "rnn")


@dataclass(frozen=True)
class ModelConfig:
    n_hidden: int = 192
    n_layers: int = 2
    stack: int = 3
    dropout: float = 0.2
    cell: str = "lstm"  # the encoder's recurrent cell: lstm, gru or rnn (tanh)

    def __post_init__(self):
        check_at_least(self, 1, "n_hidden", "n_layers", "stack")
        check_fraction(self, "dropout", below_one=True)
        if self.cell not in MODEL_CELLS:
            raise ValueError(f"cell must be one of {', '.join(MODEL_CELLS)}, not {self.cell!r}")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_frames: int = 20_000  # padded input frames per batch: batches of short clips hold more clips
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    grad_clip: float = 5.0
    seed: int = 0
    amp: bool = True  # mixed precision on CUDA; ignored on the CPU
    spec_augment: bool = True
    checkpoint_every: int = 200  # steps; checkpoints also close every epoch
    loader_workers: int = 1  # processes preparing batches (augmentation, features) beside training
    init_from: str | None = None  # a bundle folder whose weights start the run (fine-tuning)
    device: str | None = None

    def __post_init__(self):
        check_at_least(self, 1, "epochs", "batch_frames", "checkpoint_every")
        check_at_least(self, 0, "lr", "weight_decay", "warmup_steps", "seed", "loader_workers")
        if not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be positive, not {self.grad_clip!r}")
        if not math.isfinite(self.lr):
            raise ValueError(f"lr must be a finite number, not {self.lr!r}")


@dataclass(frozen=True, kw_only=True)
class RecipeBase:
    name: str
    modality: str
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    description: str = ""
    output_dir: str = ""

    def __post_init__(self):
        if not self.name.strip():
            raise ValueError("name must not be empty")

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/{self.name}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
