"""Rebuild the bundled hand models: prepare data, train, evaluate on the held-out split, package.

    python scripts/build_hand_models.py [sign-digits] [hand-gestures] [sign-digits-ctc]
                                        [sign-letters] [sign-letters-ctc]
                                        [--shared ../shared] [--prepare-only] [--skip-train]

- sign-digits: the ASL digit photos (by student: configs/splits/sign_digits_students.json).
- hand-gestures: kinivi's poses (shape head) and fingertip tracks (motion head), by contiguous
  blocks of the recordings.
- sign-digits-ctc: digit strings composed from the digit photos' landmarks (train students for
  training, test students for the test sequences).
- sign-letters: one signer's A-Z webcam frames, by contiguous blocks of each letter's take, with
  the digit students' photos of the four letters that share a digit's handshape (train students;
  dev students for choosing). Its test figure is the same signer's held-out blocks; other
  signers are measured by benchmarks/letters_across_signers.py.
- sign-letters-ctc: letter strings composed from the same frames (test blocks for the test
  sequences); spelled words by benchmarks/spelled_words.py.

Each step resumes: splits are kept in configs/splits/, landmarks are cached under runs/, training
resumes from its checkpoint. Test figures go into the packaged bundle's config.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqrec.models import copy_bundle, read_bundle_config
from seqrec.models.onnx_export import export_bundle
from seqrec.pipelines.core.manifest import read_manifest, write_manifest
from seqrec.pipelines.hands.composition import compose_set
from seqrec.pipelines.hands.corpora import (
    asl_letter_sets,
    digit_photo_rows,
    digit_shape_letter_rows,
    kinivi_sets,
)
from seqrec.pipelines.hands.data import load_hand_sequences, write_landmark_dataset
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.scoring import evaluate_hands
from seqrec.pipelines.hands.training import train_hands
from seqrec.pipelines.recipes import load_recipe

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("sign-digits", "hand-gestures", "sign-digits-ctc", "sign-letters", "sign-letters-ctc")
TEST_SEQUENCES = 500
TEST_SEED = 2026


def prepare(name: str, shared: Path) -> dict[str, Path]:
    hands = shared / "data" / "hands"
    if name in ("sign-digits", "sign-digits-ctc"):
        rows = digit_photo_rows(
            hands / "sign_language_digits" / "Dataset",
            ROOT / "configs" / "splits" / "sign_digits_students.json",
        )
        out = ROOT / "data" / "sign-digits"
        for split, split_rows in rows.items():
            write_manifest(out / f"{split}.jsonl", split_rows)
        return {split: out / f"{split}.jsonl" for split in rows}
    if name in ("sign-letters", "sign-letters-ctc"):
        out = ROOT / "data" / "sign-letters"
        sets = asl_letter_sets(hands / "asl_letters_one_signer" / "letters.npz")
        written = {split: write_landmark_dataset(out / split, sequences) for split, sequences in sets.items()}
        # Other hands for the letters that share a digit's shape; the digits' test students stay out.
        digits = prepare("sign-digits", shared)
        for split in ("train", "dev"):
            rows = digit_shape_letter_rows(read_manifest(digits[split]))
            written[f"digit-shapes-{split}"] = out / f"digit-shapes-{split}.jsonl"
            write_manifest(written[f"digit-shapes-{split}"], rows)
        return written
    sets = kinivi_sets(hands / "kinivi")
    out = ROOT / "data" / name
    return {split: write_landmark_dataset(out / split, sequences) for split, sequences in sets.items()}


def evaluate_test(name: str, best: Path, manifests: dict[str, Path], run_dir: Path) -> dict:
    model = GestureModel(best)
    test = load_hand_sequences([manifests["test"]], run_dir / "landmarks", log=print)
    if name in ("sign-digits-ctc", "sign-letters-ctc"):
        recipe = load_recipe(ROOT / "configs" / f"{name}.yaml")
        test = compose_set([s for s in test if s.found], recipe.data.compose, TEST_SEQUENCES, TEST_SEED)
        return {
            "test_composed": evaluate_hands(model, test)
            | {"composed_from": str(manifests["test"].relative_to(ROOT)), "seed": TEST_SEED}
        }
    metrics = evaluate_hands(model, test) | {"manifest": str(manifests["test"].relative_to(ROOT))}
    if name == "sign-digits":
        metrics["hands_found"] = round(sum(s.found for s in test) / len(test), 4)
    return {"test": metrics}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "models", nargs="*", metavar="MODEL", help=f"any of {', '.join(MODELS)} (default: all)"
    )
    parser.add_argument(
        "--shared", type=Path, default=ROOT.parent / "shared", help="the shared/ folder holding data/"
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="write the manifests and datasets, then stop"
    )
    parser.add_argument(
        "--skip-train", action="store_true", help="evaluate and package the existing best bundles"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")

    for name in args.models or MODELS:
        manifests = prepare(name, args.shared)
        print(name, {split: str(path.relative_to(ROOT)) for split, path in manifests.items()})
        if args.prepare_only:
            continue
        recipe = load_recipe(ROOT / "configs" / f"{name}.yaml")
        best = recipe.run_dir / "best" if args.skip_train else train_hands(recipe)
        metrics = evaluate_test(name, best, manifests, recipe.run_dir)
        print(
            name,
            json.dumps(
                {k: {m: v for m, v in values.items() if m != "confusion"} for k, values in metrics.items()}
            ),
        )
        config = read_bundle_config(best)
        config["description"] = recipe.description  # as the recipe says it now
        config["metrics"].update(metrics)
        target = copy_bundle(best, ROOT / "models" / "pretrained" / name, config)
        export_bundle(target, target)  # the ONNX graph the light runtime runs ships with the weights
        (target / "README.md").write_text(model_card(config))
    return 0


LIMITS = {
    "sign-digits": "One hand's shape only; trained on 100x100 close-up photos of students' right hands "
    "against plain backgrounds, held as still poses. Signs that need motion are out of its reach.",
    "hand-gestures": "One person's recordings (kinivi). Motions are whole-hand paths of about half a second "
    "(16 frames); Clockwise and Counter Clockwise are as the person sees them in a mirror view, and swap "
    "for a left hand (features mirror left hands so one model serves both); kinivi's "
    "fingertip tracks were given whole hands by seqrec (see hand_corpora.kinivi_sets).",
    "sign-digits-ctc": "Trained only on sequences composed from still digit photos (hold, transition, dip "
    "between repeats, drift); no real signed video of digit strings was available to train or test on.",
    "sign-letters": "One hand's shape only, from ONE signer's webcam frames (and other students' hands for "
    "V, W, F and O): its test figure is that signer's held-out moments. On a second signer it is far less "
    "sure: see benchmarks/outputs/letters_across_signers.json (SILFA's photos) for the measured figure, "
    "and adapt it to your own hand with configs/sign-letters-personal.yaml. J and Z are held poses "
    "(their motion is not in the data); letters that differ by orientation (H/U, K/P, G/Q) are the "
    "hardest for new hands.",
    "sign-letters-ctc": "Trained only on letter strings composed from ONE signer's still frames (hold, "
    "transition, dip between doubled letters, drift), one word a sequence; no real video of "
    "fingerspelling was available. A word list (--words) reads only its words.",
}


def trained_on(config: dict) -> str:
    compose = config["training"]["recipe"]["data"]["compose"]
    if compose:
        return (
            f"{config['training']['sequences']} training poses, "
            f"composed into {compose['train_sequences']} new sequences every epoch"
        )
    return f"{config['training']['sequences']} training sequences"


def model_card(config: dict) -> str:
    """The bundle's README: what it does, what went in, how it scored, where it falls short."""
    recipe = config["training"]["recipe"]
    heads = "\n".join(
        f"- `{name}` ({spec['kind']}): "
        + ", ".join('" " (between words)' if l == " " else l for l in spec["labels"] if l != "<blank>")
        for name, spec in config["heads"].items()
    )
    figures = "\n".join(
        f"- {split}: "
        + ", ".join(f"{k} {v}" for k, v in values.items() if isinstance(v, (int, float)) and k != "error")
        for split, values in config["metrics"].items()
    )
    return f"""# {config["name"]}

{config["description"]}

## Heads
{heads}

## Training
Recipe `configs/{config["name"]}.yaml`, rebuilt with `python scripts/build_hand_models.py {config["name"]}`;
{trained_on(config)}, best dev epoch {config["training"]["epoch"]}.
Data: `{", ".join(recipe["data"]["train"])}` (train) and `{", ".join(recipe["data"]["dev"])}` (dev); sources
and licences in the repository's NOTICE.

## Figures (from the build script; test = held-out people or recording blocks)
{figures}

## Limits
{LIMITS.get(config["name"], "")}

Licence of the weights: Apache-2.0; the training data's sources and licences are in NOTICE.
"""


if __name__ == "__main__":
    sys.exit(main())
