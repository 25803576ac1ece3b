"""YAML recipes loaded into frozen dataclasses; an unknown or missing key is an error, not a surprise."""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from seqrec.features import AudioAugmentConfig, SpectralConfig
from seqrec.models import DecodeOptions
from seqrec.pipelines.core.errors import ConfigError


@dataclass(frozen=True)
class DataConfig:
    train: tuple[str, ...]
    dev: tuple[str, ...]
    # Training items are joined into connected sequences with this probability (up to join_max items).
    join_probability: float = 0.0
    join_max: int = 3
    # Kaldi's speed perturbation: the training set again at each of these speeds (e.g. [0.9, 1.1]).
    speeds: tuple[float, ...] = ()


@dataclass(frozen=True)
class ModelConfig:
    n_hidden: int = 192
    n_layers: int = 2
    stack: int = 3
    dropout: float = 0.2


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_frames: int = 20_000  # padded input frames per batch: batches of short clips hold more clips
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 200
    grad_clip: float = 5.0
    seed: int = 0
    amp: bool = True  # mixed precision on CUDA; ignored on the CPU
    spec_augment: bool = True
    checkpoint_every: int = 200  # steps; checkpoints also close every epoch
    loader_workers: int = 1  # processes preparing batches (augmentation, features) beside training
    init_from: str | None = None  # a bundle folder whose weights start the run (fine-tuning)
    device: str | None = None


@dataclass(frozen=True)
class Recipe:
    name: str
    data: DataConfig
    features: SpectralConfig = field(default_factory=SpectralConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AudioAugmentConfig | None = None  # audio augmentation; None trains on cached features
    decode: DecodeOptions = field(default_factory=DecodeOptions)  # stored in the bundle as its default
    task: str = "ctc"
    modality: str = "audio"  # "hands" recipes load as ``HandRecipe``
    description: str = ""
    # A closed vocabulary: transcripts keep only these words, so speech outside it is trained
    # towards no output at all (rejection). Empty: every word in the data is a target.
    vocabulary: tuple[str, ...] = ()
    # With a closed vocabulary: a symbol (e.g. "#") that all speech outside it is trained to, one
    # per run of other words, instead of no output. A garbage model: the network learns "some
    # other word" as a class of its own rather than learning to hear speech as silence, and
    # decoding drops the symbol. Empty: other words are trained to no output.
    filler: str = ""
    output_dir: str = ""

    def __post_init__(self):
        if self.task != "ctc":
            raise ValueError(f"task must be 'ctc' for speech, not {self.task!r}")
        if self.filler and (
            not self.vocabulary
            or len(self.filler.split()) != 1
            or self.filler != self.filler.lower()
            or self.filler in self.vocabulary
        ):
            raise ValueError(
                f"filler must be one lower-case symbol outside a closed vocabulary, not {self.filler!r}"
            )
        if self.modality != "audio":
            raise ValueError(f"modality must be 'audio' or 'hands', not {self.modality!r}")

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/{self.name}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def bundled_recipe_names() -> list[str]:
    return sorted(
        p.name[: -len(".yaml")]
        for p in resources.files("seqrec.configs").iterdir()
        if p.name.endswith(".yaml")
    )


def load_recipe(name_or_path: str | os.PathLike, overrides: dict | None = None):
    """Read a recipe from a YAML file, or a bundled one by name (``seqrec train digits-commands``).

    A speech recipe becomes a ``Recipe``; one with ``modality: hands`` a ``HandRecipe``.

    ``overrides`` maps dotted keys to values (``{"train.epochs": 1}``), checked like the file's keys.
    """
    path = Path(name_or_path)
    if path.is_file():
        text, source = path.read_text(), str(path)
    elif str(name_or_path) in bundled_recipe_names():
        text, source = (
            resources.files("seqrec.configs").joinpath(f"{name_or_path}.yaml").read_text(),
            str(name_or_path),
        )
    else:
        raise ConfigError(
            f"{name_or_path}: no such recipe file nor bundled recipe "
            f"(bundled: {', '.join(bundled_recipe_names())})"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a recipe is a YAML mapping")
    for dotted, value in (overrides or {}).items():
        *parents, leaf = dotted.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    if data.get("modality") == "hands":
        from seqrec.pipelines.training.hand_recipes import HandRecipe

        return from_dict(HandRecipe, data, source)
    return from_dict(Recipe, data, source)


def from_dict(cls, data: dict, where: str):
    """Build dataclass ``cls`` from a mapping, recursing into nested dataclasses, rejecting unknown keys."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} for {cls.__name__} (known: {sorted(fields)})")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        hint = hints[key]
        nested = [a for a in (typing.get_args(hint) or (hint,)) if dataclasses.is_dataclass(a)]
        if typing.get_origin(hint) is dict:  # named sections, e.g. a model's heads
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {key} must be a mapping of names to sections")
            value = {
                str(name): from_dict(nested[0], section, f"{where}: {key}.{name}")
                for name, section in value.items()
            }
        elif nested:  # a section, or an optional one (``augment: null`` switches it off)
            value = None if value is None else from_dict(nested[0], value, f"{where}: {key}")
        elif typing.get_origin(hint) is tuple:
            value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        elif not _has_type(value, hint):
            raise ConfigError(f"{where}: {key} must be {_type_name(hint)}, not {value!r}")
        values[key] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {error}") from None


def _has_type(value, hint) -> bool:
    allowed = typing.get_args(hint) or (hint,)
    if float in allowed:
        allowed = (*allowed, int)
    if bool not in allowed and isinstance(value, bool):
        return False  # yes/no is never a number
    return isinstance(value, tuple(type(None) if a is None else a for a in allowed))


def _type_name(hint) -> str:
    return " or ".join("null" if a is type(None) else a.__name__ for a in (typing.get_args(hint) or (hint,)))
