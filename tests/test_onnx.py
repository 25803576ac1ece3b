"""The ONNX export and runtime: the same numbers as torch, for every cell, head and shipped bundle."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqrec.models import (
    BundleError,
    EncoderDims,
    HeadDims,
    ModelDims,
    SequenceModel,
    bundled_model_names,
    load_model,
    save_bundle,
)
from seqrec.models.onnx_export import PARITY_TOLERANCE, export_bundle
from seqrec.models.onnx_network import ONNX_FILE
from seqrec.pipelines.speech.transcriber import Transcriber

CLIP = "tests/data/3_jackson_0.wav"
HANDS_CONFIG = {
    "name": "tiny-hands",
    "modality": "hands",
    "features": {},
    "heads": {"gesture": {"kind": "classifier", "labels": ["a", "b", "c"]}},
    "tokenizer": {"symbols": ["<blank>", "x", "y"]},
}


def _tiny_bundle(path, cell: str, seed: int = 0):
    """A random hands model with a classifier and a CTC head: every output kind in one graph."""
    torch.manual_seed(seed)
    dims = ModelDims(
        EncoderDims(n_input=6, n_hidden=8, n_layers=2, stack=3, cell=cell),
        {"gesture": HeadDims("classifier", 3), "ctc": HeadDims("ctc", 3)},
    )
    config = {
        **HANDS_CONFIG,
        "heads": {**HANDS_CONFIG["heads"], "ctc": {"kind": "ctc", "labels": ["_", "x", "y"]}},
    }
    return save_bundle(path, SequenceModel(dims).eval(), config)


def _batch(seed: int = 1, lengths=(1, 2, 5, 17, 40)):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, 6)).astype(np.float32) for n in lengths]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_cell_exports_with_torchs_numbers_and_lengths_kept_apart(tmp_path, cell):
    source = _tiny_bundle(tmp_path / "torch", cell)
    report = export_bundle(source, tmp_path / "onnx")
    assert report.max_difference <= PARITY_TOLERANCE
    onnx_model = load_model(tmp_path / "onnx", runtime="onnx")
    torch_model = load_model(tmp_path / "onnx", runtime="torch")
    assert (onnx_model.runtime, torch_model.runtime) == ("onnx", "torch")
    arrays = _batch()
    expected, expected_lengths = torch_model.network(arrays)
    got, lengths = onnx_model.network(arrays)
    np.testing.assert_array_equal(lengths, expected_lengths)
    np.testing.assert_array_equal(lengths, [1, 1, 2, 6, 14])  # stacking rounds up
    for row, array in enumerate(arrays):
        alone, _ = onnx_model.network([array])
        np.testing.assert_allclose(got["gesture"][row], expected["gesture"][row], atol=PARITY_TOLERANCE)
        steps = slice(0, lengths[row])
        np.testing.assert_allclose(got["ctc"][row][steps], expected["ctc"][row][steps], atol=PARITY_TOLERANCE)
        # The same item alone: padding in the batch changed nothing, the backward direction included.
        np.testing.assert_allclose(alone["gesture"][0], got["gesture"][row], atol=1e-5)
        np.testing.assert_allclose(alone["ctc"][0][steps], got["ctc"][row][steps], atol=1e-5)


def test_the_graph_has_dynamic_batch_and_length_and_passes_the_checker(tmp_path):
    import onnx

    export_bundle(_tiny_bundle(tmp_path / "torch", "lstm"), tmp_path / "onnx")
    graph = onnx.load(str(tmp_path / "onnx" / ONNX_FILE))
    onnx.checker.check_model(graph, full_check=True)
    features = graph.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in features] == ["batch", "frames", 6]
    assert json.loads((tmp_path / "onnx" / "config.json").read_text())["onnx"]["file"] == ONNX_FILE


@pytest.mark.parametrize("name", bundled_model_names())
def test_every_shipped_bundle_ships_a_graph_with_torchs_numbers(name):
    onnx_model, torch_model = load_model(name), load_model(name, runtime="torch")
    assert onnx_model.runtime == "onnx"  # the default wherever the bundle has a graph
    n_input = onnx_model.config["dims"]["encoder"]["n_input"]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, n_input)).astype(np.float32) for n in (3, 50, 120)]
    expected, _ = torch_model.network(arrays)
    got, lengths = onnx_model.network(arrays)
    for head, values in expected.items():
        for row, n in enumerate(lengths):
            valid = slice(None) if values.ndim == 2 else slice(0, n)
            np.testing.assert_allclose(got[head][row][valid], values[row][valid], atol=PARITY_TOLERANCE)


def test_transcripts_are_the_same_from_either_runtime():
    onnx_result = next(Transcriber(runtime="onnx").transcribe_paths([CLIP]))
    torch_result = next(Transcriber(runtime="torch").transcribe_paths([CLIP]))
    assert onnx_result["text"] == torch_result["text"] == "three"
    assert onnx_result["words"] == torch_result["words"]


def test_export_command_writes_a_bundle_that_transcribes_without_torch(tmp_path):
    out = tmp_path / "exported"
    done = subprocess.run(
        [sys.executable, "-m", "seqrec.pipelines.cli", "export", "digits-commands", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["max_difference"] <= PARITY_TOLERANCE and row["max_batch_difference"] <= 1e-5
    script = (
        "import sys\nfrom seqrec.pipelines import Transcriber\n"
        f"print(next(Transcriber({str(out)!r}, runtime='onnx').transcribe_paths([{CLIP!r}]))['text'])\n"
        "print('torch' in sys.modules)"
    )
    text, torch_loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split("\n")[:2]
    assert (text, torch_loaded) == ("three", "False")


def test_quantized_export_is_smaller_and_still_recognises(tmp_path):
    report = export_bundle("digits-commands", tmp_path / "int8", quantize=True)
    full = (bundled_path := load_model("digits-commands").path) / ONNX_FILE
    assert report.quantized and report.size_bytes < full.stat().st_size / 3, bundled_path
    result = next(Transcriber(tmp_path / "int8", runtime="onnx").transcribe_paths([CLIP]))
    assert result["text"] == "three"


def test_runtime_onnx_without_a_graph_says_how_to_make_one(tmp_path):
    source = _tiny_bundle(tmp_path / "torch", "lstm")
    with pytest.raises(BundleError, match=r"no model\.onnx in this folder .*seqrec export"):
        load_model(source, runtime="onnx")
    assert load_model(source).runtime == "torch"  # no graph: torch, without being asked


def test_a_corrupt_graph_is_one_line_naming_the_file(tmp_path):
    export_bundle(_tiny_bundle(tmp_path / "torch", "gru"), tmp_path / "onnx")
    (tmp_path / "onnx" / ONNX_FILE).write_bytes(b"not a protobuf at all")
    with pytest.raises(BundleError, match=r"model\.onnx: not a usable ONNX model") as caught:
        load_model(tmp_path / "onnx")
    assert "\n" not in str(caught.value)


def test_an_unknown_runtime_is_refused():
    with pytest.raises(BundleError, match="runtime 'tensorrt': must be one of onnx, torch"):
        load_model("digits-commands", runtime="tensorrt")
