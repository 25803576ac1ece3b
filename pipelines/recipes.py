"""Recipes of every modality, by name or path: ``load_recipe`` reads the YAML and builds the
modality's recipe (``modality: speech``, the default, or ``hands``); ``train_recipe`` trains it
with the one trainer and the modality's task."""

from __future__ import annotations

import os
from pathlib import Path

from seqrec.pipelines.core.config import bundled_recipe_names, from_dict, read_recipe_mapping
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.hands.training import HandRecipe, HandTraining
from seqrec.pipelines.speech.training import SpeechRecipe, SpeechTraining
from seqrec.pipelines.training import trainer
from seqrec.pipelines.training.recipes import RecipeBase

RECIPES: dict[str, type[RecipeBase]] = {"speech": SpeechRecipe, "hands": HandRecipe}
TASKS = {"speech": SpeechTraining, "hands": HandTraining}
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


def train_recipe(recipe: RecipeBase, max_steps: int | None = None, log=print) -> Path:
    """Train (or resume) ``recipe`` with its modality's task; the folder of the best-on-dev bundle.

    ``max_steps`` stops after that many optimiser steps in total, with a checkpoint: the same call
    goes on from there.
    """
    return trainer.train(TASKS[recipe.modality](recipe), max_steps, log)


__all__ = ["bundled_recipe_names", "load_recipe", "train_recipe"]
