"""Scoring a model on a manifest: per-item results and corpus metrics (WER, CER, rejection, timing)
as JSON."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jiwer
import numpy as np

from seqrec.models import DecodeOptions, normalize_text
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import closed_vocabulary_rates
from seqrec.pipelines.speech.data import keep_vocabulary
from seqrec.pipelines.speech.transcriber import Transcriber


def evaluate(
    model: str | os.PathLike,
    manifest: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    device: str | None = None,
    decode: DecodeOptions | None = None,
) -> dict:
    """Transcribe every row of ``manifest`` and compare with its ``text``.

    For a closed-vocabulary model the reference keeps only its words: a row about other words
    should come out empty, and ``false_accept_rate`` is the share of such rows that did not.
    Rows with reference ``words`` (each with ``start``) also give ``word_start_error``: the mean
    |start - true start| over correctly recognised words, in seconds.

    Writes ``results.jsonl`` (one row per item, with ``reference``) and ``metrics.json`` into
    ``out_dir`` when given. Failed items are counted in ``errors`` and left out of the rates.
    """
    rows = list(read_manifest(manifest))
    transcriber = Transcriber(model, device, decode=decode)
    vocabulary = tuple(transcriber.bundle.config.get("vocabulary") or ())
    started = time.perf_counter()
    results = []
    for row, result in zip(
        rows, transcriber.transcribe_paths(row["audio_filepath"] for row in rows), strict=False
    ):
        reference = normalize_text(row["text"])
        results.append(
            {**result, "reference": keep_vocabulary(reference, vocabulary) if vocabulary else reference}
        )
    seconds = time.perf_counter() - started
    scored = [(row, r) for row, r in zip(rows, results, strict=False) if "error" not in r]
    metrics = {
        **closed_vocabulary_rates([r["reference"] for _, r in scored], [r["text"] for _, r in scored]),
        "errors": len(results) - len(scored),
        "audio_seconds": round(sum(r["duration"] for _, r in scored), 2),
        "seconds": round(seconds, 2),
        "decode": (decode or transcriber.pipeline["recognize"].decode).method,
        "model": str(model),
        "manifest": str(manifest),
    }
    timed = [(row["words"], r["words"]) for row, r in scored if row.get("words")]
    if timed:
        metrics.update(word_start_error(timed))
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "results.jsonl").open("w", encoding="utf-8") as out:
            for result in results:
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def word_start_error(pairs: list[tuple[list[dict], list[dict]]]) -> dict:
    """Mean and 90th percentile of |hypothesis start - reference start| over words aligned as equal."""
    errors = []
    for reference, hypothesis in pairs:
        ref_words = " ".join(w["word"] for w in reference)
        hyp_words = " ".join(w["word"] for w in hypothesis)
        if not hyp_words:
            continue
        for chunk in jiwer.process_words(ref_words, hyp_words).alignments[0]:
            if chunk.type == "equal":
                for offset in range(chunk.ref_end_idx - chunk.ref_start_idx):
                    ref, hyp = (
                        reference[chunk.ref_start_idx + offset],
                        hypothesis[chunk.hyp_start_idx + offset],
                    )
                    errors.append(abs(hyp["start"] - ref["start"]))
    if not errors:
        return {"timed_words": 0}
    return {
        "timed_words": len(errors),
        "word_start_error": round(float(np.mean(errors)), 4),
        "word_start_error_p90": round(float(np.percentile(errors, 90)), 4),
    }
