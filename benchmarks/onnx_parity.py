"""ONNX against torch on every shipped model's test inputs: log-probabilities, and what users read.

    python benchmarks/onnx_parity.py [MODEL ...] [--limit N] [--quantize] [--shared ../shared]
        [--no-prepare]

The inputs are the ones scripts/check_outputs.py runs every shipped model over (its own functions
find them: the build scripts' preparation of ``../shared/data``; ``--no-prepare`` skips that
when the manifests are already written). ``--limit N`` takes N inputs per model, spread evenly
over its manifests and over each manifest's rows.

For each model, in one process, both runtimes on the same inputs:

- ``max_difference``: the largest |ONNX - torch| of each head's log-probabilities over every
  input (a CTC head's valid frames only), the network run at batch 1 and at batch 32 (speech
  sorted by length as ``CTCRecognize`` batches; hands in order); ``batch_vs_alone`` is each
  runtime's batch-32 output against its own batch-1 output (padding's effect). Output lengths must
  be equal; ``lengths_equal`` says whether they were.
- ``records``: the records users get: speech through ``Transcriber`` (texts, word times, scores),
  hands through ``GestureModel`` (labels and scores per classifier head; a CTC head's text and
  symbols with times), compared as scripts/check_outputs.py compares: texts, labels and times
  exactly, scores within 1e-5. Differences are counted and the first few listed.

With ``--quantize`` each model is also exported with int8 dynamic quantisation to a temporary
folder, and scored beside the shipped float graph (both ONNX): WER of each speech test manifest
(``evaluate``), accuracy / CER of the hands test sets (``evaluate_hands`` on the same sequences),
with the files' sizes. Prints one JSON object; nothing in it is written by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from seqrec.models import bundled_model_names, resolve_bundle
from seqrec.pipelines.core.manifest import read_manifest, write_manifest

ROOT = Path(__file__).resolve().parent.parent
SPEECH_MODELS = ("digits-commands", "commands")
HAND_MODELS = ("sign-digits", "hand-gestures", "sign-digits-ctc")
BATCH = 32
LANDMARK_CACHE = ROOT / "runs" / "onnx-parity" / "landmarks"
SHOWN_DIFFERENCES = 10


def check_outputs_module():
    """scripts/check_outputs.py, whose functions find (and prepare) every shipped model's inputs."""
    spec = importlib.util.spec_from_file_location("check_outputs", ROOT / "scripts" / "check_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_inputs(check, shared: Path, models: list[str], prepare: bool) -> dict[str, list[Path]]:
    """Each model's test manifests, as check_outputs finds them."""
    if not prepare:
        check.prepare = lambda script, shared: None  # the manifests are there already
    inputs: dict[str, list[Path]] = {}
    # The preparation (in subprocesses) reports on stdout: to stderr with it, stdout is the JSON.
    sys.stdout.flush()
    stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        if any(m in SPEECH_MODELS for m in models):
            speech = check.speech_inputs(shared)
            inputs |= {m: speech for m in SPEECH_MODELS}
        if any(m in HAND_MODELS for m in models):
            inputs |= check.hand_inputs(shared)
    finally:
        sys.stdout.flush()
        os.dup2(stdout, 1)
        os.close(stdout)
    missing = [str(p) for m in models for p in inputs[m] if not p.is_file()]
    if missing:
        raise SystemExit(f"missing manifests (run without --no-prepare): {', '.join(missing)}")
    return {m: inputs[m] for m in models}


def spread(n: int, limit: int | None) -> list[int]:
    """Indices of ``limit`` items spread evenly over ``n`` (all of them without a limit)."""
    if limit is None or limit >= n:
        return list(range(n))
    return sorted({int(i) for i in np.linspace(0, n - 1, max(limit, 1)).round()})


def limited_manifests(manifests: list[Path], limit: int | None, folder: Path) -> list[Path]:
    """The manifests, or with ``limit``: each cut to its share of ``limit`` rows, evenly spread
    (written under ``folder`` with absolute paths, keeping the name, which tells a landmark dataset)."""
    if limit is None:
        return manifests
    share = math.ceil(limit / len(manifests))
    out = []
    for index, manifest in enumerate(manifests):
        rows = list(read_manifest(manifest))
        target = folder / f"{index}-{manifest.parent.name}" / manifest.name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_manifest(target, [rows[i] for i in spread(len(rows), share)])
        out.append(target)
    return out


# -- comparing outputs ---------------------------------------------------------------------------


class Differences:
    """The largest |a - b| per head, over many calls; output lengths checked equal."""

    def __init__(self):
        self.max: dict[str, float] = {}
        self.lengths_equal = True

    def add(self, a: tuple[dict, np.ndarray], b: tuple[dict, np.ndarray]) -> None:
        (values_a, lengths_a), (values_b, lengths_b) = a, b
        if not np.array_equal(lengths_a, lengths_b):
            self.lengths_equal = False
            return
        for head, va in values_a.items():
            vb = values_b[head]
            for row in range(len(va)):
                valid = slice(None) if va.ndim == 2 else slice(0, int(lengths_a[row]))
                d = float(np.abs(va[row][valid] - vb[row][valid]).max())
                self.max[head] = max(self.max.get(head, 0.0), d)

    def report(self) -> dict:
        return {head: float(f"{d:.3g}") for head, d in self.max.items()} | (
            {} if self.lengths_equal else {"lengths_equal": False}
        )


def rows_of(output: tuple[dict, np.ndarray], rows: list[int]) -> tuple[dict, np.ndarray]:
    values, lengths = output
    return {head: v[rows] for head, v in values.items()}, lengths[rows]


def network_differences(networks: dict, arrays: list[np.ndarray], order: list[int]) -> dict:
    """ONNX against torch at batch 1 and at batch ``BATCH`` (chunks of ``order``), and each runtime's
    batch against its own batch 1. Log-probabilities compared on the valid frames of each item."""
    alone = {name: [network([a]) for a in arrays] for name, network in networks.items()}
    batched = {name: {} for name in networks}  # item -> its row of the batch output
    for start in range(0, len(order), BATCH):
        chunk = order[start : start + BATCH]
        for name, network in networks.items():
            output = network([arrays[i] for i in chunk])
            for row, i in enumerate(chunk):
                batched[name][i] = rows_of(output, [row])
    one, many = Differences(), Differences()
    padding = {name: Differences() for name in networks}
    for i in range(len(arrays)):
        one.add(alone["onnx"][i], alone["torch"][i])
        many.add(batched["onnx"][i], batched["torch"][i])
        for name in networks:
            padding[name].add(batched[name][i], alone[name][i])
    return {
        "max_difference": {"batch_1": one.report(), f"batch_{BATCH}": many.report()},
        "batch_vs_alone": {name: d.report() for name, d in padding.items()},
    }


def record_differences(check, expected: list, actual: list) -> dict:
    """check_outputs' comparison (texts, labels, times exact; scores within its tolerance), with
    the largest score difference beside it."""
    found = check.differences(expected, actual, "")
    return {
        "compared": len(expected),
        "differences": len(found),
        "first_differences": found[:SHOWN_DIFFERENCES],
        "max_score_difference": float(f"{max_score_difference(expected, actual):.3g}"),
    }


def max_score_difference(a, b) -> float:
    if isinstance(a, dict) and isinstance(b, dict):
        return max((max_score_difference(a[k], b[k]) for k in a if k in b), default=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return max((max_score_difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b)
    return 0.0


def text_summary(expected: list[dict], actual: list[dict], field: str = "text") -> dict:
    same = sum(e.get(field) == a.get(field) for e, a in zip(expected, actual, strict=True))
    return {f"{field}_identical": same == len(expected), f"{field}_differ": len(expected) - same}


# -- speech --------------------------------------------------------------------------------------


def speech_parity(check, model: str, manifests: list[Path]) -> dict:
    from seqrec.pipelines.speech.transcriber import Transcriber

    paths = [row["audio_filepath"] for m in manifests for row in read_manifest(m)]
    transcribers = {r: Transcriber(model, "cpu", runtime=r) for r in ("onnx", "torch")}
    features_pipeline = transcribers["torch"].pipeline[:"features"]
    samples = []
    for start in range(0, len(paths), BATCH):
        samples += features_pipeline.run_batch([{"path": p} for p in paths[start : start + BATCH]])
    arrays = [s["features"] for s in samples if "features" in s]
    order = sorted(range(len(arrays)), key=lambda i: len(arrays[i]))
    networks = {r: t.bundle.network for r, t in transcribers.items()}
    result = {"inputs": len(paths), "feature_arrays": len(arrays)}
    result |= network_differences(networks, arrays, order)
    records = {r: list(t.transcribe_paths(paths)) for r, t in transcribers.items()}
    result["records"] = record_differences(check, records["torch"], records["onnx"]) | text_summary(
        records["torch"], records["onnx"]
    )
    result["records"]["word_times_identical"] = all(
        [(w["start"], w["end"]) for w in a.get("words", [])]
        == [(w["start"], w["end"]) for w in b.get("words", [])]
        for a, b in zip(records["torch"], records["onnx"], strict=True)
    )
    return result


def speech_quantized(model: str, quantized: Path, manifests: list[Path], names: list[str]) -> dict:
    from seqrec.pipelines.batch.evaluate import evaluate

    sets = {}
    for manifest, name in zip(manifests, names, strict=True):
        float_metrics = evaluate(model, manifest, None, "cpu", runtime="onnx")
        int8_metrics = evaluate(quantized, manifest, None, "cpu", runtime="onnx")
        sets[name] = {
            "items": float_metrics["scored"],
            "wer_float": _rounded(float_metrics["wer"]),
            "wer_int8": _rounded(int8_metrics["wer"]),
            "wer_change": _change(float_metrics["wer"], int8_metrics["wer"]),
            "seconds_float": float_metrics["seconds"],
            "seconds_int8": int8_metrics["seconds"],
        }
    return sets


# -- hands ---------------------------------------------------------------------------------------


def hand_sequences(manifests: list[Path]) -> list:
    from seqrec.pipelines.hands.data import load_hand_sequences

    return load_hand_sequences(manifests, LANDMARK_CACHE, log=lambda *_: None)


def hand_records(model, sequences: list) -> list[dict]:
    """What users read of each sequence: labels and scores per classifier head, a CTC reading."""
    records = [{"labels": {h: list(v) for h, v in labels.items()}} for labels in model.classify(sequences)]
    if model.ctc_head is not None:
        for record, sequence in zip(records, sequences, strict=True):
            record |= model.read_symbols(sequence)
    return records


def hands_parity(check, model: str, manifests: list[Path]) -> dict:
    from seqrec.pipelines.hands.model import GestureModel

    sequences = hand_sequences(manifests)
    models = {r: GestureModel(model, "cpu", runtime=r) for r in ("onnx", "torch")}
    found = [s for s in sequences if s.found]
    arrays = [models["torch"].features_of(s) for s in found]
    networks = {r: m.bundle.network for r, m in models.items()}
    result = {"inputs": len(sequences), "with_hands": len(found)}
    result |= network_differences(networks, arrays, list(range(len(arrays))))
    records = {r: hand_records(m, sequences) for r, m in models.items()}
    names = {
        r: [{"labels": {h: v[0] for h, v in x["labels"].items()}} for x in rs] for r, rs in records.items()
    }
    result["records"] = record_differences(check, records["torch"], records["onnx"]) | text_summary(
        names["torch"], names["onnx"], "labels"
    )
    if models["torch"].ctc_head is not None:
        result["records"] |= text_summary(records["torch"], records["onnx"])
        result["records"]["symbol_times_identical"] = all(
            [(s["start"], s["end"]) for s in a["symbols"]] == [(s["start"], s["end"]) for s in b["symbols"]]
            for a, b in zip(records["torch"], records["onnx"], strict=True)
        )
    return result


def hands_quantized(model: str, quantized: Path, manifests: list[Path], names: list[str]) -> dict:
    from seqrec.pipelines.hands.model import GestureModel
    from seqrec.pipelines.hands.scoring import evaluate_hands

    sequences = hand_sequences(manifests)
    scores = {}
    for variant, source in (("float", model), ("int8", quantized)):
        metrics = evaluate_hands(GestureModel(source, "cpu", runtime="onnx"), sequences)
        scores[variant] = {
            k: v for k, v in metrics.items() if k.endswith("_accuracy") or k in ("cer", "sequences")
        }
    changes = {
        f"{k}_change": _change(scores["float"][k], scores["int8"][k])
        for k in scores["float"]
        if k != "sequences"
    }
    return {
        "sequences": scores["float"]["sequences"],
        **{f"{k}_{variant}": v for variant, s in scores.items() for k, v in s.items() if k != "sequences"},
        **changes,
    }


def _rounded(value):
    return None if value is None else round(value, 4)


def _change(before, after):
    return None if before is None or after is None else round(after - before, 4)


# -- main ----------------------------------------------------------------------------------------


def quantized_report(model: str, manifests: list[Path], names: list[str], folder: Path) -> dict:
    from seqrec.models.onnx_export import export_bundle

    source = resolve_bundle(model)
    started = time.perf_counter()
    report = export_bundle(source, folder / f"{model}-int8", quantize=True)
    exported = time.perf_counter() - started
    scores = (speech_quantized if model in SPEECH_MODELS else hands_quantized)(
        model, report.path, manifests, names
    )
    return {
        "bytes": {
            "safetensors": (source / "model.safetensors").stat().st_size,
            "onnx_float": (source / "model.onnx").stat().st_size,
            "onnx_int8": report.size_bytes,
        },
        "int8_vs_torch_random_inputs": float(f"{report.max_difference:.3g}"),
        "export_seconds": round(exported, 2),
        "scores": scores,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", metavar="MODEL", help="default: every shipped model")
    parser.add_argument("--limit", type=int, help="inputs per model (default: all)")
    parser.add_argument("--quantize", action="store_true", help="also score an int8 export of each model")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument(
        "--no-prepare", action="store_true", help="use the manifests already written under data/"
    )
    args = parser.parse_args()
    shipped = [m for m in (*SPEECH_MODELS, *HAND_MODELS) if m in bundled_model_names()]
    models = args.models or shipped
    unknown = sorted(set(models) - set(shipped))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(shipped)}")

    check = check_outputs_module()
    inputs = model_inputs(check, args.shared, models, not args.no_prepare)
    import onnxruntime
    import torch

    results = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for model in models:
            started = time.perf_counter()
            manifests = limited_manifests(inputs[model], args.limit, folder / "manifests" / model)
            parity = speech_parity if model in SPEECH_MODELS else hands_parity
            names = [str(m.relative_to(ROOT)) for m in inputs[model]]
            results[model] = {
                "manifests": names,
                **parity(check, model, manifests),
            }
            if args.quantize:
                results[model]["quantized"] = quantized_report(model, manifests, names, folder / "exports")
            results[model]["seconds"] = round(time.perf_counter() - started, 1)
    worst = max(
        (
            d
            for r in results.values()
            for side in r["max_difference"].values()
            for d in side.values()
            if isinstance(d, float)
        ),
        default=0.0,
    )
    print(
        json.dumps(
            {
                "limit": args.limit,
                "onnxruntime": onnxruntime.__version__,
                "torch": torch.__version__,
                "largest_difference": worst,
                "all_records_identical": all(r["records"]["differences"] == 0 for r in results.values()),
                "models": results,
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
