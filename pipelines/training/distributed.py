"""Data-parallel training under ``torchrun``: which process this is, and what the processes share.

``torchrun --nproc_per_node N -m seqrec.pipelines.cli train RECIPE`` starts N processes with
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set. Each takes its share of every planned batch
(items ``rank::world_size``), DDP averages the gradients, and only rank 0 writes checkpoints,
logs and bundles. Without those variables this is one process and nothing changes.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @classmethod
    def from_environment(cls, device: torch.device) -> Distributed:
        """Join the process group torchrun describes (gloo on the CPU, nccl on CUDA), if any."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        if world_size == 1:
            return cls()
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0")), world_size)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """On CUDA, each process on a machine takes its own GPU."""
        return torch.device("cuda", self.local_rank) if device.type == "cuda" and self.enabled else device

    def shard(self, items: list) -> list:
        """This process's items of a batch every process planned alike."""
        return items[self.rank :: self.world_size] if self.enabled else items

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if not self.enabled:
            return model
        device_ids = [self.local_rank] if next(model.parameters()).is_cuda else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def sum(self, value: float) -> float:
        """``value`` summed over the processes."""
        if not self.enabled:
            return value
        device = f"cuda:{self.local_rank}" if dist.get_backend() == "nccl" else "cpu"
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        dist.all_reduce(tensor)
        return float(tensor.item())

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        """Destroy the process group; drop every DDP wrapper of it first.

        Gloo's worker threads release a finished collective's tensors a moment after the caller
        has its result, and releasing a tensor Python has seen takes the GIL. A worker still doing
        so when the interpreter shuts down is killed mid-destructor, and the process aborts
        ("terminate called without an active exception"). The group's destructor joins those
        threads, with the GIL released, but it only runs once nothing holds the group: DDP does,
        inside reference cycles that only the collector frees.
        """
        if self.enabled and dist.is_initialized():
            gc.collect()
            dist.destroy_process_group()
