"""``seqrec explain``: the arrays come from the model that ran, and the page holds them all."""

import base64
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqrec.models import load_bundle, read_bundle_config, save_bundle
from seqrec.models.encoder import RECURRENT_CELLS
from seqrec.models.recurrent_steps import STEP_NAMES
from seqrec.models.sequence_model import ModelDims, SequenceModel
from seqrec.pipelines import GestureRecognizer, Transcriber
from seqrec.pipelines.explain import explain, write_page
from seqrec.pipelines.explain.page import SHOWN

DATA = Path(__file__).parent / "data"
CLIP = DATA / "sc_stop_0fa1e7a9_nohash_0.flac"
PHOTO = DATA / "hands" / "ios_thumbs_up.png"


@pytest.fixture(scope="module")
def speech():
    return explain(CLIP)


def _best_path_score(network: SequenceModel, features: np.ndarray) -> float:
    with torch.inference_mode():
        outputs, _ = network(torch.as_tensor(features)[None], torch.tensor([len(features)]))
    return float(outputs["ctc"][0].max(dim=-1).values.sum())


def test_speech_arrays_are_the_models_own(speech):
    record = next(Transcriber().transcribe_paths([str(CLIP)]))
    assert speech.result == record and speech.result["text"] == "stop"
    bundle = load_bundle("digits-commands")
    dims = bundle.model.dims.encoder
    assert len(speech.layers) == dims.n_layers
    n_steps = -(-len(speech.features) // dims.stack)
    assert speech.step_times.shape == (n_steps,)
    for layer in speech.layers:
        assert set(layer) == {"forward", "backward"}
        for trace in layer.values():
            assert set(trace) == set(STEP_NAMES["lstm"])
            assert all(values.shape == (n_steps, dims.n_hidden) for values in trace.values())
            assert ((trace["forget_gate"] > 0) & (trace["forget_gate"] < 1)).all()
    # The replayed top layer is what torch's encoder gave for these very features.
    with torch.inference_mode():
        encoded, _ = bundle.model.encoder(
            torch.as_tensor(speech.features)[None], torch.tensor([len(speech.features)])
        )
    top = np.concatenate([speech.layers[-1][d]["hidden"] for d in ("forward", "backward")], axis=-1)
    assert np.abs(top - encoded[0].numpy()).max() < 1e-5
    posteriors = speech.ctc["ctc"]["posteriors"]
    assert posteriors.shape == (n_steps, len(bundle.tokenizer.symbols))
    np.testing.assert_allclose(posteriors.sum(axis=1), 1, atol=1e-5)
    path = speech.ctc["ctc"]["best_path"]
    spelled = bundle.tokenizer.decode([t for i, t in enumerate(path) if i == 0 or t != path[i - 1]])
    assert spelled.strip() == "stop"


def test_saliency_is_the_gradient_of_the_best_path_times_the_input(speech):
    """A finite difference on the most salient feature gives the same slope (in float64)."""
    network = load_bundle("digits-commands").model.double()
    features = speech.features.astype(np.float64)
    t, d = np.unravel_index(np.abs(speech.saliency).argmax(), speech.saliency.shape)
    slope = speech.saliency[t, d] / features[t, d]
    step = 1e-4
    up, down = features.copy(), features.copy()
    up[t, d] += step
    down[t, d] -= step
    numeric = (_best_path_score(network, up) - _best_path_score(network, down)) / (2 * step)
    assert abs(slope) > 1e-3
    assert numeric == pytest.approx(slope, rel=0.02)


def test_the_page_is_one_file_with_every_picture_inside(speech, tmp_path):
    page = write_page(speech, tmp_path / "stop.html").read_text(encoding="utf-8")
    pictures = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    # input, one per layer and direction, saliency, the CTC head
    assert len(pictures) == 1 + 2 * len(speech.layers) + 1 + 1
    assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    assert not re.search(r'(src|href)="(?!data:)', page), "nothing outside the file"
    assert "forget gate" in page and '"text": "stop"' in html.unescape(page)


@pytest.mark.parametrize("cell", sorted(set(RECURRENT_CELLS) - {"lstm"}))
def test_every_cell_is_explained(cell, tmp_path):
    """A GRU's and an RNN's bundle (untrained weights: the shapes and the path are the point)."""
    config = read_bundle_config("digits-commands")
    dims = ModelDims.from_dict(config["dims"])
    dims = ModelDims(encoder=type(dims.encoder)(**{**vars(dims.encoder), "cell": cell}), heads=dims.heads)
    torch.manual_seed(0)
    folder = save_bundle(
        tmp_path / cell, SequenceModel(dims), {k: v for k, v in config.items() if k != "dims"}
    )
    explanation = explain(CLIP, folder)
    assert explanation.cell == cell
    assert set(explanation.layers[0]["backward"]) == set(STEP_NAMES[cell])
    page = write_page(explanation, tmp_path / f"{cell}.html").read_text(encoding="utf-8")
    assert ("update gate" in page) == (cell == "gru")


def test_the_page_draws_only_what_the_replay_gives():
    assert all(set(names) <= set(STEP_NAMES[cell]) for cell, names in SHOWN.items())
    assert set(SHOWN) == set(RECURRENT_CELLS)


def test_a_photo_gives_its_probabilities_and_landmarks(tmp_path):
    explanation = explain(PHOTO)
    with GestureRecognizer() as recognizer:
        assert explanation.result == recognizer.recognize(PHOTO)
    assert explanation.modality == "hands" and explanation.features.shape[0] == 1
    assert explanation.present[0].any() and len(explanation.thumbnails) == 1
    for head in explanation.classifier.values():
        assert head["probabilities"].shape == (1, len(head["labels"]))
        best = head["labels"][int(head["probabilities"][0].argmax())]
        labels = explanation.result.get("labels", {}).values()
        assert best in {explanation.result["label"], *[v["label"] for v in labels]}
    page = write_page(explanation, tmp_path / "photo.html").read_text(encoding="utf-8")
    assert "Landmark trajectories" in page and "Classifier head <b>shape</b>" in page


def test_the_command_writes_the_page_and_prints_the_result(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "seqrec.pipelines.cli", "explain", str(CLIP), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    row = json.loads(run.stdout)
    assert row["text"] == "stop" and Path(row["page"]) == tmp_path / f"{CLIP.stem}.html"
    assert Path(row["page"]).stat().st_size > 50_000
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqrec.pipelines.cli",
            "explain",
            str(tmp_path / "none.wav"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and missing.stderr.strip().endswith("none.wav: no such file")
