"""Validation at the edges: nothing a user feeds seqrec costs a traceback or another file's result.

Each case is a mistake a user makes with ordinary data (a recipe, a manifest, a bundle, an install)
and must end as ONE stderr line that names the file (and line) and the reason, exit 2, with
nothing done; or, from the library, the ``ConfigError`` / ``BundleError`` that carries that line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqrec.models import BundleError, bundled_model_names, load_bundle, read_bundle_config
from seqrec.pipelines.cli import main
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.recipes import bundled_recipe_names, load_recipe

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
CLIP = DATA / "3_jackson_0.wav"
COMPAT = DATA / "compat"


def _one_line(capsys) -> str:
    """The command's stderr, which must be exactly one ``seqrec: ...`` line; returned without prefix."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("seqrec: ") and "Traceback" not in lines[0]
    return lines[0]


def _manifest(path: Path, *rows) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def _speech_recipe(tmp_path: Path, train: Path, **extra) -> Path:
    """A tiny speech recipe over ``train`` (dev: the fixture manifest)."""
    recipe = {
        "name": "tiny",
        "data": {"train": [str(train)], "dev": [str(DATA / "manifest.jsonl")]},
        "features": {"sample_rate": 8000, "fmax": 4000},
        "model": {"n_hidden": 8, "n_layers": 1, "stack": 3, "dropout": 0.1},
        "train": {"epochs": 1, "batch_frames": 300, "warmup_steps": 1, "loader_workers": 0},
        "output_dir": str(tmp_path / "run"),
        **extra,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(recipe))  # JSON is YAML
    return path


# --- seqrec train: data mistakes, found before step 1 ------------------------------------------------


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([{"audio_filepath": "nope.wav", "text": "one"}], r"train.jsonl:1: .*nope.wav: no such file$"),
        ([], r"train.jsonl: no rows in this manifest: nothing to train on$"),
        (
            [{"audio_filepath": str(CLIP), "text": "three"}, {"audio_filepath": str(CLIP)}],
            r":2: a row needs text$",
        ),
        ([{"audio_filepath": str(CLIP), "text": 3}], r"train.jsonl:1: text must be a string, not 3$"),
        (
            [{"audio_filepath": None, "text": "x"}],
            r"train.jsonl:1: audio_filepath must be a file path, not null$",
        ),
        (
            [{"image_filepath": str(CLIP), "label": "x"}],
            r"train.jsonl:1: a row needs one of .*audio_filepath",
        ),
        (["not json"], r"train.jsonl:1: not a JSON object"),
    ],
    ids=["missing-file", "empty", "no-text", "numeric-text", "null-path", "photo-row", "not-json"],
)
def test_train_refuses_bad_training_data_in_one_line(tmp_path, capsys, rows, expected):
    recipe = _speech_recipe(tmp_path, _manifest(tmp_path / "train.jsonl", *rows))
    assert main(["train", str(recipe)]) == 2
    assert re.search(expected, _one_line(capsys))
    assert not (tmp_path / "run").exists()  # nothing done, not even the run's folder


def test_train_checks_dev_before_computing_any_training_features(tmp_path, capsys):
    recipe = _speech_recipe(tmp_path, DATA / "manifest.jsonl")
    data = json.loads(recipe.read_text())
    data["data"]["dev"] = [
        str(_manifest(tmp_path / "dev.jsonl", {"audio_filepath": "gone.wav", "text": "x"}))
    ]
    recipe.write_text(json.dumps(data))
    assert main(["train", str(recipe)]) == 2
    assert _one_line(capsys).endswith("dev.jsonl:1: " + str(tmp_path / "gone.wav") + ": no such file")
    assert not (tmp_path / "run").exists()


def test_a_training_file_that_cannot_be_decoded_is_named_with_its_line(tmp_path, capsys):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav file at all")
    rows = [{"audio_filepath": str(CLIP), "text": "three"}, {"audio_filepath": "broken.wav", "text": "one"}]
    train = _manifest(tmp_path / "train.jsonl", *rows)
    assert main(["train", str(_speech_recipe(tmp_path, train))]) == 2
    assert f"train.jsonl:2: {broken}: cannot train on it: " in _one_line(capsys)


def test_a_hands_recipe_pointed_at_audio_is_refused_in_one_line(tmp_path, capsys):
    recipe = tmp_path / "hands.yaml"
    manifest = DATA / "manifest.jsonl"
    recipe.write_text(
        json.dumps(
            {
                "name": "h",
                "modality": "hands",
                "data": {"train": [str(manifest)], "dev": [str(manifest)]},
                "heads": {"g": {"kind": "classifier"}},
                "output_dir": str(tmp_path / "run"),
            }
        )
    )
    assert main(["train", str(recipe)]) == 2
    line = _one_line(capsys)
    assert f"{manifest}:1: a row needs one of features_filepath, image_filepath, video_filepath" in line
    assert "audio_filepath" in line
    assert not (tmp_path / "run").exists()


def test_a_hands_recipe_with_a_missing_photo_names_its_line(tmp_path, capsys):
    photos = _manifest(
        tmp_path / "photos.jsonl",
        {"image_filepath": str(DATA / "hands" / "sign_digit_1_IMG_1119.JPG"), "label": "1"},
        {"image_filepath": "gone.jpg", "label": "2"},
    )
    recipe = tmp_path / "hands.yaml"
    recipe.write_text(
        json.dumps(
            {
                "name": "h",
                "modality": "hands",
                "data": {"train": [str(photos)], "dev": [str(photos)]},
                "heads": {"g": {"kind": "classifier"}},
                "output_dir": str(tmp_path / "run"),
            }
        )
    )
    assert main(["train", str(recipe)]) == 2
    assert _one_line(capsys).endswith(f"photos.jsonl:2: {tmp_path / 'gone.jpg'}: no such file")


# --- seqrec train: recipe values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.lr=-1", "train: lr must be at least 0, not -1"),
        ("train.epochs=-1", "train: epochs must be at least 1, not -1"),
        ("train.epochs=0", "train: epochs must be at least 1, not 0"),
        ("train.batch_frames=0", "train: batch_frames must be at least 1"),
        ("train.grad_clip=0", "train: grad_clip must be positive"),
        ("train.seed=-3", "train: seed must be at least 0"),
        ("train.lr=.nan", "train: lr must be at least 0, not nan"),
        ("model.n_hidden=0", "model: n_hidden must be at least 1"),
        ("model.dropout=1.5", "model: dropout must be in [0, 1), not 1.5"),
        ("data.join_probability=2", "data: join_probability must be in [0, 1], not 2"),
        ("data.join_max=0", "data: join_max must be at least 1"),
        ("data.speeds=[0]", "data: speeds must be numbers between 0.1 and 10, not 0"),
        ("data.train=[]", "data: train must name at least one manifest"),
        (
            "features.sample_rate=0",
            "tiny.yaml: features.sample_rate must be a positive whole number of Hz, not 0",
        ),
        ("features.hop_ms=0", "tiny.yaml: features.hop_ms must be a positive number of milliseconds, not 0"),
        ("name.sub=1", "override 'name.sub': name is 'tiny', not a section with keys"),
        ("train.epochs.x=1", "override 'train.epochs.x': train.epochs is 1, not a section with keys"),
        ("train.lr=[", "--set train.lr=[: not a YAML value"),
    ],
)
def test_recipe_values_that_cannot_work_are_refused_naming_the_key(tmp_path, capsys, override, expected):
    recipe = _speech_recipe(tmp_path, DATA / "manifest.jsonl")
    assert main(["train", str(recipe), "--set", override]) == 2
    assert expected in _one_line(capsys)
    assert not (tmp_path / "run").exists()


def test_range_checks_are_config_errors_from_load_recipe(tmp_path):
    recipe = _speech_recipe(tmp_path, DATA / "manifest.jsonl")
    with pytest.raises(ConfigError, match=r"tiny.yaml: train: epochs must be at least 1, not -1$"):
        load_recipe(recipe, {"train.epochs": -1})
    hands = tmp_path / "hands.yaml"
    hands.write_text(
        "name: h\nmodality: hands\ndata: {train: [a], dev: [b]}\nheads: {g: {kind: classifier}}\n"
    )
    with pytest.raises(ConfigError, match=r"hands.yaml: data: hold_frames must be at least 1, not 0$"):
        load_recipe(hands, {"data.hold_frames": 0})


def test_a_hands_recipe_refuses_to_start_from_a_speech_bundle(tmp_path, capsys):
    hands = tmp_path / "hands.yaml"
    hands.write_text(
        "name: h\nmodality: hands\ndata: {train: [a], dev: [b]}\nheads: {g: {kind: classifier}}\n"
        f"output_dir: {tmp_path / 'run'}\n"
    )
    assert main(["train", str(hands), "--set", f"train.init_from={COMPAT / 'speech-bundle'}"]) == 2
    assert "train.init_from: " in (line := _one_line(capsys)) and "a speech model, not a hands one" in line
    assert not (tmp_path / "run").exists()


def _bundle_copy(tmp_path: Path, source: str, change) -> Path:
    bundle = tmp_path / "bundle"
    shutil.copytree(COMPAT / source, bundle)
    config = json.loads((bundle / "config.json").read_text())
    change(config)
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def test_init_from_a_bundle_with_other_features_is_refused_before_any_work(tmp_path, capsys):
    """The compat speech bundle is 8 kHz; a 16 kHz recipe cannot start from it (once a ValueError
    from deep inside training, after the features were computed)."""
    recipe = _speech_recipe(tmp_path, DATA / "manifest.jsonl")
    sets = ["--set", f"train.init_from={COMPAT / 'speech-bundle'}"]
    sets += ["--set", "features.sample_rate=16000", "--set", "features.fmax=8000"]
    assert main(["train", str(recipe), *sets]) == 2
    line = _one_line(capsys)
    assert "train.init_from: " in line and "speech-bundle: its features differ from this recipe's in" in line
    assert "sample_rate (8000 there, 16000 here)" in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "init_from, expected",
    [
        ("nowhere", "train.init_from: nowhere: not a model folder nor a bundled model"),
        ("sign-digits", "train.init_from: sign-digits: a hands model, not a speech one"),
    ],
)
def test_init_from_something_that_is_no_speech_bundle_is_refused(tmp_path, capsys, init_from, expected):
    recipe = _speech_recipe(tmp_path, DATA / "manifest.jsonl")
    assert main(["train", str(recipe), "--set", f"train.init_from={init_from}"]) == 2
    assert expected in _one_line(capsys)


# --- seqrec evaluate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["digits-commands", "sign-digits"])
def test_evaluate_with_nothing_scored_has_no_rate_and_exits_1(tmp_path, capsys, model):
    field = "audio_filepath" if model == "digits-commands" else "image_filepath"
    manifest = _manifest(tmp_path / "gone.jsonl", {field: "gone.wav", "text": "one", "label": "1"})
    assert main(["evaluate", str(manifest), "--model", model, "--out", str(tmp_path / "eval")]) == 1
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["scored"] == 0 and metrics["errors"] == 1
    if model == "digits-commands":
        assert metrics["wer"] is None and metrics["cer"] is None
    else:
        assert not any(key.endswith("_accuracy") for key in metrics) and metrics["error"] is None
    assert "nothing scored" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["digits-commands", "sign-digits"])
def test_evaluate_on_an_empty_manifest_is_a_usage_error(tmp_path, capsys, model):
    manifest = _manifest(tmp_path / "empty.jsonl")
    assert main(["evaluate", str(manifest), "--model", model, "--out", str(tmp_path / "eval")]) == 2
    assert _one_line(capsys).endswith("empty.jsonl: no rows in this manifest: nothing to score")
    assert not (tmp_path / "eval").exists()


def test_evaluate_speech_rows_without_a_reference_are_named(tmp_path, capsys):
    rows = [{"audio_filepath": str(CLIP), "text": "three"}, {"audio_filepath": str(CLIP)}]
    manifest = _manifest(tmp_path / "m.jsonl", *rows)
    assert main(["evaluate", str(manifest)]) == 2
    assert _one_line(capsys).endswith("m.jsonl:2: a row needs text")


# --- batch manifests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"audio_filepath": null}', "m.jsonl:2: audio_filepath must be a file path, not null"),
        ('{"audio_filepath": 3}', "m.jsonl:2: audio_filepath must be a file path, not 3"),
        ('{"audio_filepath": ["a.wav"]}', 'm.jsonl:2: audio_filepath must be a file path, not ["a.wav"]'),
        ('{"audio_filepath": ""}', 'm.jsonl:2: audio_filepath must be a file path, not ""'),
        ('{"audio_filepath": "a.wav", "id": null}', "m.jsonl:2: id must be a string, not null"),
        ('{"audio_filepath": "a.wav", "text": 5}', "m.jsonl:2: text must be a string, not 5"),
        (
            '{"audio_filepath": "a.wav", "labels": {"h": [1]}}',
            "m.jsonl:2: labels.h must be a string, not [1]",
        ),
        ("[1, 2]", "m.jsonl:2: not a JSON object (a list)"),
        (b'{"audio_filepath": "a\xff.wav"}', "m.jsonl:2: not UTF-8 text (byte 22 of the line)"),
    ],
    ids=["null", "number", "list", "empty", "null-id", "number-text", "bad-labels", "array", "not-utf8"],
)
def test_batch_manifest_rows_are_checked_before_any_work(tmp_path, capsys, line, expected):
    manifest = tmp_path / "m.jsonl"
    line = line if isinstance(line, bytes) else line.encode()
    manifest.write_bytes(b'{"audio_filepath": "b.wav"}\n' + line + b"\n")
    out = tmp_path / "out.jsonl"
    assert (
        main(["batch", "transcribe", "--input", str(manifest), "--output", str(out), "--workers", "1"]) == 2
    )
    assert _one_line(capsys).endswith(expected)
    assert not out.exists()


def test_a_manifest_with_a_byte_order_mark_reads(tmp_path):
    from seqrec.pipelines.batch.inputs import read_inputs

    manifest = tmp_path / "bom.jsonl"
    manifest.write_bytes(b'\xef\xbb\xbf{"audio_filepath": "a.wav", "id": 7, "label": 3}\n')
    (item,) = read_inputs(manifest, ("audio",))
    assert (item.id, item.reference, item.path) == ("7", "3", str(tmp_path / "a.wav"))


def test_a_kaggle_csv_that_is_not_utf8_is_a_config_error(tmp_path):
    from seqrec.pipelines.batch.inputs import read_inputs

    table = tmp_path / "train.csv"
    table.write_bytes(b"path,sequence_id,sign\nA_1.parquet,1,caf\xe9\n")
    with pytest.raises(ConfigError, match=r"train.csv: not UTF-8 text"):
        read_inputs(table, ("landmarks",))


# --- bundles ---------------------------------------------------------------------------------------------


def _drop(key):
    return lambda config: config.pop(key)


@pytest.mark.parametrize(
    "source, change, expected",
    [
        (
            "speech-bundle",
            lambda c: c["features"].update(sample_rate=0),
            "features.sample_rate must be a positive",
        ),
        ("speech-bundle", lambda c: c["features"].update(hop_ms=-10), "features.hop_ms must be a positive"),
        ("speech-bundle", lambda c: c["decode"].update(method="viterbi"), "decode: decode method must be"),
        ("speech-bundle", lambda c: c["decode"].update(beams=3), "decode: "),
        ("speech-bundle", lambda c: c.update(format_version=2, modality=None), "modality must be one of"),
        (
            "speech-bundle",
            lambda c: c.update(modality="video"),
            'modality must be one of speech, hands, not "video"',
        ),
        ("speech-bundle", _drop("tokenizer"), "tokenizer is missing"),
        (
            "speech-bundle",
            lambda c: c["tokenizer"]["symbols"].pop(),
            "heads.ctc: 14 labels or symbols for 15",
        ),
        (
            "speech-bundle",
            lambda c: c.update(format_version=99),
            "format_version 99 is not one this seqrec reads",
        ),
        ("hands-bundle", _drop("heads"), "heads must name at least one head"),
        ("hands-bundle", lambda c: c.update(heads=[]), "heads must name at least one head"),
        (
            "hands-bundle",
            lambda c: c["heads"]["digit"].update(kind="regress"),
            "heads.digit must have a kind",
        ),
        (
            "hands-bundle",
            lambda c: c["heads"]["digit"].update(labels=None),
            "heads.digit.labels must be a list",
        ),
        (
            "hands-bundle",
            lambda c: c["heads"]["digit"]["labels"].pop(),
            "heads.digit: 3 labels or symbols for 4",
        ),
        (
            "hands-bundle",
            lambda c: c["heads"].update(extra=c["heads"]["digit"]),
            "heads.extra: named in the config",
        ),
        ("hands-bundle", _drop("features"), "features must be a mapping"),
    ],
)
def test_a_bundle_that_cannot_work_fails_at_load_naming_the_key(tmp_path, source, change, expected):
    bundle = _bundle_copy(tmp_path, source, change)
    with pytest.raises(BundleError) as raised:
        load_bundle(bundle)
    message = str(raised.value)
    assert message.startswith(f"{bundle / 'config.json'}: ") and expected in message
    assert "\n" not in message


def test_a_broken_bundle_is_one_line_from_the_command_line(tmp_path, capsys):
    bundle = _bundle_copy(tmp_path, "speech-bundle", lambda c: c["features"].update(sample_rate=0))
    assert main(["transcribe", "--model", str(bundle), str(CLIP)]) == 2
    assert _one_line(capsys).endswith(
        f"{bundle / 'config.json'}: features.sample_rate must be a positive whole number of Hz, not 0"
    )
    assert main(["evaluate", "--model", str(bundle), str(DATA / "manifest.jsonl")]) == 2
    assert "features.sample_rate" in _one_line(capsys)


def test_shipped_and_old_bundles_still_load():
    for name in bundled_model_names():
        assert load_bundle(name).config["modality"] in ("speech", "hands")
    for folder in ("speech-bundle", "hands-bundle"):
        load_bundle(COMPAT / folder)
        read_bundle_config(COMPAT / folder)


# --- installs --------------------------------------------------------------------------------------------
# SLOW (about 10-20 s): builds the wheel and installs it, and installs the default (non-strict)
# editable mode, each into a fresh venv that sees this venv's packages (torch and the rest, no
# download); then lists and loads every bundled recipe there. Skip with -k "not install".

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "configs", "features", "models", "pipelines")
LOAD_EVERY_RECIPE = """
import json, seqrec.pipelines
from seqrec.models import bundled_model_names, read_bundle_config
from seqrec.pipelines.recipes import bundled_recipe_names, load_recipe
names = bundled_recipe_names()
recipes = {name: type(load_recipe(name)).__name__ for name in names}
models = {name: read_bundle_config(name)["modality"] for name in bundled_model_names()}
print(json.dumps({"where": seqrec.pipelines.__file__, "recipes": recipes, "models": models}))
"""


def _site_packages(python: Path) -> str:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize("mode", ["wheel", "editable"])
def test_install_bundled_recipes_load_in_every_install_mode(tmp_path, mode):
    """``pip install -e .`` in setuptools' default editable mode once crashed ``seqrec train NAME``
    with NotADirectoryError (``seqrec.configs`` is a namespace package of YAML files)."""
    pytest.importorskip("setuptools.command.bdist_wheel", reason="setuptools >= 70.1 builds wheels itself")
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # This venv's packages (pip, setuptools, torch...) after the new venv's own: no download.
    (Path(_site_packages(python)) / "zz_outer_venv.pth").write_text(
        _site_packages(Path(sys.executable)) + "\n"
    )
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    if mode == "wheel":
        dist = tmp_path / "dist"
        wheel = [
            str(python),
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
        ]
        subprocess.run([*wheel, "-w", str(dist), str(source)], check=True, cwd=tmp_path, timeout=120)
        subprocess.run([*pip, str(next(dist.glob("seqrec-*.whl")))], check=True, cwd=tmp_path, timeout=120)
    else:
        subprocess.run([*pip, "-e", str(source)], check=True, cwd=tmp_path, timeout=120)
    done = subprocess.run(
        [str(python), "-c", LOAD_EVERY_RECIPE],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    expected_home = venv if mode == "wheel" else source
    assert Path(found["where"]).is_relative_to(expected_home)  # the installed copy, not this checkout
    assert sorted(found["recipes"]) == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert set(found["recipes"].values()) == {"SpeechRecipe", "HandRecipe"}
    assert sorted(found["models"]) == bundled_model_names()
    assert bundled_recipe_names() == sorted(found["recipes"])
