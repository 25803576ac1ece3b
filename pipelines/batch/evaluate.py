"""Scoring a model on a manifest with references: one front door for speech and hands.

Whatever the modality, ``evaluate`` writes the same files into ``out_dir``: ``results.jsonl``
(one row per item, with its reference) and ``metrics.json`` (with ``scored`` and ``errors``,
the items scored and those that could not be used, and ``model`` and ``manifest``), plus
``confusion-<head>.png`` for each classifier head, and, for a speech model with a vocabulary on a
manifest holding both its words and other speech, ``miss-false-accept.png`` (``operating_curve``)
and ``reliability.png`` with the curve and the word scores' calibration in ``metrics.json``; and
the command exits 1 when any item failed.
With nothing scored there are no rates: WER and CER are null, accuracies absent. A manifest with
no rows, or a speech row without ``text``, is a ``ConfigError`` before the model is loaded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from seqrec.models import DecodeOptions, normalize_text, read_bundle_config
from seqrec.pipelines.core.confusion_image import confusion_png
from seqrec.pipelines.core.errors import ConfigError, MediaMismatchError
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import closed_vocabulary_rates
from seqrec.pipelines.core.operating_curve import (
    ScoredClip,
    has_both_kinds,
    operating_curve,
    operating_curve_png,
    reliability,
    reliability_png,
)


def evaluate(
    model: str | os.PathLike,
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    device: str | None = None,
    decode: DecodeOptions | None = None,
    on_error: Callable[[str, str], None] | None = None,
    runtime: str | None = None,
) -> dict:
    """Run ``model`` over every row of ``manifest`` and score it against the rows' references:
    WER and CER for speech (``text``), accuracy per classifier head and CER of a CTC head for
    hands (``label``, ``labels`` or ``text``). ``decode`` applies to speech models only.

    Failed items are counted in ``errors`` and left out of the rates; ``scored`` counts the rest.
    ``on_error(path, reason)`` hears of each failed item.
    """
    modality = read_bundle_config(model).get("modality")
    rows = _ResultRows(out_dir)

    def emit(result: dict) -> None:
        rows.write(result)
        if "error" in result and on_error is not None:
            on_error(result["path"], result["error"])

    try:
        if modality == "hands":
            metrics, images = _score_hands(model, manifest, out_dir, device, runtime, emit)
        else:
            metrics, images = _score_speech(model, manifest, device, runtime, decode, emit), {}
            if "miss_false_accept" in metrics and out_dir is not None:
                png = operating_curve_png(
                    metrics["miss_false_accept"], Path(out_dir) / "miss-false-accept.png", str(model)
                )
                metrics["miss_false_accept"]["png"] = str(png)
                png = reliability_png(metrics["calibration"], Path(out_dir) / "reliability.png", str(model))
                metrics["calibration"]["png"] = str(png)
    except MediaMismatchError as error:  # e.g. audio rows for a hands model: say which model
        raise MediaMismatchError(f"{error}; {model} is a {modality} model") from None
    finally:
        rows.close()
    metrics |= {"model": str(model), "manifest": str(manifest)}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for head, (confusion, labels, title) in images.items():
            png = confusion_png(confusion, labels, out / f"confusion-{head}.png", title)
            metrics.setdefault("confusion_png", {})[head] = str(png)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


class _ResultRows:
    """``results.jsonl`` written an item at a time as items are scored (the file is made with the
    first), so a run stopped part way keeps every row it scored; nothing without an ``out_dir``."""

    def __init__(self, out_dir: str | os.PathLike | None):
        self.path = None if out_dir is None else Path(out_dir) / "results.jsonl"
        self.file = None

    def write(self, result: dict) -> None:
        if self.path is None:
            return
        if self.file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.path.open("w", encoding="utf-8")
        self.file.write(json.dumps(result, ensure_ascii=False) + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _score_speech(model, manifest, device, runtime, decode, emit: Callable[[dict], None]) -> dict:
    """For a closed-vocabulary model the reference keeps only its words: a row about other words
    should come out empty, and ``false_accept_rate`` is the share of such rows that did not.
    Rows with reference ``words`` (each with ``start``) also give ``word_start_error``: the mean
    |start - true start| over correctly recognised words, in seconds."""
    from seqrec.pipelines.speech.scoring import keep_vocabulary, word_start_error
    from seqrec.pipelines.speech.transcriber import Transcriber

    rows = list(read_manifest(manifest, media=("audio_filepath",), required=("text",)))
    if not rows:
        raise ConfigError(f"{manifest}: no rows in this manifest: nothing to score")
    config = read_bundle_config(model)
    vocabulary = tuple(config.get("vocabulary") or ())
    references = [
        keep_vocabulary(normalize_text(row["text"]), vocabulary)
        if vocabulary
        else normalize_text(row["text"])
        for row in rows
    ]
    operating = decode or DecodeOptions(**config.get("decode", {}))
    # Both kinds of clip (its words, other speech): decode with no threshold, so the trade at every
    # threshold can be drawn, and apply the operating one to what is scored and written.
    sweep = bool(vocabulary) and has_both_kinds([ScoredClip(r, (), 0.0) for r in references])
    transcriber = Transcriber(
        model,
        device,
        decode=dataclasses.replace(operating, rejection_threshold=0.0) if sweep else decode,
        runtime=runtime,
    )
    started = time.perf_counter()
    results, clips = [], []
    paths = (row["audio_filepath"] for row in rows)
    for reference, result in zip(references, transcriber.transcribe_paths(paths), strict=False):
        if sweep and "error" not in result:
            clips.append(ScoredClip.from_record(reference, result))
            result = _at_threshold(result, operating.rejection_threshold)
        results.append({**result, "reference": reference})
        emit(results[-1])
    seconds = time.perf_counter() - started
    scored = [(row, r) for row, r in zip(rows, results, strict=False) if "error" not in r]
    rates = closed_vocabulary_rates([r["reference"] for _, r in scored], [r["text"] for _, r in scored])
    if not scored:  # no rate over nothing: not 0.0, which would read as perfect
        rates |= {"wer": None, "cer": None}
    metrics = {
        **rates,
        "scored": len(scored),
        "errors": len(results) - len(scored),
        "audio_seconds": round(sum(r["duration"] for _, r in scored), 2),
        "seconds": round(seconds, 2),
        "decode": (decode or transcriber.pipeline["recognize"].decode).method,
    }
    timed = [(row["words"], r["words"]) for row, r in scored if row.get("words")]
    if timed:
        metrics.update(word_start_error(timed))
    if clips and has_both_kinds(clips):
        metrics["miss_false_accept"] = operating_curve(clips, operating.rejection_threshold)
        metrics["calibration"] = reliability(clips)
    return metrics


def _at_threshold(result: dict, threshold: float) -> dict:
    """A record decoded with no threshold, as it reads with one: the words under it rejected."""
    from seqrec.pipelines.speech.stages import transcript_of

    return {**result, **transcript_of([w for w in result["words"] if w["score"] >= threshold])}


def _score_hands(
    model, manifest, out_dir, device, runtime, emit: Callable[[dict], None]
) -> tuple[dict, dict]:
    """A photo where no hand is found counts as an error of every head. Landmarks found in photos
    and videos are cached under ``out_dir`` (or ``runs/landmark-cache``)."""
    from seqrec.pipelines.hands.data import dataset_rows, load_hand_sequences
    from seqrec.pipelines.hands.model import GestureModel
    from seqrec.pipelines.hands.scoring import evaluate_hands

    rows = dataset_rows(manifest)[1]
    if not rows:
        raise ConfigError(f"{manifest}: no rows in this manifest: nothing to score")
    gesture_model = GestureModel(model, device, runtime=runtime)
    cache = Path(out_dir) / "landmarks" if out_dir else Path("runs") / "landmark-cache"
    sequences = load_hand_sequences([manifest], cache, log=lambda *_: None)
    predictions = gesture_model.classify(sequences)
    if sequences:
        metrics = evaluate_hands(gesture_model, sequences, predictions)
    else:  # nothing to score: no accuracy, no CER, no error rate
        metrics = {"sequences": 0, "error": None} | ({"cer": None} if gesture_model.ctc_head else {})
    metrics["hands_found"] = round(sum(s.found for s in sequences) / len(sequences), 4) if sequences else None
    # Photos, videos and landmark files that could not be read are left out of the sequences.
    metrics["scored"] = len(sequences)
    metrics["errors"] = len(rows) - len(sequences)
    results = [
        {
            "path": sequence.path,
            "truth": sequence.labels or sequence.text,
            "predicted": {
                head: {"label": label, "score": round(score, 4)} for head, (label, score) in predicted.items()
            },
        }
        for sequence, predicted in zip(sequences, predictions, strict=True)
    ]
    # What could not be read is in the results too, as speech's failures are.
    loaded = {sequence.path for sequence in sequences}
    media = (row.get("image_filepath") or row.get("video_filepath") for row in rows)
    results += [{"path": path, "error": "could not be read"} for path in media if path and path not in loaded]
    images = {
        head.name: (
            metrics["confusion"][head.name],
            head.labels,
            (
                f"{gesture_model.name} {head.name}: "
                f"accuracy {metrics[f'{head.name}_accuracy']:.2%} on {Path(manifest).name}"
            ),
        )
        for head in gesture_model.classifier_heads
        if head.name in metrics.get("confusion", {})
    }
    for result in results:
        emit(result)
    return metrics, images
