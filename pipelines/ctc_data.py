"""Training data for CTC models: feature corpora (cached), length-bucketed epoch plans, padded batches."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqrec.features import InputError, SpectralConfig
from seqrec.models import CharTokenizer, normalize_text

from .manifest import read_manifest


@dataclass
class FeatureCorpus:
    """Utterances as feature arrays with their transcripts, ready for batching."""

    ids: list[str]
    features: list[np.ndarray]  # each [T, D] float32
    texts: list[str]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(f) for f in self.features])

    def __len__(self) -> int:
        return len(self.features)


def load_corpus(manifests: tuple[str, ...], config: SpectralConfig, cache_dir: str | os.PathLike, log=print) -> FeatureCorpus:
    """Features for every row of the manifests, computed once and cached by content and settings.

    Rows with ``features_filepath`` (a ``.npy`` array, as ``seqrec batch features`` writes) are read
    as they are, so training from precomputed features needs neither librosa nor the audio.
    """
    corpus = FeatureCorpus([], [], [])
    for manifest in manifests:
        rows = list(read_manifest(manifest))
        key = hashlib.sha256(json.dumps([rows, config.to_dict()], sort_keys=True).encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"{Path(manifest).stem}-{key}.npz"
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as stored:
                arrays = np.split(stored["frames"].astype(np.float32), np.cumsum(stored["lengths"])[:-1])
        else:
            log(f"computing features for {len(rows)} rows of {manifest}")
            arrays = [_row_features(row, config) for row in rows]
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(cache.stem + ".tmp.npz")
            np.savez(tmp, frames=np.concatenate(arrays).astype(np.float16), lengths=np.array([len(a) for a in arrays]))
            os.replace(tmp, cache)
            # float16 storage: the cache is what training sees, so read it back the same way.
            arrays = [a.astype(np.float16).astype(np.float32) for a in arrays]
        corpus.ids += [row.get("id", row.get("audio_filepath", row.get("features_filepath"))) for row in rows]
        corpus.features += arrays
        corpus.texts += [normalize_text(row["text"]) for row in rows]
    return corpus


def _row_features(row: dict, config: SpectralConfig) -> np.ndarray:
    if "features_filepath" in row:
        return np.load(row["features_filepath"], allow_pickle=False).astype(np.float32)
    from seqrec.features import load_audio, spectral_features

    try:
        return spectral_features(load_audio(row["audio_filepath"], config.sample_rate), config)
    except InputError as error:
        raise InputError(row["audio_filepath"], f"cannot train on it: {error.reason}") from None


def plan_epoch(
    lengths: np.ndarray, batch_frames: int, seed: int, epoch: int, join_probability: float = 0.0, join_max: int = 3
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


def collate(
    corpus: FeatureCorpus, batch: list[tuple[int, ...]], tokenizer: CharTokenizer, augment: torch.Generator | None = None
) -> dict[str, torch.Tensor]:
    """Pad a planned batch: features [B, T, D], lengths [B], targets [sum(U)], target_lengths [B]."""
    arrays = [np.concatenate([corpus.features[j] for j in item]) for item in batch]
    texts = [" ".join(corpus.texts[j] for j in item) for item in batch]
    lengths = torch.tensor([len(a) for a in arrays])
    features = torch.zeros(len(arrays), int(lengths.max()), arrays[0].shape[1])
    for row, array in enumerate(arrays):
        features[row, : len(array)] = torch.from_numpy(array)
    if augment is not None:
        spec_augment(features, lengths, augment)
    targets = [tokenizer.encode(text) for text in texts]
    return {
        "features": features,
        "lengths": lengths,
        "targets": torch.tensor([t for target in targets for t in target]),
        "target_lengths": torch.tensor([len(t) for t in targets]),
    }


def spec_augment(features: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator, n_masks: int = 2) -> None:
    """SpecAugment in place: zero ``n_masks`` time spans (≤ 5% of each item) and feature bands (≤ 10%)."""
    batch, _, dim = features.shape
    for row in range(batch):
        length = int(lengths[row])
        for _ in range(n_masks):
            width = int(torch.randint(0, max(1, length // 20) + 1, (1,), generator=generator))
            start = int(torch.randint(0, max(1, length - width) + 1, (1,), generator=generator))
            features[row, start : start + width] = 0
            width = int(torch.randint(0, max(1, dim // 10) + 1, (1,), generator=generator))
            start = int(torch.randint(0, dim - width + 1, (1,), generator=generator))
            features[row, :length, start : start + width] = 0
