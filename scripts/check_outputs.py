"""Record every shipped model's outputs on its test inputs, or compare them with a record.

    python scripts/check_outputs.py record [--shared ../shared]    # writes benchmarks/outputs/*.jsonl
    python scripts/check_outputs.py compare [--shared ../shared]   # exits 1 on any difference

A refactoring that claims to change no behaviour is checked with it: the record is made before
the first move and committed; after the last, ``compare`` reruns the same inputs and requires
identical texts, labels and word times, and scores within 1e-5 (on the same torch version).

The inputs are rebuilt from ``../shared/data`` by the build scripts' own preparation (the
Speech Commands and FSDD test speakers, the connected test sequences, the digit photos of the
test students, kinivi's test blocks, and composed digit strings for ``sign-digits-ctc``), and
run through ``seqrec batch``, the command users run on datasets, so the check does not depend on
where the library keeps its modules.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD_DIR = ROOT / "benchmarks" / "outputs"
WORK_DIR = ROOT / "runs" / "check-outputs"
SCORE_TOLERANCE = 1e-5
COMPOSED_SEQUENCES = 200
COMPOSED_SEED = 2026
# Fields that tell how fast or where a run was made rather than what the model said: not kept
# (``path`` is absolute; ``id`` names the input relative to its manifest).
RUN_FIELDS = {"seconds", "latency", "path"}
# Times are compared exactly; every other number (scores, probabilities) within the tolerance.
TIME_FIELDS = {"start", "end", "duration"}


def prepare(script: str, shared: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--prepare-only", "--shared", str(shared)],
        check=True,
    )


def speech_inputs(shared: Path) -> list[Path]:
    """The test manifests of both speech models (written by their build scripts' preparation)."""
    prepare("build_commands.py", shared)
    names = ("test_speech_commands", "test_speech_commands_oov", "test_fsdd", "test_connected")
    return [ROOT / "data" / "digits-commands" / f"{name}.jsonl" for name in names] + [
        ROOT / "data" / "commands" / "test_connected.jsonl"
    ]


def hand_inputs(shared: Path) -> dict[str, list[Path]]:
    """Each hand model's test inputs: photos, kinivi's test blocks, composed digit strings."""
    prepare("build_hand_models.py", shared)
    photos = ROOT / "data" / "sign-digits" / "test.jsonl"
    kinivi = ROOT / "data" / "hand-gestures" / "test" / "manifest.jsonl"
    composed = WORK_DIR / "composed" / "manifest.jsonl"
    if not composed.is_file():
        subprocess.run(
            [sys.executable, "-c", COMPOSE, str(photos), str(composed.parent)], check=True, cwd=ROOT
        )
    return {"sign-digits": [photos], "hand-gestures": [kinivi], "sign-digits-ctc": [photos, composed]}


def hand_rows(model: str, manifest: Path) -> list[dict]:
    """Photos go through ``seqrec batch gestures``; landmark datasets through the recognizer."""
    if manifest.name == "manifest.jsonl":
        return read_landmarks(model, manifest)
    return run_batch("gestures", model, manifest)


# Composing and reading landmark datasets need the library (``seqrec batch`` reads photos and
# videos, not a folder of landmark arrays); each runs in its own process, as the record's other
# inputs do, and finds the modules where they are now or where they were when the record was made.
LIBRARY = """
import json, sys
from pathlib import Path
try:
    from seqrec.pipelines.hands.data import load_hand_sequences, write_landmark_dataset
    from seqrec.pipelines.hands.composition import compose_set
    from seqrec.pipelines.hands.model import GestureModel as Recognizer
    from seqrec.pipelines.recipes import load_recipe
except ImportError:
    from seqrec.pipelines.landmark_data import load_hand_sequences, write_landmark_dataset
    from seqrec.pipelines.sign_sequences import compose_set
    from seqrec.pipelines.gestures import GestureModel as Recognizer
    from seqrec.pipelines.recipe import load_recipe
"""
COMPOSE = (
    LIBRARY
    + f"""
photos, out = Path(sys.argv[1]), Path(sys.argv[2])
recipe = load_recipe("configs/sign-digits-ctc.yaml")
poses = [s for s in load_hand_sequences([photos], out.parent / "landmarks", log=print) if s.found]
write_landmark_dataset(out, compose_set(poses, recipe.data.compose, {COMPOSED_SEQUENCES}, {COMPOSED_SEED}))
"""
)
READ_LANDMARKS = (
    LIBRARY
    + """
model, manifest = Recognizer(sys.argv[1]), Path(sys.argv[2])
sequences = load_hand_sequences([manifest], manifest.parent / "cache", log=lambda *_: None)
for index, (sequence, labels) in enumerate(zip(sequences, model.classify(sequences))):
    row = {"id": f"{index:06d}", "labels": {head: list(value) for head, value in labels.items()}}
    if model.ctc_head is not None:
        row |= model.read_symbols(sequence)
    print(json.dumps(row))
"""
)


def read_landmarks(model: str, manifest: Path) -> list[dict]:
    """A hand model's labels (and CTC reading) of every sequence in a landmark dataset."""
    command = [sys.executable, "-c", READ_LANDMARKS, model, str(manifest)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run_batch(task: str, model: str, manifest: Path) -> list[dict]:
    """``seqrec batch`` over one manifest: its rows by id, without the run's own timings."""
    out = WORK_DIR / "rows" / f"{model}-{manifest.parent.name}-{manifest.stem}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    seqrec = Path(sys.executable).parent / "seqrec"
    command = [
        str(seqrec),
        "batch",
        task,
        "--input",
        str(manifest),
        "--output",
        str(out),
        "--model",
        model,
        "--workers",
        "2",
    ]
    done = subprocess.run(command, check=False, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return sorted(
        ({k: v for k, v in row.items() if k not in RUN_FIELDS} for row in rows), key=lambda r: r["id"]
    )


def record_rows(shared: Path) -> dict[str, list[dict]]:
    outputs = {}
    speech = speech_inputs(shared)
    for model in ("digits-commands", "commands"):
        outputs[model] = [
            row | {"input": f"{m.parent.name}/{m.stem}"}
            for m in speech
            for row in run_batch("transcribe", model, m)
        ]
    for model, manifests in hand_inputs(shared).items():
        outputs[model] = [
            row | {"input": f"{m.parent.name}/{m.stem}"} for m in manifests for row in hand_rows(model, m)
        ]
    return outputs


def differences(expected, actual, where: str = "") -> list[str]:
    """Where two records differ: times, texts and labels exactly, other numbers within the
    tolerance."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{where}: fields {sorted(expected)} != {sorted(actual)}"]
        return [d for key in expected for d in differences(expected[key], actual[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items != {len(actual)}"]
        pairs = zip(expected, actual, strict=True)
        return [d for i, (e, a) in enumerate(pairs) for d in differences(e, a, f"{where}[{i}]")]
    is_time = where.rsplit(".", 1)[-1] in TIME_FIELDS
    if isinstance(expected, float) and isinstance(actual, float) and not is_time:
        close = math.isclose(expected, actual, rel_tol=0, abs_tol=SCORE_TOLERANCE)
        return [] if close else [f"{where}: {expected} != {actual}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=("record", "compare"))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    outputs = record_rows(args.shared)
    if args.action == "record":
        RECORD_DIR.mkdir(parents=True, exist_ok=True)
        for model, rows in outputs.items():
            text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
            (RECORD_DIR / f"{model}.jsonl").write_text(text)
            print(f"{model}: {len(rows)} rows recorded")
        return 0
    failed = 0
    for model, rows in outputs.items():
        expected = [json.loads(line) for line in (RECORD_DIR / f"{model}.jsonl").read_text().splitlines()]
        found = differences(expected, rows, model)
        failed += bool(found)
        print(f"{model}: {len(rows)} rows, {len(found)} differences", *found[:20], sep="\n  ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
