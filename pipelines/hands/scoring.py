"""How well a hands model reads sequences with known labels or texts: what training selects on,
what evaluation reports."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.sequence import HandSequence


def confusion_counts(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """(truth, guess) pairs as {truth: {guess: count}}."""
    confusion: dict[str, dict[str, int]] = {}
    for truth, guess in pairs:
        confusion.setdefault(truth, {}).setdefault(guess, 0)
        confusion[truth][guess] += 1
    return confusion


def evaluate_hands(
    model: GestureModel, sequences: list[HandSequence], predictions: list[dict] | None = None
) -> dict:
    """Accuracy per classifier head (a sequence with no hand found counts as wrong), CER and WER of
    a CTC head, ``confusion`` per head ({truth: {predicted: count}}), and ``error``: the mean of
    the heads' error rates, what training selects on. ``predictions``: ``model.classify(sequences)``
    when the caller has them already."""
    metrics: dict = {"sequences": len(sequences)}
    errors = []
    predictions = model.classify(sequences) if predictions is None else predictions
    for head in model.classifier_heads:
        pairs = [
            (s.label_for(head.name), p[head.name][0]) for s, p in zip(sequences, predictions, strict=False)
        ]
        pairs = [(truth, guess) for truth, guess in pairs if truth is not None]
        if not pairs:
            continue
        accuracy = sum(truth == guess for truth, guess in pairs) / len(pairs)
        metrics[f"{head.name}_accuracy"] = round(accuracy, 4)
        metrics.setdefault("confusion", {})[head.name] = confusion_counts(pairs)
        errors.append(1.0 - accuracy)
    if model.ctc_head is not None:
        readings = [model.read_symbols(s)["text"] for s in sequences]
        truths = [s.text or "" for s in sequences]
        rates = error_rates(truths, readings)
        metrics["cer"] = round(rates["cer"], 4)
        metrics["sequence_accuracy"] = round(rates["utterance_accuracy"], 4)
        errors.append(rates["cer"])
    metrics["error"] = round(float(np.mean(errors)), 4) if errors else 1.0
    return metrics
