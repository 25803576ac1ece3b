"""What every training loop here shares: the learning-rate schedule, checkpoints with exact resume,
and the run's log (TensorBoard when installed, ``history.jsonl`` always)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch


def warmup_cosine(warmup: int, total: int):
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


def save_checkpoint(
    path: Path, model, optimizer, scheduler, scaler, vocabulary: list[str], state: dict
) -> None:
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "vocabulary": vocabulary,
        "state": state,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a kill mid-save leaves the previous checkpoint whole


def restore_checkpoint(path: Path, model, optimizer, scheduler, scaler, vocabulary: list[str]) -> dict:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload["vocabulary"] != vocabulary:
        raise ValueError(
            f"{path}: the checkpoint's vocabulary or labels differ from this recipe's data; "
            "use a new output_dir"
        )
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    scaler.load_state_dict(payload["scaler"])
    torch.set_rng_state(payload["torch_rng"])
    if payload["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    return payload["state"]


class TrainingLog:
    """TensorBoard scalars when tensorboard is installed; ``history.jsonl`` (per epoch) and
    ``steps.jsonl`` (loss and learning rate per step) always."""

    def __init__(self, run_dir: Path, enabled: bool = True):
        self.run_dir = run_dir
        self.enabled = enabled  # False in processes other than rank 0: they write nothing
        self.writer = None
        self.history = self.steps = None

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        except ImportError:
            print("tensorboard is not installed (pip install 'seqrec[train]'): logging to history.jsonl only")
        self.history = (self.run_dir / "history.jsonl").open("a", encoding="utf-8")
        self.steps = (self.run_dir / "steps.jsonl").open("a", encoding="utf-8")
        return self

    def step(self, step: int, loss: float, lr: float) -> None:
        """One optimiser step's loss and learning rate (``steps.jsonl`` and TensorBoard)."""
        if self.steps is not None:
            self.steps.write(json.dumps({"step": step, "loss": loss, "lr": lr}) + "\n")
            self.scalar("train/loss", loss, step)
            self.scalar("train/lr", lr, step)

    def scalar(self, tag: str, value: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar(tag, value, step)

    def epoch(self, summary: dict) -> None:
        if self.history is None:
            return
        self.steps.flush()
        self.history.write(json.dumps(summary) + "\n")
        self.history.flush()
        for key, value in summary.items():
            if key.startswith(("train_", "dev_")) and isinstance(value, (int, float)):
                self.scalar(key.replace("_", "/", 1), value, summary["step"])

    def __exit__(self, *exc):
        for file in (self.history, self.steps):
            if file is not None:
                file.close()
        if self.writer is not None:
            self.writer.close()
