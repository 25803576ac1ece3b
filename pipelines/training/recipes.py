"""What every recipe has, whatever it trains: a name, the encoder's size, the trainer's settings.

Each modality's recipe (``speech.training.SpeechRecipe``, ``hands.training.HandRecipe``) adds its
data, features and outputs to this base; ``seqrec.pipelines.recipes.load_recipe`` picks one by the
recipe's ``modality``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ModelConfig:
    n_hidden: int = 192
    n_layers: int = 2
    stack: int = 3
    dropout: float = 0.2


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


@dataclass(frozen=True, kw_only=True)
class RecipeBase:
    name: str
    modality: str
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    description: str = ""
    output_dir: str = ""

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/{self.name}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
