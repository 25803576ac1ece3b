"""ASL letters across signers: a letters model on its own signer's held-out frames and on SILFA's.

    python benchmarks/letters_across_signers.py [--model sign-letters] [--mirror]

Leave-one-signer-out: the model (by default the shipped ``sign-letters``, trained on the first
signer alone, with the digit students' V, W, F and O) is scored on
- the first signer's test blocks (data/sign-letters/test, from ``build_hand_models.py
  sign-letters --prepare-only``): the same person, other moments;
- SILFA's 24 landmark frames (a second signer; MediaPipe Holistic's hands, no J or Z);
- SILFA's 26 photos, through MediaPipe's hand landmarker as ``seqrec gestures`` runs them; a photo
  with no hand found counts as an error;
- the digit photos' dev students signing the four letters that share a digit's handshape (V, W, F,
  O: ``LETTER_DIGIT_SHAPES``), through MediaPipe too: other people's hands, for choosing (the
  digits' test students are not read).
Where two hands are seen, only the higher one is read (``signing_hand``): SILFA's signer rests the
other hand at the bottom of the picture, and the letters model knows one hand. ``--mirror`` also
reads each hand's mirror image and keeps the surer reading:
test-time mirroring. Each accuracy comes with its counts and a 95% Wilson interval. Writes
``benchmarks/outputs/letters_across_signers.json`` and the SILFA confusion matrices
``docs/confusion-sign-letters-silfa-{frames,photos}.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from seqrec.pipelines.core.confusion_image import confusion_png
from seqrec.pipelines.core.metrics import wilson_interval
from seqrec.pipelines.hands import NO_LABEL
from seqrec.pipelines.hands.data import load_hand_sequences, load_landmarks
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.recognizer import GestureRecognizer
from seqrec.pipelines.hands.scoring import confusion_counts
from seqrec.pipelines.hands.sequence import HandSequence

ROOT = Path(__file__).resolve().parents[1]
SILFA = ROOT.parent / "shared" / "data" / "hands" / "silfa"
SILFA_ASPECT = 852 / 480  # the SILFA webcam's frames: Holistic's x and y are normalised by them


def mirrored(sequence: HandSequence) -> HandSequence:
    """The hand's mirror image in its own slot: x flipped, the side kept. (Swapping the slots too
    would give the same features: they already mirror a left hand onto a right one.)"""
    landmarks = sequence.landmarks.copy()
    landmarks[..., 0] = np.where(sequence.present[..., None], 1.0 - landmarks[..., 0], 0.0)
    return HandSequence(landmarks, sequence.present, sequence.aspect, path=sequence.path)


def signing_hand(sequence: HandSequence) -> HandSequence:
    """Only the hand that signs where two are seen: the one whose wrist is higher in the picture
    (SILFA's other hand rests at the bottom edge; the letters model learnt one hand)."""
    present = sequence.present.copy()
    both = present.all(axis=1)
    lower = np.argmax(sequence.landmarks[:, :, 0, 1], axis=1)  # y grows downwards
    present[both, lower[both]] = False
    landmarks = np.where(present[..., None, None], sequence.landmarks, 0.0).astype(np.float32)
    return HandSequence(landmarks, present, sequence.aspect, path=sequence.path)


def read_letters(model: GestureModel, sequences: list[HandSequence], mirror: bool) -> list[tuple[str, float]]:
    """The first classifier head's (label, score) per sequence, read from the signing hand; with
    ``mirror``, the surer of the hand and its mirror image."""
    sequences = [signing_hand(s) for s in sequences]
    head = model.classifier_heads[0].name
    readings = [result[head] for result in model.classify(sequences)]
    if mirror:
        flipped = [result[head] for result in model.classify([mirrored(s) for s in sequences])]
        readings = [max(a, b, key=lambda r: r[1]) for a, b in zip(readings, flipped, strict=True)]
    return readings


def score(truths: list[str], predictions: list[str], labels: list[str], png: Path | None) -> dict:
    correct = sum(t == p for t, p in zip(truths, predictions, strict=True))
    confusion = confusion_counts(zip(truths, predictions, strict=True))
    if png is not None:
        confusion_png(confusion, [label for label in labels if label in confusion], png, png.stem)
    return {
        "accuracy": round(correct / len(truths), 4),
        "correct": correct,
        "total": len(truths),
        "interval_95": wilson_interval(correct, len(truths)),
        "wrong": {t: p for t, p in zip(truths, predictions, strict=True) if t != p},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="sign-letters")
    parser.add_argument("--mirror", action="store_true", help="test-time mirroring")
    args = parser.parse_args()
    model = GestureModel(args.model)
    labels = list(model.classifier_heads[0].labels)
    suffix = "-mirror" if args.mirror else ""
    result: dict = {"model": args.model, "mirror": args.mirror}

    own = load_hand_sequences(
        [ROOT / "data" / "sign-letters" / "test"], ROOT / "runs" / "sign-letters" / "cache"
    )
    own_truths = [s.label for s in own]
    own_predictions = [label for label, _ in read_letters(model, own, args.mirror)]
    result["first_signer_test_blocks"] = score(own_truths, own_predictions, labels, None)
    del result["first_signer_test_blocks"]["wrong"]

    frames = sorted((SILFA / "landmarks").glob("*.parquet"))
    frame_sequences = [load_landmarks(path) for path in frames]
    frame_sequences = [
        HandSequence(s.landmarks, s.present, SILFA_ASPECT, path=s.path) for s in frame_sequences
    ]
    result["silfa_frames"] = score(
        [path.name[0] for path in frames],
        [label for label, _ in read_letters(model, frame_sequences, args.mirror)],
        labels,
        ROOT / "docs" / f"confusion-sign-letters-silfa-frames{suffix}.png",
    )

    photos = sorted((SILFA / "images").glob("*.jpg"))
    photo_predictions = []
    with GestureRecognizer(args.model) as recognizer:
        for photo in photos:
            sample = recognizer.pipeline[:"sequence"]({"path": str(photo)})
            sequence = sample["sequence"]
            if not sequence.found:
                photo_predictions.append(NO_LABEL)
                continue
            [(label, _)] = read_letters(model, [sequence], args.mirror)
            photo_predictions.append(label)
    result["silfa_photos"] = score(
        [path.name[0] for path in photos],
        photo_predictions,
        labels,
        ROOT / "docs" / f"confusion-sign-letters-silfa-photos{suffix}.png",
    )
    result["silfa_photos"]["hands_found"] = sum(p != NO_LABEL for p in photo_predictions)

    shapes = load_hand_sequences(
        [ROOT / "data" / "sign-letters" / "digit-shapes-dev.jsonl"], ROOT / "runs" / "sign-letters" / "cache"
    )
    shape_predictions = [label for label, _ in read_letters(model, shapes, args.mirror)]  # "none": no hand
    result["digit_students_dev_shapes"] = score([s.label for s in shapes], shape_predictions, labels, None)
    result["digit_students_dev_shapes"]["wrong"] = confusion_counts(
        (s.label, p) for s, p in zip(shapes, shape_predictions, strict=True) if s.label != p
    )
    print(json.dumps(result, indent=1))
    out = ROOT / "benchmarks" / "outputs" / f"letters_across_signers{suffix}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
