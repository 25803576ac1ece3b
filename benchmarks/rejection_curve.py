"""What rejection costs: for a model that rejects (`commands`), the lowest WER on a split's
in-vocabulary Speech Commands clips at each number of its out-of-vocabulary clips accepted, over
every rejection threshold, and where the bundle's own threshold lies on that curve.

    python benchmarks/rejection_curve.py [--model NAME|PATH] [--split dev|test]

The clips are the manifests scripts/build_commands.py writes (dev: the Speech Commands clips of
dev.jsonl; test: test_speech_commands.jsonl and test_speech_commands_oov.jsonl). Each clip is
decoded once, as the bundle decodes, with no threshold; the thresholds are then applied to the
words' scores. The test curve is for reading, not for choosing a threshold: that is done on dev.
Also lists each out-of-vocabulary clip and the words it was heard as. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from seqrec.models import DecodeOptions, load_bundle
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import closed_vocabulary_rates
from seqrec.pipelines.speech.scoring import keep_vocabulary
from seqrec.pipelines.speech.stages import speech_pipeline

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "commands"
MANIFESTS = {"dev": ["dev.jsonl"], "test": ["test_speech_commands.jsonl", "test_speech_commands_oov.jsonl"]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="commands")
    parser.add_argument("--split", choices=sorted(MANIFESTS), default="dev")
    args = parser.parse_args()

    bundle = load_bundle(args.model, device="cpu")
    vocabulary = tuple(bundle.config.get("vocabulary") or ())
    if not vocabulary:
        raise SystemExit(f"{args.model}: an open-vocabulary model has no out-of-vocabulary clips to reject")
    bundle_decode = DecodeOptions(**bundle.config.get("decode", {}))
    rows = [
        row
        for name in MANIFESTS[args.split]
        for row in read_manifest(DATA / name)
        if row.get("corpus") == "speech_commands"
    ]
    references = [keep_vocabulary(row["text"], vocabulary) for row in rows]
    pipeline = speech_pipeline(bundle, decode=dataclasses.replace(bundle_decode, rejection_threshold=0.0))
    samples = list(pipeline.stream(({"path": row["audio_filepath"]} for row in rows), batch_size=64))
    failed = [f"{s['path']}: {s['error']}" for s in samples if "error" in s]
    if failed:  # a clip that did not load would count as rejected
        raise SystemExit(f"{len(failed)} clips did not load, first: {failed[0]}")
    heard = [sample["words"] for sample in samples]

    other = [i for i, reference in enumerate(references) if not reference]

    def at(threshold: float) -> tuple[float, int]:
        texts = [" ".join(w["word"] for w in words if w["score"] >= threshold) for words in heard]
        rates = closed_vocabulary_rates(references, texts)
        return rates["wer"], round(rates.get("false_accept_rate", 0.0) * len(other))

    curve: dict[int, dict] = {}
    for threshold in sorted({0.0, *(w["score"] for words in heard for w in words)}):
        wer, accepted = at(threshold)
        if accepted not in curve or wer < curve[accepted]["wer"]:
            curve[accepted] = {"wer": round(wer, 4), "threshold": threshold}
    own_wer, own_accepted = at(bundle_decode.rejection_threshold)
    result = {
        "model": str(args.model),
        "split": args.split,
        "in_vocabulary_clips": len(references) - len(other),
        "out_of_vocabulary_clips": len(other),
        "decode": dataclasses.asdict(bundle_decode),
        "bundle_threshold": {"wer": round(own_wer, 4), "false_accepts": own_accepted},
        "lowest_wer_by_false_accepts": [
            {"false_accepts": k, "false_accept_rate": round(k / max(len(other), 1), 4), **curve[k]}
            for k in sorted(curve)
        ],
        "out_of_vocabulary_heard_as": [
            {"text": rows[i]["text"], "words": [[w["word"], w["score"]] for w in heard[i]]} for i in other
        ],
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
