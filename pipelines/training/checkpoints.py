"""Checkpoints with exact resume: the model, the optimiser, the schedule, the grad scaler, the torch
RNG (dropout) and the loop's own state, written atomically, so a run stopped at any checkpoint and
resumed ends with the weights of one that never stopped."""

from __future__ import annotations

from pathlib import Path

import torch

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.files import replaced_atomically

# State keys that checkpoints written before speech and hands shared one trainer spelled per modality.
RENAMED_STATE_KEYS = {"best_wer": "best_score", "best_error": "best_score"}


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
    with replaced_atomically(path) as tmp:  # a kill mid-save leaves the previous checkpoint whole
        torch.save(payload, tmp)


def restore_checkpoint(
    path: Path, model, optimizer, scheduler, scaler, vocabulary: list[str], state: dict
) -> dict:
    """Load ``path`` into the model, optimiser, schedule, scaler and RNG; return the loop's saved state.

    ``state`` is a fresh run's: the saved one must have the same keys (old spellings renamed), and
    the checkpoint the same vocabulary, or nothing is loaded and the error says so in one line.
    """
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload["vocabulary"] != vocabulary:
        raise ConfigError(
            f"{path}: the checkpoint's vocabulary or labels differ from this recipe's data; "
            "use a new output_dir"
        )
    saved = {RENAMED_STATE_KEYS.get(key, key): value for key, value in payload["state"].items()}
    if saved.keys() != state.keys():
        raise ConfigError(
            f"{path}: the checkpoint's state has {sorted(saved)}, this trainer's {sorted(state)}; "
            "use a new output_dir"
        )
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    scaler.load_state_dict(payload["scaler"])
    torch.set_rng_state(payload["torch_rng"])
    if payload["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    return saved
