import pytest

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.recipes import bundled_recipe_names, load_recipe


def test_bundled_recipe_loads_by_name_into_frozen_dataclasses():
    assert "digits-commands" in bundled_recipe_names()
    recipe = load_recipe("digits-commands")
    assert recipe.features.sample_rate == 16000 and recipe.model.stack == 3
    assert "backward" in recipe.vocabulary
    with pytest.raises(AttributeError):
        recipe.train.epochs = 1


@pytest.mark.parametrize(
    "stages",
    [
        ("digits-commands-real", "digits-commands"),
        ("commands-real", "commands"),
        ("digits-commands", "commands-16k"),  # the shipped commands since issue 14: stage 1
        ("commands-16k", "commands-16k-tune"),  # ... and stage 2
    ],
)
def test_each_shipped_model_starts_from_a_stage_with_its_features_and_dims(stages):
    first, second = (load_recipe(name) for name in stages)
    assert second.train.init_from == f"{first.output_dir}/best"
    assert (first.features, first.model) == (second.features, second.model)
    assert set(first.vocabulary) <= set(second.vocabulary)


def test_overrides_are_checked_like_the_file(tmp_path):
    assert load_recipe("digits-commands", {"train.epochs": 2}).train.epochs == 2
    with pytest.raises(ConfigError, match="unknown key"):
        load_recipe("digits-commands", {"train.epoch": 2})
    with pytest.raises(ConfigError, match="epochs must be int"):
        load_recipe("digits-commands", {"train.epochs": "ten"})


def test_unknown_key_in_a_file_is_an_error(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\ndata: {train: [a.jsonl], dev: [b.jsonl], shuffle: true}\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['shuffle'\]"):
        load_recipe(path)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo unsafe']\ndata: {train: [], dev: []}\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_recipe(path)
