"""The run's log: TensorBoard scalars when tensorboard is installed, JSON Lines always, so a run
can be read (and plotted) without it."""

from __future__ import annotations

import json
from pathlib import Path


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
