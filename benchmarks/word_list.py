"""A run-time word list on real speech: the listed words kept, everything else refused.

    python benchmarks/word_list.py [--words yes,no] [--model digits-commands]

Every Speech Commands clip of the test speakers (configs/splits/speech_commands_speakers.json;
496 clips of 29 words from 33 people in ../shared/data) is transcribed with ``--words``, as
``seqrec transcribe --words yes,no`` does. On the clips of a listed word: WER. On every other clip
(the model's other words and words it never learnt): false accepts, a clip counting once when
anything comes out. Rates with their counts and 95% Wilson intervals. Writes
``benchmarks/outputs/word_list-MODEL.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

from seqrec.pipelines.core.metrics import error_rates, wilson_interval
from seqrec.pipelines.speech.transcriber import Transcriber

ROOT = Path(__file__).resolve().parents[1]
SPEECH_COMMANDS = ROOT.parent / "shared" / "data" / "speech" / "speech_commands"


def test_clips() -> list[tuple[Path, str]]:
    speakers = set(json.loads((ROOT / "configs/splits/speech_commands_speakers.json").read_text())["test"])
    with open(SPEECH_COMMANDS / "labels.csv", newline="") as file:
        return [
            (SPEECH_COMMANDS / row["path"], row["label"])
            for row in csv.DictReader(file)
            if row["speaker"] in speakers
        ]


def score(texts: list[str], labels: list[str], words: list[str]) -> dict:
    listed = [(t, label) for t, label in zip(texts, labels, strict=True) if label in words]
    other = [(t, label) for t, label in zip(texts, labels, strict=True) if label not in words]
    accepted = [(t, label) for t, label in other if t]
    rates = error_rates([label for _, label in listed], [t for t, _ in listed])
    return {
        "listed_clips": len(listed),
        "wer": round(rates["wer"], 4),
        "listed_right": sum(t == label for t, label in listed),
        "other_clips": len(other),
        "false_accepts": len(accepted),
        "false_accept_rate": round(len(accepted) / len(other), 4),
        "false_accept_interval_95": wilson_interval(len(accepted), len(other)),
        "accepted_as": dict(Counter(f"{label} -> {t}" for t, label in accepted).most_common()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--words", default="yes,no")
    parser.add_argument("--model", default="digits-commands")
    args = parser.parse_args()
    words = [w.strip() for w in args.words.split(",") if w.strip()]
    clips = test_clips()
    paths, labels = [path for path, _ in clips], [label for _, label in clips]
    result = {
        "model": args.model,
        "words": words,
        "clips": len(clips),
        "speakers": len({path.name.split("_")[0] for path in paths}),
    }
    transcriber = Transcriber(args.model, words=words)
    texts = [record.get("text", "") for record in transcriber.transcribe_paths(paths)]
    result |= score(texts, labels, words)
    print(json.dumps(result, indent=1))
    out = ROOT / "benchmarks" / "outputs" / f"word_list-{args.model}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
