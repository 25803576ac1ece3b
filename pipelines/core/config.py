"""Settings files mapped onto frozen dataclasses: a YAML recipe (a file, or a bundled one by name)
becomes nested dataclasses; an unknown key or a value of the wrong type is a ``ConfigError``
naming where it is, not a surprise later."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import typing
from pathlib import Path

import yaml

from seqrec.pipelines.core.errors import ConfigError

RECIPES_PACKAGE = "seqrec.configs"


def bundled_recipe_names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in _recipe_folder().iterdir() if p.name.endswith(".yaml"))


def _recipe_folder() -> Path:
    """The folder of the bundled recipes, however seqrec was installed (a wheel, a strict or a
    default editable install). ``seqrec.configs`` is a folder of YAML files, a namespace package,
    and ``importlib.resources`` cannot read one through the default editable install, whose
    search path holds a placeholder beside the folder; its folder is the one that exists."""
    spec = importlib.util.find_spec(RECIPES_PACKAGE)
    folders = [Path(p) for p in (spec.submodule_search_locations or []) if Path(p).is_dir()] if spec else []
    if not folders:
        raise ConfigError(f"{RECIPES_PACKAGE}: the bundled recipes are not installed")
    return folders[0]


def read_recipe_mapping(name_or_path: str | os.PathLike, overrides: dict | None = None) -> tuple[dict, str]:
    """A recipe's YAML mapping and where it came from, from a file or a bundled recipe's name.

    ``overrides`` maps dotted keys to values (``{"train.epochs": 1}``), set before any checking.
    """
    path = Path(name_or_path)
    if path.is_file():
        text, source = _read_text(path), str(path)
    elif str(name_or_path) in bundled_recipe_names():
        text = _read_text(_recipe_folder() / f"{name_or_path}.yaml")
        source = str(name_or_path)
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
        if not all([*parents, leaf]):
            raise ConfigError(f"{source}: override {dotted!r}: not a dotted key (train.epochs)")
        node = data
        for depth, key in enumerate(parents, 1):
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                section = ".".join(parents[:depth])
                raise ConfigError(
                    f"{source}: override {dotted!r}: {section} is {node!r}, not a section with keys"
                )
        node[leaf] = value
    return data, source


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start + 1})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it ({error.strerror or error})") from None


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
