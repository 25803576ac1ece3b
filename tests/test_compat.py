"""What users already have keeps working: the shipped bundles as they are, bundles and a
checkpoint written by seqrec before its layout changed (``tests/data/compat``, trained with the
code of commit 1450cbe on the fixture clips and photos), and old recipe spellings."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqrec.models import FORMAT_VERSION, bundled_model_names, load_bundle, resolve_bundle
from seqrec.pipelines import GestureRecognizer, Transcriber
from seqrec.pipelines.recipes import load_recipe
from seqrec.pipelines.speech.training import train

DATA = Path(__file__).parent / "data"
COMPAT = DATA / "compat"
# Bundles shipped in format 1 and never rewritten: each must load as the current format.
SHIPPED_IN_FORMAT_1 = ("hand-gestures", "sign-digits", "sign-digits-ctc")


def test_the_format_1_shipped_bundles_load_as_they_are():
    assert set(SHIPPED_IN_FORMAT_1) <= set(bundled_model_names())
    for name in SHIPPED_IN_FORMAT_1:
        on_disk = json.loads((resolve_bundle(name) / "config.json").read_text())
        assert on_disk["format_version"] == 1, "shipped bundles are not rewritten"
        bundle = load_bundle(name)
        assert bundle.config["format_version"] == FORMAT_VERSION
        assert bundle.config["modality"] == ("speech" if on_disk["modality"] == "audio" else "hands")
        assert "task" not in bundle.config
        assert sum(p.numel() for p in bundle.model.parameters()) > 0


def test_an_old_speech_bundle_transcribes():
    [record] = Transcriber(str(COMPAT / "speech-bundle")).transcribe_paths([str(DATA / "3_jackson_0.wav")])
    assert set(record) >= {"path", "text", "score", "duration", "words"}


def test_an_old_hands_bundle_recognises_a_photo():
    with GestureRecognizer(str(COMPAT / "hands-bundle")) as recognizer:
        record = recognizer.recognize(str(DATA / "hands" / "sign_digit_5_IMG_1123.JPG"))
    assert record["label"] in {"0", "1", "4", "5"} and record["hands"] == 1


def _old_speech_recipe(tmp_path: Path, run: str) -> Path:
    """The recipe the old checkpoint was written with (tests/data/compat/speech-bundle's own)."""
    recipe = json.loads((COMPAT / "speech-bundle" / "config.json").read_text())["training"]["recipe"]
    recipe["data"]["train"] = recipe["data"]["dev"] = [str(DATA / "manifest.jsonl")]
    recipe["output_dir"] = str(tmp_path / run)
    del recipe["modality"]  # it said "audio" then; the default now
    path = tmp_path / f"{run}.yaml"
    path.write_text(json.dumps(recipe))
    return path


def test_an_old_checkpoint_resumes_to_the_weights_of_a_straight_run(tmp_path):
    straight = train(load_recipe(_old_speech_recipe(tmp_path, "straight")), log=lambda *_: None)
    resumed_recipe = load_recipe(_old_speech_recipe(tmp_path, "resumed"))
    resumed_recipe.run_dir.mkdir(parents=True)
    shutil.copy(COMPAT / "speech-checkpoint-step2.pt", resumed_recipe.run_dir / "checkpoint.pt")
    lines = []
    resumed = train(resumed_recipe, log=lines.append)
    assert any("resuming" in str(line) and "step 2" in str(line) for line in lines)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    # Its first two steps saw the features of its day: the FFT is numpy's now (the light runtime has
    # no scipy), within 3e-5 of before, so the weights agree to float noise rather than bit for bit
    # (the exact resume of today's checkpoints is test_training's).
    assert all(torch.allclose(a[name], b[name], atol=1e-4) for name in a)
    assert max((a[name] - b[name]).abs().max() for name in a) < 1e-4


def test_a_bundle_trained_today_says_format_2(tmp_path):
    best = train(load_recipe(_old_speech_recipe(tmp_path, "new")), log=lambda *_: None)
    config = json.loads((best / "config.json").read_text())
    assert (config["format_version"], config["modality"], "task" in config) == (2, "speech", False)


@pytest.mark.parametrize("modality", ["audio", "speech"])
def test_a_speech_recipe_loads_with_its_old_and_new_modality(tmp_path, modality):
    path = tmp_path / "recipe.yaml"
    path.write_text(f"name: r\nmodality: {modality}\ndata: {{train: [a.jsonl], dev: [b.jsonl]}}\n")
    assert load_recipe(path).modality == "speech"
