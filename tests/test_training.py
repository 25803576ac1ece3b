"""A tiny model trained on the real fixture clips: the loop learns, resumes exactly, and its bundle loads."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqrec.models import DecodeOptions, load_bundle
from seqrec.pipelines import Transcriber
from seqrec.pipelines.batch.evaluate import evaluate
from seqrec.pipelines.cli import main
from seqrec.pipelines.recipes import load_recipe
from seqrec.pipelines.speech.training import train

MANIFEST = Path(__file__).parent / "data" / "manifest.jsonl"


def _recipe(tmp_path, run="run", **train):
    settings = {
        "epochs": 4,
        "batch_frames": 300,
        "lr": 0.01,
        "warmup_steps": 2,
        "seed": 7,
        "checkpoint_every": 3,
        **train,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\n"
        f"data: {{train: [{MANIFEST}], dev: [{MANIFEST}], join_probability: 0.3}}\n"
        "features: {sample_rate: 8000, fmax: 4000}\n"
        "model: {n_hidden: 16, n_layers: 1, stack: 3, dropout: 0.1}\n"
        f"train: {json.dumps(settings)}\n"
        f"output_dir: {tmp_path / run}\n"
    )
    return path


def test_training_lowers_the_loss_and_writes_a_loadable_bundle(tmp_path):
    best = train(load_recipe(_recipe(tmp_path, epochs=6)), log=lambda *_: None)
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert len(history) == 6
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    bundle = load_bundle(best)
    assert bundle.config["features"]["sample_rate"] == 8000
    assert bundle.config["training"]["utterances"] == len(MANIFEST.read_text().splitlines())
    assert (tmp_path / "run" / "tensorboard").is_dir()

    metrics = evaluate(best, MANIFEST, tmp_path / "eval")
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["wer"] == metrics["wer"]
    assert metrics["errors"] == 0 and metrics["utterances"] == len(MANIFEST.read_text().splitlines())


@pytest.mark.parametrize("layout", ["current", "old"])
def test_a_stopped_run_resumes_to_the_same_weights(tmp_path, layout):
    """The "old" layout: a checkpoint from before speech and hands shared one trainer, whose state named the
    best dev score ``best_wer``; it resumes as if it were current."""
    straight = train(load_recipe(_recipe(tmp_path, "straight")), log=lambda *_: None)
    recipe = load_recipe(_recipe(tmp_path, "stopped"))
    train(recipe, max_steps=5, log=lambda *_: None)
    path = tmp_path / "stopped" / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["state"]["global_step"] == 5
    assert checkpoint["state"]["best_score"] < float("inf"), "epoch 0 (3 steps) was scored"
    if layout == "old":
        checkpoint["state"]["best_wer"] = checkpoint["state"].pop("best_score")
        torch.save(checkpoint, path)
    resumed = train(recipe, log=lambda *_: None)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_cli_train_and_evaluate(tmp_path, capsys):
    assert main(["train", str(_recipe(tmp_path)), "--set", "train.epochs=1"]) == 0
    best = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["evaluate", "--model", best, str(MANIFEST), "--out", str(tmp_path / "eval")]) == 0
    assert "wer" in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_each_recurrent_cell_trains_and_its_bundle_transcribes(tmp_path, capsys, cell):
    assert main(["train", str(_recipe(tmp_path, epochs=1)), "--set", f"model.cell={cell}"]) == 0
    best = capsys.readouterr().out.strip().splitlines()[-1]
    bundle = load_bundle(best)
    assert bundle.config["dims"]["encoder"]["cell"] == cell
    assert type(bundle.model.encoder.lstm).__name__ == cell.upper()
    [record] = Transcriber(best).transcribe_paths([str(MANIFEST.parent / "3_jackson_0.wav")])
    assert isinstance(record["text"], str)


def test_cli_train_rejects_an_unknown_cell(tmp_path, capsys):
    assert main(["train", str(_recipe(tmp_path)), "--set", "model.cell=lstmm"]) == 2
    assert "cell must be one of lstm, gru, rnn" in capsys.readouterr().err


def test_cli_train_rejects_a_bad_override(tmp_path, capsys):
    assert main(["train", str(_recipe(tmp_path)), "--set", "train.nope=1"]) == 2
    assert "unknown key" in capsys.readouterr().err


def test_a_checkpoint_of_another_layout_is_refused_in_one_line(tmp_path):
    from seqrec.pipelines.core.errors import ConfigError

    recipe = load_recipe(_recipe(tmp_path, epochs=1))
    train(recipe, max_steps=2, log=lambda *_: None)
    path = tmp_path / "run" / "checkpoint.pt"
    checkpoint = torch.load(path, weights_only=True)
    del checkpoint["state"]["best_epoch"]
    torch.save(checkpoint, path)
    with pytest.raises(ConfigError, match=r"checkpoint.pt: the checkpoint's state has .* new output_dir"):
        train(recipe, log=lambda *_: None)


@pytest.mark.parametrize("content", [b"not safetensors at all", b"\x80\x04\x95pickle"])
def test_a_bundle_with_bad_weights_is_refused_without_unpickling(tmp_path, content):
    from seqrec.models import BundleError

    best = train(load_recipe(_recipe(tmp_path, epochs=1)), log=lambda *_: None)
    (best / "model.safetensors").write_bytes(content)
    with pytest.raises(BundleError, match="model.safetensors: not a readable safetensors file"):
        load_bundle(best)


def test_training_from_precomputed_features_never_imports_librosa(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from seqrec.features import SpectralConfig, load_audio, spectral_features
    from seqrec.pipelines.core.manifest import read_manifest, write_manifest

    config = SpectralConfig(sample_rate=8000, fmax=4000)
    rows = []
    for i, row in enumerate(read_manifest(MANIFEST)):
        path = tmp_path / f"{i}.npy"
        np.save(path, spectral_features(load_audio(row["audio_filepath"], 8000), config))
        rows.append({"features_filepath": str(path), "text": row["text"]})
    write_manifest(tmp_path / "features.jsonl", rows)
    recipe = _recipe(tmp_path, epochs=1).read_text().replace(str(MANIFEST), str(tmp_path / "features.jsonl"))
    (tmp_path / "features.yaml").write_text(recipe)
    script = (
        "import sys; sys.modules['librosa'] = None\n"  # any import of librosa now fails
        "from seqrec.pipelines.recipes import load_recipe\n"
        "from seqrec.pipelines.speech.training import train\n"
        f"train(load_recipe({str(tmp_path / 'features.yaml')!r}), log=lambda *_: None)\n"
        "assert 'librosa' not in sys.modules or sys.modules['librosa'] is None\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()


def test_fine_tuning_starts_from_a_bundles_weights(tmp_path):
    first = train(load_recipe(_recipe(tmp_path, "first", epochs=2)), log=lambda *_: None)
    recipe = _recipe(tmp_path, "second", epochs=1, lr=0.0, init_from=str(first))
    second = train(load_recipe(recipe), log=lambda *_: None)
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-5, rtol=0)


def test_fine_tuning_refuses_a_bundle_with_other_dims(tmp_path):
    first = train(load_recipe(_recipe(tmp_path, "first", epochs=1)), log=lambda *_: None)
    recipe = (
        _recipe(tmp_path, "second", epochs=1, init_from=str(first))
        .read_text()
        .replace("n_hidden: 16", "n_hidden: 24")
    )
    (tmp_path / "other.yaml").write_text(recipe)
    with pytest.raises(ValueError, match="dims"):
        train(load_recipe(tmp_path / "other.yaml"), log=lambda *_: None)


def test_a_filler_stands_for_each_run_of_other_words(tmp_path):
    from seqrec.pipelines.speech.scoring import keep_vocabulary

    vocabulary = ("three", "go")
    assert keep_vocabulary("bed three cat dog go", vocabulary) == "three go"
    assert keep_vocabulary("bed three cat dog go", vocabulary, "#") == "# three # go"
    for bad in ("three", "two words", "#X"):
        with pytest.raises(ValueError, match="filler"):
            load_recipe(_recipe(tmp_path), {"vocabulary": list(vocabulary), "filler": bad})


def test_a_filler_model_fine_tunes_from_a_bundle_without_it_and_never_outputs_the_filler(tmp_path):
    first = train(load_recipe(_recipe(tmp_path, "first", epochs=2)), log=lambda *_: None)
    # "zero" is outside this vocabulary: its clip is trained to the filler symbol.
    overrides = {"vocabulary": ["three", "seven"], "filler": "#"}
    second = train(
        load_recipe(_recipe(tmp_path, "second", epochs=1, lr=0.0, init_from=str(first)), overrides),
        log=lambda *_: None,
    )
    old, new = load_bundle(first), load_bundle(second)
    assert "#" in new.tokenizer.symbols and "#" not in old.tokenizer.symbols and new.config["filler"] == "#"
    a, b = old.model.state_dict(), new.model.state_dict()
    rows = [new.tokenizer.symbols.index(symbol) for symbol in old.tokenizer.symbols]
    for name in a:
        expected = b[name][rows] if a[name].shape != b[name].shape else b[name]
        torch.testing.assert_close(a[name], expected, atol=1e-5, rtol=0)
    assert len(new.config["language_model"]["bigram"]) == 4, (
        "three, seven, the filler, and the utterance boundary"
    )
    for decoder in ("greedy", "beam"):
        result = evaluate(
            second, MANIFEST, tmp_path / f"eval-{decoder}", decode=DecodeOptions(method=decoder)
        )
        texts = [
            json.loads(line)["text"]
            for line in (tmp_path / f"eval-{decoder}" / "results.jsonl").read_text().splitlines()
        ]
        assert all(word in ("three", "seven") for text in texts for word in text.split()), texts
        assert result["utterances"] == 2 and result["false_accept_rate"] >= 0.0


def _steps(run_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run_dir / "steps.jsonl").read_text().splitlines()]


def test_two_ddp_processes_follow_the_single_process_losses(tmp_path):
    """torchrun with 2 CPU processes (gloo): same seed and global batch, the same 20 losses."""
    import subprocess
    import sys

    # No dropout, no SpecAugment and no joins: the only randomness left would be the processes'.
    settings = {
        "epochs": 20,
        "batch_frames": 400,
        "spec_augment": False,
        "loader_workers": 0,
        "checkpoint_every": 1000,
    }
    single = _recipe(tmp_path, "single", **settings)
    single.write_text(
        single.read_text()
        .replace("dropout: 0.1", "dropout: 0.0")
        .replace("join_probability: 0.3", "join_probability: 0.0")
    )
    train(load_recipe(single), max_steps=20, log=lambda *_: None)

    distributed = tmp_path / "ddp.yaml"
    distributed.write_text(single.read_text().replace(str(tmp_path / "single"), str(tmp_path / "ddp")))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--standalone",
        "-m",
        "seqrec.pipelines.cli",
        "train",
        str(distributed),
        "--max-steps",
        "20",
    ]
    done = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )
    # The head holds a failing rank's own message, the tail torchrun's summary of it.
    assert done.returncode == 0, done.stderr[:3000] + "\n...\n" + done.stderr[-1500:]
    one, two = _steps(tmp_path / "single"), _steps(tmp_path / "ddp")
    assert len(one) == len(two) == 20
    for step, (a, b) in enumerate(zip(one, two, strict=False), 1):
        assert b == pytest.approx(a, rel=1e-4), f"step {step}: {a} alone, {b} with DDP"
    assert done.stdout.strip().splitlines()[-1] == str(tmp_path / "ddp" / "best"), (
        "rank 0 alone prints the bundle"
    )


def test_speed_perturbation_adds_slower_and_faster_copies(tmp_path):
    from seqrec.features import SpectralConfig
    from seqrec.pipelines.speech.data import load_corpus

    config = SpectralConfig(sample_rate=8000, fmax=4000)
    plain = load_corpus((str(MANIFEST),), config, tmp_path, log=lambda *_: None)
    perturbed = load_corpus((str(MANIFEST),), config, tmp_path, log=lambda *_: None, speeds=(0.9, 1.1))
    n = len(plain)
    assert len(perturbed) == 3 * n and perturbed.texts == plain.texts * 3
    for i in range(n):
        assert len(perturbed.arrays[i::n][0]) == len(plain.arrays[i])
        slower, faster = len(perturbed.arrays[n + i]), len(perturbed.arrays[2 * n + i])
        assert slower == pytest.approx(len(plain.arrays[i]) / 0.9, abs=2) and faster == pytest.approx(
            len(plain.arrays[i]) / 1.1, abs=2
        )


def test_fine_tuning_refuses_a_bundle_trained_on_other_features(tmp_path):
    """A 16 kHz recipe cannot start from 8 kHz weights: the dims agree, the numbers do not."""
    first = train(load_recipe(_recipe(tmp_path, "first", epochs=1)), log=lambda *_: None)
    recipe = load_recipe(
        _recipe(tmp_path, "second", epochs=1, init_from=str(first)),
        {"features.sample_rate": 16000, "features.fmax": 8000},
    )
    assert recipe.features.sample_rate == 16000 and recipe.features.n_mfcc == 13
    with pytest.raises(ValueError, match="features"):
        train(recipe, log=lambda *_: None)
    assert not (tmp_path / "second" / "best").exists()
