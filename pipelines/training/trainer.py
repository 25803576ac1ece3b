"""One training loop for every modality, readable top to bottom: ``train`` joins the processes,
``_start`` builds the run, ``_epochs`` and ``_train_epoch`` step it, ``_score_epoch`` keeps the best.

The loop is deterministic given the recipe's seed: each modality plans an epoch's batches as a pure
function of (seed, epoch) and draws augmentation from generators seeded by the step, and the
checkpoint holds the model, optimiser, schedule, scaler and the torch RNG (dropout). A run stopped
at any checkpoint and resumed ends with the same weights as one that never stopped.

What differs between modalities (the data, the model's heads, the loss, the dev score, the bundle)
is a ``TrainingTask``: ``speech.training.SpeechTraining`` or ``hands.training.HandTraining``. Under
``torchrun`` each process trains on its share of every batch (see ``distributed``); the global
batch, and so the result, is the one a single process would train on, and rank 0 alone scores,
keeps the best and writes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from seqrec.models import save_bundle
from seqrec.pipelines.core.device import resolve_device
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.training.checkpoints import restore_checkpoint, save_checkpoint
from seqrec.pipelines.training.distributed import Distributed
from seqrec.pipelines.training.recipes import RecipeBase
from seqrec.pipelines.training.run_log import TrainingLog

CHECKPOINT_FILE = "checkpoint.pt"
BEST_DIR = "best"

Log = Callable[[str], None]


class TrainingTask(Protocol):
    """What one modality tells the trainer; everything else is the trainer's."""

    recipe: RecipeBase
    score_name: str  # the dev score, lower is better, as the last line of a run names it: "WER"
    distributed: bool  # whether it may train under torchrun, one share of each batch per process

    def load_data(self, ranks: Distributed, log: Log) -> str:
        """Read (and cache) the training and dev data, and say how much: "120 train / 20 dev
        utterances". Rank 0 reads first; the others once it is done, so they find its caches."""
        ...

    def build_model(self, device: torch.device, fresh: bool, log: Log) -> tuple[torch.nn.Module, list[str]]:
        """The model on ``device``, and the symbols or labels a checkpoint must have been trained on.
        ``fresh``: there is no checkpoint to resume, so the weights may start from elsewhere."""
        ...

    def steps_per_epoch(self) -> int:
        """Batches in an epoch, for the length of the learning-rate schedule."""
        ...

    def batches(self, epoch: int, start: int) -> Iterator[tuple[int, dict]]:
        """Epoch ``epoch``'s batches from index ``start`` on, with their indices: ``features``
        [B, T, D] and ``lengths`` [B] for the model, and whatever ``loss`` reads."""
        ...

    def loss(self, outputs: dict, out_lengths: torch.Tensor, batch: dict) -> tuple[torch.Tensor, float]:
        """The loss to backpropagate through this process's share, and the whole batch's loss to log."""
        ...

    def evaluate(self, model: torch.nn.Module) -> tuple[float, dict]:
        """The dev score (lower is better) and the dev metrics, for the log and the bundle."""
        ...

    def log_fields(self, dev: dict, frames: int, seconds: float) -> dict:
        """The modality's columns in ``history.jsonl``: dev metrics and throughput."""
        ...

    def bundle_config(self, epoch: int, step: int, dev: dict) -> dict:
        """The best bundle's ``config.json``, for the model as it is after ``step``."""
        ...


def warmup_cosine(warmup: int, total: int) -> Callable[[int], float]:
    """The learning rate's factor at a step: a linear warm-up, then a cosine decay to 5%."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def optimizer_step(
    loss: torch.Tensor, model: torch.nn.Module, optimizer, scheduler, scaler, grad_clip: float
) -> None:
    """Backward, clip the gradient norm (after unscaling mixed precision), step, advance the schedule."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()


@dataclass
class _Run:
    """One run's moving parts: built once by ``_start``, handed from step to step."""

    task: TrainingTask
    ranks: Distributed
    device: torch.device
    model: torch.nn.Module
    network: torch.nn.Module  # the model, or under torchrun its DDP wrapper: forward through this one
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    autocast: contextlib.AbstractContextManager
    vocabulary: list[str]
    state: dict

    def checkpoint(self) -> None:
        if self.ranks.is_main:
            path = self.task.recipe.run_dir / CHECKPOINT_FILE
            parts = (self.model, self.optimizer, self.scheduler, self.scaler, self.vocabulary)
            save_checkpoint(path, *parts, self.state)


def train(task: TrainingTask, max_steps: int | None = None, log: Log = print) -> Path:
    """Train (or resume) ``task.recipe`` and return the folder of the best-on-dev bundle.

    ``max_steps`` stops after that many optimiser steps in total, with a checkpoint, so a long
    run can be done over several sessions: run the same command again to go on.
    """
    ranks, device = _join(task)
    run_dir = task.recipe.run_dir
    if not ranks.is_main:
        log = _silent
    torch.manual_seed(task.recipe.train.seed)
    run = _start(task, ranks, device, log)
    with TrainingLog(run_dir, enabled=ranks.is_main) as train_log:
        finished = _epochs(run, train_log, max_steps, log)
    if finished:
        best, epoch = run.state["best_score"], run.state["best_epoch"]
        log(f"best dev {task.score_name} {best:.4f} at epoch {epoch}: {run_dir / BEST_DIR}")
    del run  # DDP holds the process group: close() can only shut it down once the wrapper is gone
    ranks.close()
    return run_dir / BEST_DIR


def _join(task: TrainingTask) -> tuple[Distributed, torch.device]:
    """The device, and this process's place among those torchrun started (alone without torchrun)."""
    if not task.distributed and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ConfigError(
            f"{task.recipe.modality} recipes train in one process: run seqrec train without torchrun"
        )
    device = resolve_device(task.recipe.train.device)
    ranks = Distributed.from_environment(device)
    return ranks, ranks.device(device)


def _start(task: TrainingTask, ranks: Distributed, device: torch.device, log: Log) -> _Run:
    """Data, model, AdamW, the warm-up/cosine schedule and mixed precision on CUDA; then the
    checkpoint's weights and state where there is one."""
    cfg, checkpoint_path = task.recipe.train, task.recipe.run_dir / CHECKPOINT_FILE
    if not ranks.is_main:
        ranks.barrier()  # rank 0 reads the data and caches its features first; the others then read them
    data = task.load_data(
        ranks, log
    )  # checks the data first: a mistake in it stops the run here, nothing written
    task.recipe.run_dir.mkdir(parents=True, exist_ok=True)
    if ranks.is_main:
        ranks.barrier()
    model, vocabulary = task.build_model(device, not checkpoint_path.is_file(), log)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = task.steps_per_epoch()
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(cfg.warmup_steps, cfg.epochs * steps_per_epoch)
    )
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    autocast = torch.autocast("cuda", dtype=torch.float16) if use_amp else contextlib.nullcontext()
    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best_score": math.inf, "best_epoch": -1}
    network = ranks.wrap(model)
    if checkpoint_path.is_file():
        state = restore_checkpoint(checkpoint_path, model, optimizer, scheduler, scaler, vocabulary, state)
        log(f"resuming {task.recipe.name} at epoch {state['epoch']}, step {state['global_step']}")
    log(
        f"training {task.recipe.name}: {data}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters, "
        f"{steps_per_epoch} steps per epoch on {device}"
    )
    parts = (optimizer, scheduler, scaler, autocast, vocabulary, state)
    return _Run(task, ranks, device, model, network, *parts)


def _epochs(run: _Run, train_log: TrainingLog, max_steps: int | None, log: Log) -> bool:
    """Train epoch after epoch, scoring each on dev and checkpointing at its end.

    Returns False when ``max_steps`` stopped the run first: the one way to stop early, with a
    checkpoint where it stopped, so the same command goes on from there.
    """
    state, ranks = run.state, run.ranks
    while state["epoch"] < run.task.recipe.train.epochs:
        epoch, started = state["epoch"], time.perf_counter()
        trained = _train_epoch(run, epoch, train_log, max_steps)
        if trained is None:
            run.checkpoint()
            log(f"stopped at step {state['global_step']} (--max-steps); run again to resume")
            return False
        losses, frames = trained
        seconds = time.perf_counter() - started
        frames = int(ranks.sum(frames))
        state["epoch"], state["step_in_epoch"] = epoch + 1, 0
        if ranks.is_main:  # rank 0 alone scores, keeps the best and logs; the others go on
            summary = _score_epoch(run, epoch, losses, frames, seconds)
            train_log.epoch(summary)
            log(json.dumps(summary))
        run.checkpoint()
    return True


def _train_epoch(
    run: _Run, epoch: int, train_log: TrainingLog, max_steps: int | None
) -> tuple[list[float], int] | None:
    """The optimiser steps of ``epoch`` from where the state stands: the losses logged and the input
    frames trained on, or None once ``max_steps`` steps are done."""
    task, state, cfg = run.task, run.state, run.task.recipe.train
    losses, frames = [], 0
    for index, batch in task.batches(epoch, state["step_in_epoch"]):
        if max_steps is not None and state["global_step"] >= max_steps:
            return None
        run.model.train()
        with run.autocast:
            outputs, out_lengths = run.network(batch["features"].to(run.device), batch["lengths"])
        loss, logged = task.loss(outputs, out_lengths, batch)
        optimizer_step(loss, run.model, run.optimizer, run.scheduler, run.scaler, cfg.grad_clip)
        state["global_step"] += 1
        state["step_in_epoch"] = index + 1
        frames += int(batch["lengths"].sum())
        losses.append(logged)
        train_log.step(state["global_step"], logged, run.scheduler.get_last_lr()[0])
        if state["global_step"] % cfg.checkpoint_every == 0:
            run.checkpoint()
    return losses, frames


def _score_epoch(run: _Run, epoch: int, losses: list[float], frames: int, seconds: float) -> dict:
    """Score the model on dev, save it to ``best`` when it beats every epoch before, and return the
    epoch's line of ``history.jsonl``."""
    task, state = run.task, run.state
    score, dev = task.evaluate(run.model.eval())
    improved = score < state["best_score"]
    if improved:
        state["best_score"], state["best_epoch"] = score, epoch
        config = task.bundle_config(epoch, state["global_step"], dev)
        save_bundle(task.recipe.run_dir / BEST_DIR, run.model, config)
    return {
        "epoch": epoch,
        "step": state["global_step"],
        "train_loss": round(sum(losses) / max(len(losses), 1), 4),
        **task.log_fields(dev, frames, seconds),
        "best": improved,
    }


def _silent(*_args) -> None:
    """The log of a process other than rank 0: one voice is enough."""
