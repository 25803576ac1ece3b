"""Scoring a model on a manifest: per-item results and corpus metrics (WER, CER) as JSON."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from seqrec.models import normalize_text

from .manifest import read_manifest
from .metrics import error_rates
from .transcribe import Transcriber


def evaluate(model: str | os.PathLike, manifest: str | os.PathLike, out_dir: str | os.PathLike | None = None, device: str | None = None) -> dict:
    """Transcribe every row of ``manifest`` and compare with its ``text``.

    Writes ``results.jsonl`` (one row per item, with ``reference``) and ``metrics.json`` into
    ``out_dir`` when given. Failed items are counted in ``errors`` and left out of WER/CER.
    """
    rows = list(read_manifest(manifest))
    transcriber = Transcriber(model, device)
    started = time.perf_counter()
    results = []
    for row, result in zip(rows, transcriber.transcribe_paths(row["audio_filepath"] for row in rows)):
        results.append({**result, "reference": normalize_text(row["text"])})
    seconds = time.perf_counter() - started
    scored = [r for r in results if "error" not in r]
    metrics = {
        **error_rates([r["reference"] for r in scored], [r["text"] for r in scored]),
        "errors": len(results) - len(scored),
        "audio_seconds": round(sum(r["duration"] for r in scored), 2),
        "seconds": round(seconds, 2),
        "model": str(model),
        "manifest": str(manifest),
    }
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "results.jsonl").open("w", encoding="utf-8") as out:
            for result in results:
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
