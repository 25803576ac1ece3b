"""Scoring a hands model on a manifest: accuracy and confusion per classifier head, CER for a CTC
head, per-item results, and a confusion-matrix PNG per head."""

from __future__ import annotations

import json
import os
from pathlib import Path

from seqrec.pipelines.core.confusion_image import confusion_png
from seqrec.pipelines.hands.data import load_hand_sequences
from seqrec.pipelines.hands.recognizer import GestureModel
from seqrec.pipelines.hands.scoring import evaluate_hands


def evaluate_hand_model(
    model: str | os.PathLike,
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    device: str | None = None,
) -> dict:
    """Run the model over every row of ``manifest`` (photos, videos or landmark files with
    ``label``/``labels``/``text``). A photo where no hand is found counts as an error of every head.

    With ``out_dir``: ``metrics.json``, ``results.jsonl`` and ``confusion-<head>.png``.
    Landmarks found in photos and videos are cached under ``out_dir`` (or ``runs/landmark-cache``).
    """
    gesture_model = GestureModel(model, device)
    cache = Path(out_dir) / "landmarks" if out_dir else Path("runs") / "landmark-cache"
    sequences = load_hand_sequences([manifest], cache, log=lambda *_: None)
    predictions = gesture_model.classify(sequences)
    metrics = {"model": str(model), "manifest": str(manifest)} | evaluate_hands(
        gesture_model, sequences, predictions
    )
    metrics["hands_found"] = round(sum(s.found for s in sequences) / max(len(sequences), 1), 4)
    if out_dir:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "results.jsonl").open("w", encoding="utf-8") as results:
            for sequence, predicted in zip(sequences, predictions, strict=True):
                row = {
                    "path": sequence.path,
                    "truth": sequence.labels or sequence.text,
                    "predicted": {
                        head: {"label": label, "score": round(score, 4)}
                        for head, (label, score) in predicted.items()
                    },
                }
                results.write(json.dumps(row) + "\n")
        for head in gesture_model.classifier_heads:
            if head.name in metrics.get("confusion", {}):
                title = (
                    f"{gesture_model.name} {head.name}: "
                    f"accuracy {metrics[f'{head.name}_accuracy']:.2%} on {Path(manifest).name}"
                )
                metrics.setdefault("confusion_png", {})[head.name] = str(
                    confusion_png(
                        metrics["confusion"][head.name],
                        head.labels,
                        out / f"confusion-{head.name}.png",
                        title,
                    )
                )
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
