"""Enrolment: how far a few frames of one person's letters take a letters model on that person.

    python benchmarks/letters_enrolment.py [--base sign-letters] [--frames 30 150]

Both fine-tunes are the documented one (``configs/sign-letters-personal.yaml``, from a bundle's
weights, every recorded frame a pose of its letter), each into its own folder under
``runs/enrolment/``:

1. SILFA: ``--base`` (trained on the first signer only) fine-tuned on SILFA's 24 landmark frames
   (the signing hand, as ``letters_across_signers`` reads them), then tested on SILFA's 26 photos
   through MediaPipe (a photo with no hand found is an error), before and after. With nothing
   else of SILFA's, its 24 frames are dev as well.
2. The first signer: a model trained without the first signer (sign-letters' recipe on SILFA's 24
   frames and the digit students' four letter shapes; dev: the 24 frames), fine-tuned on the first
   ``N`` frames of each of the first signer's 26 takes (``--frames``; the data does not state its
   frame rate: at a webcam's 30 fps, 30 frames are 1 s), with the 30 frames after those as dev,
   tested on the later half of every take, before and after.

``--set KEY=VALUE`` changes the personal recipe for a comparison (chosen on the dev frames, never
on the later halves or SILFA's photos).

Accuracies come with counts and 95% Wilson intervals. Writes ``benchmarks/outputs/letters_enrolment.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from letters_across_signers import SILFA, SILFA_ASPECT, read_letters, signing_hand

from seqrec.pipelines.core.metrics import wilson_interval
from seqrec.pipelines.hands import NO_LABEL
from seqrec.pipelines.hands.corpora import ASL_LETTERS_ASPECT
from seqrec.pipelines.hands.data import load_landmarks, write_landmark_dataset
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.recognizer import GestureRecognizer
from seqrec.pipelines.hands.sequence import UNNAMED_HEAD, HandSequence, empty_hands
from seqrec.pipelines.recipes import load_recipe, train_recipe

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "enrolment"
DEV_FRAMES = 30
LETTERS = ROOT.parent / "shared" / "data" / "hands" / "asl_letters_one_signer" / "letters.npz"


def accuracy(truths: list[str], guesses: list[str]) -> dict:
    correct = sum(t == g for t, g in zip(truths, guesses, strict=True))
    return {
        "accuracy": round(correct / len(truths), 4),
        "correct": correct,
        "total": len(truths),
        "interval_95": wilson_interval(correct, len(truths)),
    }


def silfa_frames() -> list[HandSequence]:
    sequences = []
    for path in sorted((SILFA / "landmarks").glob("*.parquet")):
        read = load_landmarks(path)
        hand = signing_hand(HandSequence(read.landmarks, read.present, SILFA_ASPECT, path=str(path)))
        sequences.append(
            HandSequence(hand.landmarks, hand.present, SILFA_ASPECT, labels={UNNAMED_HEAD: path.name[0]})
        )
    return sequences


def silfa_photos(model_path: str | Path) -> dict:
    photos = sorted((SILFA / "images").glob("*.jpg"))
    model = GestureModel(model_path)
    guesses = []
    with GestureRecognizer(model_path) as recognizer:
        for photo in photos:
            sequence = recognizer.pipeline[:"sequence"]({"path": str(photo)})["sequence"]
            guesses.append(
                read_letters(model, [sequence], mirror=False)[0][0] if sequence.found else NO_LABEL
            )
    return accuracy([p.name[0] for p in photos], guesses)


def first_signer_takes() -> dict[str, list[HandSequence]]:
    """Each letter's take, frames in time order, as one-frame sequences (as ``asl_letter_sets``)."""
    with np.load(LETTERS, allow_pickle=False) as data:
        landmarks, labels, frames = data["landmarks"], data["label"], data["frame"]
    takes: dict[str, list[HandSequence]] = {}
    for i in np.lexsort((frames, labels)):
        hands, present = empty_hands(1)
        hands[0, 1], present[0, 1] = landmarks[i], True
        label = str(labels[i])
        takes.setdefault(label, []).append(
            HandSequence(hands, present, ASL_LETTERS_ASPECT, labels={UNNAMED_HEAD: label})
        )
    return takes


def score_on(model_path: Path | str, sequences: list[HandSequence]) -> dict:
    model = GestureModel(model_path)
    guesses = [label for label, _ in read_letters(model, sequences, mirror=False)]
    return accuracy([s.label for s in sequences], guesses)


def fine_tune(base: str | Path, train: Path, dev: Path, name: str, changes: dict) -> Path:
    recipe = load_recipe(
        ROOT / "configs" / "sign-letters-personal.yaml",
        {
            "data.train": [str(train)],
            "data.dev": [str(dev)],
            "train.init_from": str(base),
            "output_dir": str(RUNS / name),
            **changes,
        },
    )
    return train_recipe(recipe, log=lambda *_: None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="sign-letters", help="the model SILFA's frames fine-tune")
    parser.add_argument("--frames", type=int, nargs="+", default=[30, 150])
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change the personal recipe (e.g. train.lr=0.002), to compare on dev; outputs get a suffix",
    )
    args = parser.parse_args()
    changes = {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in args.set)}
    suffix = "".join(f"-{key.split('.')[-1]}{value}" for key, value in changes.items())
    result: dict = {"base": args.base, "recipe": "configs/sign-letters-personal.yaml", "changes": changes}

    silfa_set = write_landmark_dataset(RUNS / "data" / "silfa-frames", silfa_frames())
    tuned = fine_tune(args.base, silfa_set.parent, silfa_set.parent, f"silfa{suffix}", changes)
    result["silfa_photos"] = {"before": silfa_photos(args.base), "after": silfa_photos(tuned)}
    print(json.dumps(result["silfa_photos"]), flush=True)

    without_first = load_recipe(
        ROOT / "configs" / "sign-letters.yaml",
        {
            "data.train": [str(silfa_set.parent), str(ROOT / "data/sign-letters/digit-shapes-train.jsonl")],
            "data.dev": [str(silfa_set.parent)],
            "output_dir": str(RUNS / "without-first-signer"),
        },
    )
    base = train_recipe(without_first, log=lambda *_: None)
    takes = first_signer_takes()
    later = [frame for take in takes.values() for frame in take[len(take) // 2 :]]
    result["first_signer_later_halves"] = {"before": score_on(base, later)}
    for n in args.frames:
        first = [frame for take in takes.values() for frame in take[:n]]
        # dev: the DEV_FRAMES frames after them (the recipe's second, shorter recording)
        after = [frame for take in takes.values() for frame in take[n : n + DEV_FRAMES]]
        folder = write_landmark_dataset(RUNS / "data" / f"first-signer-{n}", first).parent
        dev = write_landmark_dataset(RUNS / "data" / f"first-signer-{n}-dev", after).parent
        tuned = fine_tune(base, folder, dev, f"first-signer-{n}{suffix}", changes)
        result["first_signer_later_halves"][f"after_{n}_frames_a_letter"] = score_on(tuned, later) | {
            "dev": score_on(tuned, after)
        }
        print(json.dumps(result["first_signer_later_halves"]), flush=True)

    out = ROOT / "benchmarks" / "outputs" / f"letters_enrolment{suffix}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
