"""Training a hands model from a recipe: classifier heads, a CTC head, or several heads on one encoder.

The loop is speech's too (``training.trainer``): length-bucketed batches planned per epoch from
the seed, AdamW with warm-up and cosine decay, gradient clipping, checkpoints with exact resume,
the run's log, and the best-on-dev bundle. What is the hands' own (``HandTraining``) is the data:
landmark sequences, augmented as they are batched (a photo held as a short clip, turned, scaled,
jittered), or, for a CTC head over handshapes, sequences composed anew every epoch from the
training poses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from seqrec.features import LandmarkAugmentConfig, LandmarkFeatures, augment_landmarks, hold_pose
from seqrec.models import (
    FORMAT_VERSION,
    CharTokenizer,
    EncoderDims,
    HeadDims,
    InferenceModel,
    ModelDims,
    SequenceModel,
    load_bundle,
)
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.hands.composition import ComposeConfig, compose_sequence, compose_set
from seqrec.pipelines.hands.data import HandSequence, check_training_rows, load_hand_sequences
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.scoring import evaluate_hands
from seqrec.pipelines.hands.window import WindowConfig
from seqrec.pipelines.training import trainer
from seqrec.pipelines.training.batching import plan_epoch
from seqrec.pipelines.training.distributed import Distributed
from seqrec.pipelines.training.recipes import ModelConfig, RecipeBase, check_at_least, start_bundle_config

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
class HandDataConfig:
    train: tuple[str, ...]
    dev: tuple[str, ...]
    # One-frame items (photos, single poses) are trained as a pose held for 1..hold_frames frames,
    # so a model taught on photos reads video windows too.
    hold_frames: int = 1
    compose: ComposeConfig | None = None
    # Every frame with a hand of a recorded take is a pose of the take's label (a held handshape
    # such as a letter, recorded with ``seqrec record``), trained as hold_frames says.
    poses_from_takes: bool = False

    def __post_init__(self):
        for key in ("train", "dev"):
            if not getattr(self, key):
                raise ValueError(f"{key} must name at least one manifest or dataset folder")
        check_at_least(self, 1, "hold_frames")


@dataclass(frozen=True, kw_only=True)
class HandRecipe(RecipeBase):
    """A model over hand landmarks: named classifier heads, a CTC head, or both on one encoder,
    with the live window's settings."""

    data: HandDataConfig
    heads: dict[str, HeadConfig]
    modality: str = "hands"
    features: LandmarkFeatures = field(default_factory=LandmarkFeatures)
    model: ModelConfig = field(
        default_factory=lambda: ModelConfig(n_hidden=128, n_layers=2, stack=1, dropout=0.2)
    )
    augment: LandmarkAugmentConfig | None = field(default_factory=LandmarkAugmentConfig)
    window: WindowConfig = field(default_factory=WindowConfig)

    def __post_init__(self):
        super().__post_init__()
        if self.modality != "hands":
            raise ValueError(f"modality must be 'hands', not {self.modality!r}")
        if not self.heads:
            raise ValueError("a hands recipe needs at least one head")
        if self.data.compose is not None and [h.kind for h in self.heads.values()] != ["ctc"]:
            raise ValueError("data.compose makes CTC sequences: it needs exactly one head, of kind ctc")


IGNORE = -100  # a classifier target this item does not have (CrossEntropy's ignore_index)


def train_hands(recipe: HandRecipe, max_steps: int | None = None, log=print) -> Path:
    """Train (or resume) a hands recipe and return the folder of the best-on-dev bundle."""
    return trainer.train(HandTraining(recipe), max_steps, log)


class HandTraining:
    """The hands side of the trainer (``trainer.TrainingTask``): landmark sequences, batches made
    inline from an rng seeded by (seed, epoch, index), a loss summed over the heads, and the dev
    error (the mean of the heads' error rates) scored as inference scores it."""

    score_name = "error"
    # Landmark models train in minutes on one CPU; several processes would only write over each other.
    distributed = False

    def __init__(self, recipe: HandRecipe):
        self.recipe = recipe

    def load_data(self, ranks: Distributed, log) -> str:
        recipe = self.recipe
        cache = recipe.run_dir / "landmarks"
        # Every row of train and dev, and the bundle to start from, are checked before MediaPipe
        # reads the first photo.
        if recipe.train.init_from:
            start_bundle_config(recipe.train.init_from, "hands", recipe.features.to_dict())
        check_training_rows([*recipe.data.train, *recipe.data.dev])
        train_set = load_hand_sequences(recipe.data.train, cache, log, strict=True)
        if recipe.data.poses_from_takes:
            train_set = poses_of_takes(train_set)
        self.train_set = [s for s in train_set if s.found]
        if not self.train_set:
            raise ConfigError(
                f"{', '.join(map(str, recipe.data.train))}: no hand found in any of its "
                f"{len(train_set)} items: nothing to train on"
            )
        dev_set = load_hand_sequences(recipe.data.dev, cache, log, strict=True)
        if recipe.data.poses_from_takes:
            dev_set = poses_of_takes(dev_set)
        if recipe.data.compose is not None:
            found = [s for s in dev_set if s.found]
            if not found:
                raise ConfigError(
                    f"{', '.join(map(str, recipe.data.dev))}: no hand found to compose dev from"
                )
            dev_set = compose_set(
                found, recipe.data.compose, recipe.data.compose.dev_sequences, recipe.train.seed
            )
        if not dev_set:
            raise ConfigError(f"{', '.join(map(str, recipe.data.dev))}: no dev items to score on")
        self.dev_set = dev_set
        return f"{len(self.train_set)} train / {len(self.dev_set)} dev sequences"

    def build_model(self, device: torch.device, fresh: bool, log) -> tuple[SequenceModel, list[str]]:
        recipe = self.recipe
        self.heads = _head_vocabularies(recipe, self.train_set)
        ctc_head = _ctc_head(recipe)
        self.tokenizer = CharTokenizer(self.heads[ctc_head]) if ctc_head else None
        dims = ModelDims(
            encoder=EncoderDims(n_input=recipe.features.dim, **vars(recipe.model)),
            heads={
                name: HeadDims(recipe.heads[name].kind, len(symbols)) for name, symbols in self.heads.items()
            },
        )
        self.device = device
        # Each head's name and labels: a checkpoint trained on other labels must not resume.
        vocabulary = [f"{name}:{'|'.join(symbols)}" for name, symbols in self.heads.items()]
        model = SequenceModel(dims)
        if recipe.train.init_from and fresh:
            _initialise_from(model, self.heads, recipe.train.init_from)
            log(f"starting from the weights of {recipe.train.init_from}")
        return model.to(device), vocabulary

    def _plan(self, epoch: int) -> tuple[list[HandSequence], list[list[tuple[int, ...]]]]:
        items = _epoch_items(self.recipe, self.train_set, epoch)
        cfg = self.recipe.train
        return items, plan_epoch(_nominal_lengths(self.recipe, items), cfg.batch_frames, cfg.seed, epoch)

    def steps_per_epoch(self) -> int:
        return len(self._plan(0)[1])

    def batches(self, epoch: int, start: int) -> Iterator[tuple[int, dict]]:
        items, plan = self._plan(epoch)
        for index in range(start, len(plan)):
            rng = np.random.default_rng([self.recipe.train.seed, epoch, index])
            yield index, _make_batch(self.recipe, [items[j] for (j,) in plan[index]], self.heads, rng)

    def loss(self, outputs: dict, out_lengths: torch.Tensor, batch: dict) -> tuple[torch.Tensor, float]:
        loss = _loss(self.recipe, outputs, out_lengths, batch, self.device)
        return loss, loss.item()

    def evaluate(self, model: SequenceModel) -> tuple[float, dict]:
        config = _model_config(self.recipe, self.heads, self.tokenizer)
        bundle = InferenceModel.from_torch(self.recipe.run_dir, config, model, self.tokenizer)
        dev = evaluate_hands(GestureModel(bundle=bundle), self.dev_set)
        return dev["error"], dev

    def log_fields(self, dev: dict, frames: int, seconds: float) -> dict:
        return {
            **{f"dev_{key}": value for key, value in dev.items() if isinstance(value, float)},
            "frames": frames,
        }

    def bundle_config(self, epoch: int, step: int, dev: dict) -> dict:
        training = {
            "recipe": self.recipe.to_dict(),
            "sequences": len(self.train_set),
            "epoch": epoch,
            "step": step,
        }
        return _model_config(self.recipe, self.heads, self.tokenizer) | {
            "training": training,
            "metrics": {"dev": dev},
        }


def poses_of_takes(takes: list[HandSequence]) -> list[HandSequence]:
    """Each frame with a hand of each take as a one-frame sequence with the take's labels."""
    return [
        HandSequence(
            take.landmarks[i : i + 1],
            take.present[i : i + 1],
            take.aspect,
            labels=take.labels,
            path=f"{take.path}#{i}",
        )
        for take in takes
        for i in np.flatnonzero(take.present.any(axis=1))
    ]


def _initialise_from(model: SequenceModel, heads: dict[str, list[str]], bundle: str) -> None:
    """Start ``model`` from the weights of ``bundle`` (fine-tuning, e.g. to one person's hand): the
    same encoder and the same heads with the same labels in the same order, or an error."""
    source = load_bundle(bundle)
    theirs = {name: spec["labels"] for name, spec in source.config["heads"].items()}
    if theirs != heads:
        raise ConfigError(
            f"train.init_from: {bundle}: its heads {_head_summary(theirs)} differ from this "
            f"recipe's {_head_summary(heads)}"
        )
    if source.model.dims != model.dims:
        raise ConfigError(
            f"train.init_from: {bundle}: its dims {source.model.dims.encoder} differ from this "
            f"recipe's {model.dims.encoder}"
        )
    model.load_state_dict(source.model.state_dict())


def _head_summary(heads: dict[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(labels)}" for name, labels in heads.items())


def _ctc_head(recipe: HandRecipe) -> str | None:
    return next((name for name, head in recipe.heads.items() if head.kind == "ctc"), None)


def _head_vocabularies(recipe: HandRecipe, train_set: list[HandSequence]) -> dict[str, list[str]]:
    """Each head's labels (classifier) or symbols, blank first (CTC), from the recipe or the data."""
    classifiers = [name for name, head in recipe.heads.items() if head.kind == "classifier"]
    vocabularies = {}
    for name, head in recipe.heads.items():
        if head.kind == "ctc":
            symbols = head.labels or sorted(
                {c for s in train_set for c in (s.text or "")} | {s.label for s in train_set} - {None, ""}
            )
            vocabularies[name] = CharTokenizer(symbols).symbols
        else:
            found = {s.label_for(name, plain_counts=len(classifiers) == 1) for s in train_set} - {None}
            labels = list(head.labels) or sorted(found)
            if not labels:
                raise ConfigError(f"head {name}: no training item has a label for it")
            unknown = found - set(labels)
            if unknown:
                raise ConfigError(
                    f"head {name}: the training data has labels outside the recipe's: {sorted(unknown)}"
                )
            vocabularies[name] = labels
    return vocabularies


def _epoch_items(recipe: HandRecipe, train_set: list[HandSequence], epoch: int) -> list[HandSequence]:
    compose = recipe.data.compose
    if compose is None:
        return train_set
    rng = np.random.default_rng([recipe.train.seed, epoch, 1_000_003])
    return [compose_sequence(train_set, compose, rng) for _ in range(compose.train_sequences)]


def _nominal_lengths(recipe: HandRecipe, items: list[HandSequence]) -> np.ndarray:
    return np.array([recipe.data.hold_frames if len(s) == 1 else len(s) for s in items])


def _make_batch(
    recipe: HandRecipe, items: list[HandSequence], heads: dict[str, list[str]], rng: np.random.Generator
) -> dict:
    arrays, targets = [], {name: [] for name in heads}
    ctc_targets, target_lengths = [], []
    classifiers = [name for name, head in recipe.heads.items() if head.kind == "classifier"]
    ctc_head = _ctc_head(recipe)
    for item in items:
        landmarks, present = item.landmarks, item.present
        if len(item) == 1 and recipe.data.hold_frames > 1:
            landmarks, present = hold_pose(
                landmarks, present, int(rng.integers(1, recipe.data.hold_frames + 1)), rng, item.aspect
            )
        if recipe.augment is not None:
            landmarks, present = augment_landmarks(landmarks, present, item.aspect, recipe.augment, rng)
        arrays.append(torch.from_numpy(recipe.features(landmarks, present, item.aspect)))
        for name in classifiers:
            label = item.label_for(name, plain_counts=len(classifiers) == 1)
            targets[name].append(heads[name].index(label) if label is not None else IGNORE)
        if ctc_head:
            symbols = heads[ctc_head]
            ids = [symbols.index(c) for c in (item.text or "")]
            ctc_targets.extend(ids)
            target_lengths.append(len(ids))
    batch = {
        "features": pad_sequence(arrays, batch_first=True),
        "lengths": torch.tensor([len(a) for a in arrays]),
        "targets": {name: torch.tensor(values) for name, values in targets.items() if name in classifiers},
    }
    if ctc_head:
        batch["ctc_targets"] = torch.tensor(ctc_targets, dtype=torch.long)
        batch["ctc_target_lengths"] = torch.tensor(target_lengths)
    return batch


def _loss(recipe: HandRecipe, outputs: dict, out_lengths: torch.Tensor, batch: dict, device) -> torch.Tensor:
    total = torch.zeros((), device=device)
    for name, head in recipe.heads.items():
        if head.kind == "classifier":
            target = batch["targets"][name].to(device)
            if (target != IGNORE).any():
                total = total + torch.nn.functional.nll_loss(outputs[name], target, ignore_index=IGNORE)
        else:
            log_probs = outputs[name].transpose(0, 1)  # CTCLoss wants [T, B, V]
            total = total + torch.nn.functional.ctc_loss(
                log_probs,
                batch["ctc_targets"],
                out_lengths,
                batch["ctc_target_lengths"],
                blank=0,
                zero_infinity=True,
            )
    return total


def _model_config(recipe: HandRecipe, heads: dict[str, list[str]], tokenizer: CharTokenizer | None) -> dict:
    """What inference reads from a bundle's config: scoring on dev builds the model from it too."""
    config = {
        "name": recipe.name,
        "format_version": FORMAT_VERSION,
        "modality": "hands",
        "description": recipe.description,
        "features": recipe.features.to_dict(),
        "heads": {
            name: {"kind": recipe.heads[name].kind, "labels": symbols} for name, symbols in heads.items()
        },
        "window": dataclasses.asdict(recipe.window),
    }
    if tokenizer is not None:
        config["tokenizer"] = {"symbols": tokenizer.symbols}
    return config
