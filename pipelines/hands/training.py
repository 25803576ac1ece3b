"""Training a hands model from a recipe: classifier heads, a CTC head, or several heads on one encoder.

The same loop as speech (``training``): length-bucketed batches planned per epoch from the seed,
AdamW with warm-up and cosine decay, gradient clipping, checkpoints with exact resume, the run's
log, and the best-on-dev bundle. What differs is the data: landmark sequences, augmented as they
are batched (a photo held as a short clip, turned, scaled, jittered), or, for a CTC head over
handshapes, sequences composed anew every epoch from the training poses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from seqrec.features import LandmarkAugmentConfig, LandmarkFeatures, augment_landmarks, hold_pose
from seqrec.models import (
    CharTokenizer,
    EncoderDims,
    HeadDims,
    ModelBundle,
    ModelDims,
    SequenceModel,
    save_bundle,
)
from seqrec.pipelines.core.device import resolve_device
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.hands.composition import ComposeConfig, compose_sequence, compose_set
from seqrec.pipelines.hands.data import HandSequence, load_hand_sequences
from seqrec.pipelines.hands.recognizer import GestureModel
from seqrec.pipelines.hands.scoring import evaluate_hands
from seqrec.pipelines.hands.window import WindowConfig
from seqrec.pipelines.training.batching import plan_epoch
from seqrec.pipelines.training.checkpoints import (
    TrainingLog,
    optimizer_step,
    restore_checkpoint,
    save_checkpoint,
    warmup_cosine,
)
from seqrec.pipelines.training.recipes import ModelConfig, RecipeBase

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
        if self.modality != "hands":
            raise ValueError(f"modality must be 'hands', not {self.modality!r}")
        if not self.heads:
            raise ValueError("a hands recipe needs at least one head")
        if self.data.compose is not None and [h.kind for h in self.heads.values()] != ["ctc"]:
            raise ValueError("data.compose makes CTC sequences: it needs exactly one head, of kind ctc")


CHECKPOINT_FILE = "checkpoint.pt"
BEST_DIR = "best"
BUNDLE_FORMAT_VERSION = 1
IGNORE = -100  # a classifier target this item does not have (CrossEntropy's ignore_index)


def train_hands(recipe: HandRecipe, max_steps: int | None = None, log=print) -> Path:
    """Train (or resume) a hands recipe and return the folder of the best-on-dev bundle."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Landmark models train in minutes on one CPU; several processes would only write over each other.
        raise ConfigError("hands recipes train in one process: run seqrec train without torchrun")
    run_dir = recipe.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = recipe.train
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)

    cache = run_dir / "landmarks"
    train_set = [s for s in load_hand_sequences(recipe.data.train, cache, log) if s.found]
    dev_set = load_hand_sequences(recipe.data.dev, cache, log)
    if recipe.data.compose is not None:
        dev_set = compose_set(
            [s for s in dev_set if s.found], recipe.data.compose, recipe.data.compose.dev_sequences, cfg.seed
        )
    heads = _head_vocabularies(recipe, train_set)
    vocabulary = [f"{name}:{'|'.join(symbols)}" for name, symbols in heads.items()]
    tokenizer = CharTokenizer(heads[_ctc_head(recipe)]) if _ctc_head(recipe) else None
    dims = ModelDims(
        encoder=EncoderDims(n_input=recipe.features.dim, **vars(recipe.model)),
        heads={name: HeadDims(recipe.heads[name].kind, len(symbols)) for name, symbols in heads.items()},
    )
    model = SequenceModel(dims).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(
        plan_epoch(
            _nominal_lengths(recipe, _epoch_items(recipe, train_set, 0)), cfg.batch_frames, cfg.seed, 0
        )
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(cfg.warmup_steps, cfg.epochs * steps_per_epoch)
    )
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    autocast = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()

    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best_error": math.inf, "best_epoch": -1}
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if checkpoint_path.is_file():
        state = restore_checkpoint(checkpoint_path, model, optimizer, scheduler, scaler, vocabulary)
        log(f"resuming {recipe.name} at epoch {state['epoch']}, step {state['global_step']}")

    def checkpoint():
        save_checkpoint(checkpoint_path, model, optimizer, scheduler, scaler, vocabulary, state)

    log(
        f"training {recipe.name}: {len(train_set)} train / {len(dev_set)} dev sequences, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{steps_per_epoch} steps per epoch on {device}"
    )
    with TrainingLog(run_dir) as train_log:
        while state["epoch"] < cfg.epochs:
            epoch = state["epoch"]
            items = _epoch_items(recipe, train_set, epoch)
            plan = plan_epoch(_nominal_lengths(recipe, items), cfg.batch_frames, cfg.seed, epoch)
            losses, frames = [], 0
            for index in range(state["step_in_epoch"], len(plan)):
                if max_steps is not None and state["global_step"] >= max_steps:
                    checkpoint()
                    log(f"stopped at step {state['global_step']} (--max-steps); run again to resume")
                    return run_dir / BEST_DIR
                rng = np.random.default_rng([cfg.seed, epoch, index])
                batch = _make_batch(recipe, [items[j] for (j,) in plan[index]], heads, rng)
                model.train()
                with autocast:
                    outputs, out_lengths = model(batch["features"].to(device), batch["lengths"])
                loss = _loss(recipe, outputs, out_lengths, batch, device)
                optimizer_step(loss, model, optimizer, scheduler, scaler, cfg.grad_clip)
                state["global_step"] += 1
                state["step_in_epoch"] = index + 1
                frames += int(batch["lengths"].sum())
                losses.append(loss.item())
                train_log.step(state["global_step"], losses[-1], scheduler.get_last_lr()[0])
                if state["global_step"] % cfg.checkpoint_every == 0:
                    checkpoint()
            bundle_config = _bundle_config(
                recipe, heads, tokenizer, len(train_set), epoch, state["global_step"]
            )
            dev = evaluate_hands(
                GestureModel(bundle=ModelBundle(run_dir, bundle_config, model.eval(), tokenizer)), dev_set
            )
            improved = dev["error"] < state["best_error"]
            if improved:
                state["best_error"], state["best_epoch"] = dev["error"], epoch
                save_bundle(run_dir / BEST_DIR, model, bundle_config | {"metrics": {"dev": dev}})
            summary = {
                "epoch": epoch,
                "step": state["global_step"],
                "train_loss": round(sum(losses) / max(len(losses), 1), 4),
                **{f"dev_{key}": value for key, value in dev.items() if isinstance(value, float)},
                "frames": frames,
                "best": improved,
            }
            train_log.epoch(summary)
            log(json.dumps(summary))
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            checkpoint()
    log(f"best dev error {state['best_error']:.4f} at epoch {state['best_epoch']}: {run_dir / BEST_DIR}")
    return run_dir / BEST_DIR


def _ctc_head(recipe: HandRecipe) -> str | None:
    return next((name for name, head in recipe.heads.items() if head.kind == "ctc"), None)


def _head_vocabularies(recipe: HandRecipe, train_set: list[HandSequence]) -> dict[str, list[str]]:
    """Each head's labels (classifier) or symbols, blank first (CTC), from the recipe or the data."""
    classifiers = [name for name, head in recipe.heads.items() if head.kind == "classifier"]
    vocabularies = {}
    for name, head in recipe.heads.items():
        if head.kind == "ctc":
            symbols = head.labels or sorted(
                {c for s in train_set for c in (s.text or "")}
                | {s.labels.get("", "") for s in train_set} - {""}
            )
            vocabularies[name] = CharTokenizer(symbols).symbols
        else:
            found = {
                s.labels.get(name, s.labels.get("") if len(classifiers) == 1 else None) for s in train_set
            } - {None}
            labels = list(head.labels) or sorted(found)
            unknown = found - set(labels)
            if unknown:
                raise ValueError(
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
            label = item.labels.get(name, item.labels.get("") if len(classifiers) == 1 else None)
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


def _bundle_config(
    recipe: HandRecipe, heads: dict[str, list[str]], tokenizer, n_train: int, epoch: int, step: int
) -> dict:
    config = {
        "name": recipe.name,
        "format_version": BUNDLE_FORMAT_VERSION,
        "task": "hands",
        "modality": "hands",
        "description": recipe.description,
        "features": recipe.features.to_dict(),
        "heads": {
            name: {"kind": recipe.heads[name].kind, "labels": symbols} for name, symbols in heads.items()
        },
        "window": dataclasses.asdict(recipe.window),
        "training": {"recipe": recipe.to_dict(), "sequences": n_train, "epoch": epoch, "step": step},
    }
    if tokenizer is not None:
        config["tokenizer"] = {"symbols": tokenizer.symbols}
    return config
