"""Recipes of every modality, by name or path: ``load_recipe`` reads the YAML and builds the
modality's recipe (``modality: speech``, the default, or ``hands``)."""

from __future__ import annotations

import os

from seqrec.pipelines.core.config import bundled_recipe_names, from_dict, read_recipe_mapping
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.hands.training import HandRecipe
from seqrec.pipelines.speech.training import SpeechRecipe
from seqrec.pipelines.training.recipes import RecipeBase

RECIPES: dict[str, type[RecipeBase]] = {"speech": SpeechRecipe, "hands": HandRecipe}
# Spellings recipes used before: speech recipes said ``modality: audio``.
OLD_MODALITIES = {"audio": "speech"}


def load_recipe(name_or_path: str | os.PathLike, overrides: dict | None = None) -> RecipeBase:
    """Read a recipe from a YAML file, or a bundled one by name (``seqrec train digits-commands``).

    ``overrides`` maps dotted keys to values (``{"train.epochs": 1}``), checked like the file's keys.
    """
    data, source = read_recipe_mapping(name_or_path, overrides)
    modality = data.setdefault("modality", "speech")
    if isinstance(modality, str):
        modality = data["modality"] = OLD_MODALITIES.get(modality, modality)
    if modality not in RECIPES:
        raise ConfigError(f"{source}: modality must be one of {', '.join(RECIPES)}, not {modality!r}")
    return from_dict(RECIPES[modality], data, source)


__all__ = ["bundled_recipe_names", "load_recipe"]
