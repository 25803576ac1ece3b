"""Length-bucketed batches planned per epoch, the same for every modality: items of similar
length share a batch, and the plan is a pure function of (seed, epoch), so a resumed run replays
its epoch exactly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def plan_epoch(
    lengths: np.ndarray,
    batch_frames: int,
    seed: int,
    epoch: int,
    join_probability: float = 0.0,
    join_max: int = 3,
) -> list[list[tuple[int, ...]]]:
    """Batches for one epoch, a pure function of (seed, epoch): resuming mid-epoch replays it exactly.

    Each item is a tuple of utterance indices, joined end to end into one connected sequence (a
    single index most of the time). Items of similar length share a batch, so little is padding;
    a batch holds at most ``batch_frames`` padded frames.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    items, i = [], 0
    while i < len(order):
        take = int(rng.integers(2, join_max + 1)) if join_max > 1 and rng.random() < join_probability else 1
        items.append(tuple(int(j) for j in order[i : i + take]))
        i += take
    item_lengths = np.array([sum(lengths[j] for j in item) for item in items])
    # Jitter before sorting, so batches are not the same neighbours every epoch.
    by_length = np.argsort(item_lengths * rng.uniform(0.9, 1.1, len(items)), kind="stable")
    batches, current, longest = [], [], 0
    for index in by_length:
        longest_if_added = max(longest, item_lengths[index])
        if current and longest_if_added * (len(current) + 1) > batch_frames:
            batches.append(current)
            current, longest_if_added = [], item_lengths[index]
        current.append(items[index])
        longest = longest_if_added
    if current:
        batches.append(current)
    return [batches[i] for i in rng.permutation(len(batches))]


class PlannedBatches(torch.utils.data.Dataset):
    """One epoch's plan as a dataset of whole batches, from ``start`` on, for a DataLoader's workers."""

    def __init__(self, plan: list, make: Callable[[list, int, int], dict], epoch: int, start: int = 0):
        self.plan, self.make, self.epoch, self.start = plan, make, epoch, start

    def __len__(self) -> int:
        return len(self.plan) - self.start

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.make(self.plan[self.start + i], self.epoch, self.start + i)
