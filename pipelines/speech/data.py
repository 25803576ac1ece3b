"""Training data for CTC models of speech: corpora (features cached), padded batches, SpecAugment."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from seqrec.features import AudioAugmentConfig, InputError, SpectralConfig
from seqrec.models import CharTokenizer, normalize_text
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.feature_shards import SETTINGS_FILE, load_features, read_settings
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.manifest import read_numbered_manifest

# The fields a speech training row may name its input in, in the order they are read.
TRAINING_MEDIA = ("features_filepath", "audio_filepath")


@dataclass
class Corpus:
    """Utterances with their transcripts, as feature arrays or, for audio augmentation, as audio."""

    texts: list[str]
    arrays: list[np.ndarray]  # features [T, D] float32, or audio [n_samples] float32
    is_audio: bool
    frames_per_unit: float = 1.0  # feature frames per array element (1 / hop length for audio)

    @property
    def lengths(self) -> np.ndarray:
        """Length of each utterance in feature frames, for batch planning."""
        return np.array([int(len(a) * self.frames_per_unit) + 1 for a in self.arrays])

    def __len__(self) -> int:
        return len(self.arrays)


def load_corpus(
    manifests: tuple[str, ...],
    config: SpectralConfig,
    cache_dir: str | os.PathLike,
    keep_audio: bool = False,
    log=print,
    speeds: tuple[float, ...] = (),
) -> Corpus:
    """Every row of the manifests as features (or audio), computed once and cached by content and settings.

    ``speeds`` adds a copy of every row played at each of those speeds (0.9: 10% slower and lower,
    as sox's ``speed``): Kaldi's speed perturbation, cached like the rest.

    Rows with ``features_filepath`` (a ``.npy`` array, or a shard of ``seqrec batch features``)
    are read as they are, so training from precomputed features needs neither librosa nor the
    audio; features computed with other settings than the recipe's are refused.
    """
    corpus = Corpus([], [], is_audio=keep_audio, frames_per_unit=1 / config.hop_length if keep_audio else 1.0)
    kind = "audio" if keep_audio else "features"
    needs_audio = keep_audio or bool(speeds)
    for manifest, numbered in corpus_rows(manifests, needs_audio):
        rows = [row for _, row in numbered]
        _check_feature_settings(Path(manifest), rows, config)
        texts = [normalize_text(row["text"]) for row in rows]
        for speed in (1.0, *speeds):
            key_parts = [kind, rows, config.to_dict()] + ([speed] if speed != 1.0 else [])
            key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:16]
            cache = Path(cache_dir) / f"{Path(manifest).stem}-{kind}-{key}.npz"
            if not cache.is_file():
                log(
                    f"computing {kind} for {len(rows)} rows of {manifest}"
                    + (f" at speed {speed:g}" if speed != 1.0 else "")
                )
                arrays = [
                    _row_array(row, config, keep_audio, speed, needs_audio, f"{manifest}:{number}")
                    for number, row in numbered
                ]
                cache.parent.mkdir(parents=True, exist_ok=True)
                with replaced_atomically(cache) as tmp:
                    np.savez(
                        tmp,
                        data=np.concatenate(arrays).astype(np.float16),
                        lengths=np.array([len(a) for a in arrays]),
                    )
            # Always read back from the float16 cache, so a fresh run and a resumed one see the same numbers.
            with np.load(cache, allow_pickle=False) as stored:
                corpus.arrays += np.split(
                    stored["data"].astype(np.float32), np.cumsum(stored["lengths"])[:-1]
                )
            corpus.texts += texts
    return corpus


def corpus_rows(
    manifests: tuple[str, ...], needs_audio: bool = False
) -> list[tuple[str, list[tuple[int, dict]]]]:
    """Each manifest's rows with their line numbers, checked before any work: every row has a
    ``text`` and names a file that is there (``audio_filepath`` when ``needs_audio``: augmentation
    and speed perturbation change the audio), and no manifest is empty. Anything else is a
    ``ConfigError`` naming the manifest and the line."""
    media = ("audio_filepath",) if needs_audio else TRAINING_MEDIA
    checked = []
    for manifest in manifests:
        numbered = list(read_numbered_manifest(manifest, media, required=("text",)))
        if not numbered:
            raise ConfigError(f"{manifest}: no rows in this manifest: nothing to train on")
        for number, row in numbered:
            path = Path(row[next(field for field in media if field in row)])
            if not path.is_file():
                raise ConfigError(f"{manifest}:{number}: {path}: no such file")
        checked.append((str(manifest), numbered))
    return checked


def _check_feature_settings(manifest: Path, rows: list[dict], config: SpectralConfig) -> None:
    """``seqrec batch features`` writes its settings beside its index: they must be the recipe's."""
    if not any("features_filepath" in row for row in rows):
        return
    stored = read_settings(manifest.parent)
    if stored is not None and stored.get("features") != config.to_dict():
        raise ConfigError(
            f"{manifest}: its features were computed with other settings "
            f"({manifest.parent / SETTINGS_FILE}) than the recipe's"
        )


def _row_array(
    row: dict,
    config: SpectralConfig,
    keep_audio: bool,
    speed: float = 1.0,
    from_audio: bool = False,
    where: str = "",
) -> np.ndarray:
    """One row's features (or audio), from its ``features_filepath`` unless ``from_audio``; a file
    that cannot be used stops training before it starts: a ``ConfigError`` naming ``where``
    (``manifest:line``) and the file."""
    if "features_filepath" in row and not from_audio:
        try:
            return load_features(row)
        except (OSError, ValueError, KeyError) as error:
            reason = " ".join(str(error).split())
            raise ConfigError(
                f"{where}: {row['features_filepath']}: not a features file ({reason})"
            ) from None
    from seqrec.features import load_audio, resample, spectral_features

    try:
        audio = load_audio(row["audio_filepath"], config.sample_rate)
    except InputError as error:
        raise ConfigError(f"{where}: {row['audio_filepath']}: cannot train on it: {error.reason}") from None
    if speed != 1.0:  # more samples played at the same rate: slower and lower
        audio = resample(audio, config.sample_rate, round(config.sample_rate / speed))
    return audio if keep_audio else spectral_features(audio, config)


class BatchMaker:
    """Turns a planned batch into padded tensors; all randomness comes from ``(seed, epoch, index)``.

    With audio in the corpus, each utterance is augmented, joined items are joined as audio, and
    features are computed per batch, so every epoch sees new variants.
    """

    def __init__(
        self,
        corpus: Corpus,
        tokenizer: CharTokenizer,
        features: SpectralConfig,
        augment: AudioAugmentConfig | None,
        spec_augment: bool,
        seed: int,
    ):
        self.corpus, self.tokenizer, self.features = corpus, tokenizer, features
        self.augment, self.spec_augment, self.seed = augment, spec_augment, seed
        self._noises: list[np.ndarray] | None = None

    def __call__(self, batch: list[tuple[int, ...]], epoch: int, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, epoch, index])
        arrays = [self._item_features(item, rng) for item in batch]
        lengths = torch.tensor([len(a) for a in arrays])
        padded = pad_sequence([torch.from_numpy(a) for a in arrays], batch_first=True)
        if self.spec_augment:
            spec_augment(padded, lengths, rng)
        targets = [self.tokenizer.encode(" ".join(self.corpus.texts[j] for j in item)) for item in batch]
        return {
            "features": padded,
            "lengths": lengths,
            "targets": torch.tensor([t for target in targets for t in target]),
            "target_lengths": torch.tensor([len(t) for t in targets]),
        }

    def _item_features(self, item: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        if not self.corpus.is_audio:
            return np.concatenate([self.corpus.arrays[j] for j in item])
        from seqrec.features import augment_audio, spectral_features

        rate = self.features.sample_rate
        if self.augment is None:
            audio = [self.corpus.arrays[j] for j in item]
        else:
            noises = self._noise_recordings()
            audio = [augment_audio(self.corpus.arrays[j], rate, self.augment, rng, noises) for j in item]
        return spectral_features(np.concatenate(audio), self.features)

    def _noise_recordings(self) -> list[np.ndarray]:
        # Decoded on first use, in the process that makes the batches (a loader worker or the trainer).
        if self._noises is None:
            from seqrec.features import load_audio

            self._noises = [
                load_audio(path, self.features.sample_rate) for path in noise_paths(self.augment.noise_files)
            ]
        return self._noises


def noise_paths(entries: Iterable[str]) -> list[Path]:
    """The audio files a recipe's ``noise_files`` names: files as given, folders searched recursively."""
    from seqrec.features import find_audio_files

    paths = []
    for entry in entries:
        path = Path(entry)
        if path.is_dir():
            found = find_audio_files(path)
            if not found:
                raise InputError(path, "no audio files in this noise folder")
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise InputError(path, "noise file or folder not found")
    return paths


def spec_augment(
    features: torch.Tensor, lengths: torch.Tensor, rng: np.random.Generator, n_masks: int = 2
) -> None:
    """SpecAugment in place: zero ``n_masks`` time spans (≤ 5% of each item) and feature bands (≤ 10%)."""
    batch, _, dim = features.shape
    for row in range(batch):
        length = int(lengths[row])
        for _ in range(n_masks):
            width = int(rng.integers(0, length // 20 + 1))
            start = int(rng.integers(0, length - width + 1))
            features[row, start : start + width] = 0
            width = int(rng.integers(0, dim // 10 + 1))
            start = int(rng.integers(0, dim - width + 1))
            features[row, :length, start : start + width] = 0
