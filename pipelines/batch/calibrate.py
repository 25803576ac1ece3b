"""Word scores that mean what they say: fit a speech model's score calibration on dev manifests.

``calibrate`` decodes every row of the dev manifests (the model's words and other speech) with no
threshold and no calibration, fits Platt scaling of the words' raw scores to whether each word is
right (``operating_curve.fit_calibration``), and writes a copy of the bundle whose decode options
hold the fit and a rejection threshold that is now a probability. The figures of the fit, on the
dev words it was fitted to, go into the copy's config (``calibration``) and are returned.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

from seqrec.models import DecodeOptions, normalize_text, read_bundle_config
from seqrec.models.bundle_files import CONFIG_FILE, resolve_bundle, write_atomic
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.operating_curve import (
    ScoredClip,
    fit_calibration,
    has_both_kinds,
    operating_curve,
    reliability,
)


def calibrate(
    model: str | os.PathLike,
    manifests: list[str | os.PathLike],
    out_dir: str | os.PathLike,
    threshold: float = 0.5,
    device: str | None = None,
    runtime: str | None = None,
) -> dict:
    """Fit ``model``'s word-score calibration on ``manifests`` and write the calibrated bundle to
    ``out_dir`` with ``threshold`` (a probability) as its rejection threshold. Returns the fit:
    slope, offset, the words and clips it saw, the expected calibration error before and after, and
    the operating point at ``threshold`` on those clips."""
    from seqrec.pipelines.speech.scoring import keep_vocabulary
    from seqrec.pipelines.speech.transcriber import Transcriber

    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold {threshold}: a calibrated threshold is a probability, from 0 to 1")
    source = resolve_bundle(model)
    config = read_bundle_config(source)
    vocabulary = tuple(config.get("vocabulary") or ())
    if config.get("modality", "speech") != "speech" or not vocabulary:
        raise ConfigError(f"{model}: calibration is for speech models with a word vocabulary")
    out = Path(out_dir)
    if out.resolve() == source.resolve():
        raise ConfigError(f"{out}: write the calibrated copy to another folder than the model's")
    if out.exists() and any(out.iterdir()) and not (out / CONFIG_FILE).is_file():
        raise ConfigError(f"{out}: not empty and not a model folder: give a new folder for the copy")
    rows, references = [], []
    for manifest in manifests:
        for row in read_manifest(manifest, media=("audio_filepath",), required=("text",)):
            rows.append(row)
            references.append(keep_vocabulary(normalize_text(row["text"]), vocabulary))
    if not has_both_kinds([ScoredClip(r, (), 0.0) for r in references]):
        raise ConfigError(
            f"{', '.join(map(str, manifests))}: "
            "calibration needs clips of the model's words and of other speech"
        )
    decode = DecodeOptions(**config.get("decode", {}))
    raw = dataclasses.replace(decode, rejection_threshold=0.0, calibration_slope=1.0, calibration_offset=0.0)
    transcriber = Transcriber(source, device, decode=raw, runtime=runtime)
    clips, errors = [], 0
    paths = (row["audio_filepath"] for row in rows)
    for reference, result in zip(references, transcriber.transcribe_paths(paths), strict=True):
        if "error" in result:
            errors += 1
            continue
        clips.append(ScoredClip.from_record(reference, result))
    try:
        slope, offset = fit_calibration(clips)
    except ValueError as error:
        raise ConfigError(f"{model}: {error}") from None
    fitted = dataclasses.replace(
        decode, calibration_slope=slope, calibration_offset=offset, rejection_threshold=threshold
    )
    calibrated = [
        dataclasses.replace(c, words=tuple((w, fitted.word_probability(s)) for w, s in c.words))
        for c in clips
    ]
    before, after = reliability(clips), reliability(calibrated)
    report = {
        "slope": slope,
        "offset": offset,
        "threshold": threshold,
        "manifests": [str(m) for m in manifests],
        "clips": len(clips),
        "errors": errors,
        "words": after["words"],
        "ece_before": before["ece"],
        "ece_after": after["ece"],
        "operating_point": operating_curve(calibrated, threshold)["operating_point"],
    }
    if out.exists():  # an earlier calibrated copy (checked above): replaced whole
        shutil.rmtree(out)
    shutil.copytree(source, out)
    config = json.loads((out / CONFIG_FILE).read_text())
    config["decode"] = dataclasses.asdict(fitted)
    config["calibration"] = {
        key: report[key] for key in ("manifests", "clips", "words", "ece_before", "ece_after")
    }
    write_atomic(out / CONFIG_FILE, json.dumps(config, indent=2) + "\n")
    read_bundle_config(out)  # the copy must read back
    return report
