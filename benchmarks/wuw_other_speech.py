"""Other speech on the telephone: how often a speech model fires on WUW Corpus II's callers.

    python benchmarks/wuw_other_speech.py [--model digits-commands] [--split dev|test] [--words a,b]

WUW Corpus II (../shared/data/speech/wuw_corpus_ii: 8 kHz telephone speech, five wake words alone
and each inside a free English sentence, 312 sessions) split by session
(configs/splits/wuw_sessions.json, 70/15/15; a caller may have several sessions, so the figures are
"unseen sessions"). Every file of ``--split`` is transcribed as ``seqrec transcribe`` does (whole
files; the long ones through the long-audio path), and scored against its cleaned transcript
(``corpora.clean_wuw_transcript``):

- wake words alone: none of them is a word of the model, so any word out is a false accept (per
  clip, with a 95% Wilson interval);
- sentences: a word out that its sentence's transcript does not hold is a false accept (per minute
  of sentence audio); recall is the share of the model's words the transcripts hold that come out.

Test sessions are for figures only; choices are made on dev. Writes
``benchmarks/outputs/wuw_other_speech-MODEL-SPLIT.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import soundfile
from speech_rejection import (  # this script's folder is on sys.path when it runs
    sentence_rates,
    wake_word_rates,
)

from seqrec.models import read_bundle_config
from seqrec.pipelines.core.operating_curve import ScoredClip
from seqrec.pipelines.speech.corpora import split_wuw_sessions, wuw_rows
from seqrec.pipelines.speech.scoring import keep_vocabulary
from seqrec.pipelines.speech.transcriber import Transcriber

ROOT = Path(__file__).resolve().parents[1]
WUW = ROOT.parent / "shared" / "data" / "speech" / "wuw_corpus_ii"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="digits-commands")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--words", help="a run-time word list, as transcribe --words takes")
    args = parser.parse_args()
    rows = [
        r
        for r in split_wuw_sessions(wuw_rows(WUW), ROOT / "configs" / "splits" / "wuw_sessions.json")
        if r["split"] == args.split
    ]
    words = [w.strip() for w in args.words.split(",")] if args.words else None
    vocabulary = set(words or read_bundle_config(args.model).get("vocabulary") or ())
    transcriber = Transcriber(args.model, words=words)
    records = list(transcriber.transcribe_paths([r["audio_filepath"] for r in rows]))

    alone = [(r, rec) for r, rec in zip(rows, records, strict=True) if r["kind"] == "wake word"]
    sentences = [
        ScoredClip(  # the words transcribe printed, each counting as kept
            keep_vocabulary(r["text"], vocabulary),
            tuple((word, 1.0) for word in rec.get("text", "").split()),
            soundfile.info(r["audio_filepath"]).duration,
        )
        for r, rec in zip(rows, records, strict=True)
        if r["kind"] == "sentence"
    ]
    result = {
        "model": args.model,
        "words": words,
        "split": args.split,
        "sessions": len({r["session"] for r in rows}),
        "errors": sum("error" in rec for rec in records),
        "wake_words_alone": wake_word_rates([rec.get("text", "") for _, rec in alone]),
        "sentences": {
            "clips": len(sentences),
            "minutes": round(sum(c.seconds for c in sentences) / 60, 2),
            **sentence_rates(sentences, 0.0),
        },
    }
    print(json.dumps(result, indent=1))
    name = f"wuw_other_speech-{Path(args.model).name}-{args.split}" + ("-words" if words else "")
    (ROOT / "benchmarks" / "outputs" / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
