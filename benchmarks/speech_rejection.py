"""A speech model's words against other speech, at one threshold: issue 14's figures in one run.

    python benchmarks/speech_rejection.py [--model commands] [--split dev|test] [--thresholds T ...]
                                          [--snr 20 10 5] [--words yes,no] [--seed 0]

Everything real and held out by person: the Speech Commands clips of the split's speakers
(configs/splits/speech_commands_speakers.json: 35 words, the model's and others) and WUW Corpus II's
telephone sessions of the split (configs/splits/wuw_sessions.json). Choose on dev, report on test.

- ``clean``: on the clips of the model's words, WER (a clip is one word); on the clips of other
  words, false accepts (a clip counting once when any word comes out).
- ``noise``: the same clips with real recorded noise added at each SNR (dB, against the loud half
  of the clip): room tone cut from the split's Speech Commands clips and the non-speech stretches
  of its WUW sessions (``corpora.room_noise_files``), a random stretch of a random file per clip.
- ``telephone``: WUW's wake words alone (none is a word of the model: any word out is a false
  accept), and the split's sentences joined into one file and played through the live path
  (``--stream-file``, faster than real time): a word out that its sentence's transcript does not
  hold is a false accept (per minute), and recall is the share of the model's words the
  transcripts hold that come out.
- ``words``: with the run-time word list ``--words``, WER on its words' clips and false accepts on
  every other clip.
- ``calibration``: the reliability of the word scores (``operating_curve.reliability``) over every
  word decoded with no threshold on the clean clips: the stated mix is the split's Speech Commands
  clips, its words and others as they come.

Each clip (and the stream) is decoded once with no threshold; each of ``--thresholds`` (default
the bundle's own) keeps the words scoring at least it, so a sweep on dev costs one run; ``--words``
is measured at the first. Rates carry their counts and 95% Wilson intervals.
Writes ``benchmarks/outputs/speech_rejection-MODEL-SPLIT.json``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile

from seqrec.features import load_audio
from seqrec.features.audio.augment import noise_scale, noise_stretch
from seqrec.features.audio.live import PacedFile
from seqrec.models import DecodeOptions, read_bundle_config
from seqrec.pipelines.core.metrics import error_rates, wilson_interval
from seqrec.pipelines.core.operating_curve import ScoredClip, kept_text, reliability
from seqrec.pipelines.speech.corpora import room_noise_files, split_wuw_sessions, wuw_rows
from seqrec.pipelines.speech.scoring import keep_vocabulary
from seqrec.pipelines.speech.transcriber import Transcriber

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "speech"
GAP_SECONDS = 0.6  # between joined sentences: the live path's end-of-utterance wait is 0.15-0.25 s
STREAM_SPEED = 50.0  # the live path, paced 50x faster than real time


def speech_commands_clips(split: str) -> list[tuple[str, str]]:
    speakers = set(json.loads((ROOT / "configs/splits/speech_commands_speakers.json").read_text())[split])
    with open(SHARED / "speech_commands" / "labels.csv", newline="") as file:
        return [
            (str(SHARED / "speech_commands" / row["path"]), row["label"])
            for row in csv.DictReader(file)
            if row["speaker"] in speakers
        ]


def clip_rates(texts: list[str], labels: list[str], vocabulary: set[str]) -> dict:
    """WER on the clips of ``vocabulary``'s words, false accepts on the others."""
    wanted = [(t, label) for t, label in zip(texts, labels, strict=True) if label in vocabulary]
    other = [t for t, label in zip(texts, labels, strict=True) if label not in vocabulary]
    rates = error_rates([label for _, label in wanted], [t for t, _ in wanted])
    wrong = sum(t != label for t, label in wanted)
    accepted = sum(bool(t) for t in other)
    return {
        "wanted_clips": len(wanted),
        "wer": round(rates["wer"], 4),
        "clips_wrong": wrong,
        "clips_wrong_interval_95": wilson_interval(wrong, len(wanted)),
        "other_clips": len(other),
        "false_accepts": accepted,
        "false_accept_rate": round(accepted / len(other), 4),
        "false_accept_interval_95": wilson_interval(accepted, len(other)),
    }


def noisy(audio: np.ndarray, noises: list[np.ndarray], snr_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = noise_stretch(noises[int(rng.integers(len(noises)))], len(audio), rng)
    return np.clip(audio + noise * noise_scale(audio, snr_db), -1.0, 1.0).astype(np.float32)


def join_sentences(rows: list[dict], path: Path, sample_rate: int) -> list[tuple[float, float]]:
    """The sentences one after another with a quiet gap, as one file; each one's (start, end) in it."""
    spans, pieces, at = [], [], 0.0
    gap = np.zeros(int(GAP_SECONDS * sample_rate), np.float32)
    for row in rows:
        audio = load_audio(row["audio_filepath"], sample_rate)
        pieces += [gap, audio]
        at += len(gap) / sample_rate
        spans.append((at, at + len(audio) / sample_rate))
        at += len(audio) / sample_rate
    soundfile.write(path, np.concatenate([*pieces, gap]), sample_rate, subtype="PCM_16")
    return spans


def wake_word_rates(texts: list[str]) -> dict:
    """Wake words alone, none a word of the model: a clip with any text out is a false accept."""
    fired = [text for text in texts if text]
    return {
        "clips": len(texts),
        "false_accepts": len(fired),
        "rate": round(len(fired) / len(texts), 4),
        "interval_95": wilson_interval(len(fired), len(texts)),
        "heard_as": dict(Counter(fired).most_common(10)),
    }


def sentence_rates(sentences: list[ScoredClip], threshold: float) -> dict:
    """A word out that its sentence's reference (the vocabulary words its transcript holds) does not
    hold is a false accept; recall is the share of those words that come out."""
    false_words, held, found = Counter(), 0, 0
    for sentence in sentences:
        truth, out = Counter(sentence.reference.split()), Counter(kept_text(sentence, threshold).split())
        false_words.update(out - truth)
        held += sum(truth.values())
        found += sum((out & truth).values())
    minutes = sum(sentence.seconds for sentence in sentences) / 60
    return {
        "false_accepts": sum(false_words.values()),
        "per_minute": round(sum(false_words.values()) / minutes, 3),
        "false_words": dict(false_words.most_common(10)),
        "vocabulary_words_held": held,
        "found": found,
        "recall": round(found / held, 4) if held else None,
        "recall_interval_95": wilson_interval(found, held),
    }


def stream_sentences(
    transcriber: Transcriber, rows: list[dict], sample_rate: int, vocabulary: set[str]
) -> tuple[list[ScoredClip], dict]:
    """The sentences through the live path as one file: each word out goes to the sentence whose
    span holds its middle (a word in a gap, to the sentence before)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sentences.wav"
        spans = join_sentences(rows, path, sample_rate)
        records = list(transcriber.transcribe_live(PacedFile(path, STREAM_SPEED), str(path)))
    heard: list[list[tuple[str, float]]] = [[] for _ in rows]
    starts = np.array([start for start, _ in spans])
    for record in records:
        for word in record.get("words", []):
            middle = (word["start"] + word["end"]) / 2  # live rows' word times are the stream's
            heard[max(0, int(np.searchsorted(starts, middle, side="right")) - 1)].append(
                (word["word"], word["score"])
            )
    sentences = [
        ScoredClip(keep_vocabulary(row["text"], vocabulary), tuple(words), end - start)
        for row, words, (start, end) in zip(rows, heard, spans, strict=True)
    ]
    return sentences, {
        "sentences": len(rows),
        "minutes": round(sum(end - start for start, end in spans) / 60, 2),
        "utterances": len(records),
        "errors": sum("error" in r for r in records),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="commands")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", help="rejection thresholds to score at (default: the bundle's)"
    )
    parser.add_argument("--snr", type=float, nargs="*", default=[20.0, 10.0, 5.0])
    parser.add_argument("--words", default="yes,no", help="a run-time word list to measure ('' for none)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = read_bundle_config(args.model)
    vocabulary = set(config["vocabulary"])
    rate = config["features"]["sample_rate"]
    decode = DecodeOptions(**config.get("decode", {}))
    thresholds = args.thresholds or [decode.rejection_threshold]
    # Every part decodes once with no threshold; each threshold keeps the words scoring at least it.
    everything = Transcriber(args.model, decode=dataclasses.replace(decode, rejection_threshold=0.0))
    rng = np.random.default_rng(args.seed)

    clips = speech_commands_clips(args.split)
    paths, labels = [p for p, _ in clips], [label for _, label in clips]
    records = list(everything.transcribe_paths(paths))
    references = [label if label in vocabulary else "" for label in labels]
    clean = [ScoredClip.from_record(ref, r) for ref, r in zip(references, records, strict=True)]

    wuw = [
        r
        for r in split_wuw_sessions(
            wuw_rows(SHARED / "wuw_corpus_ii"), ROOT / "configs/splits/wuw_sessions.json"
        )
        if r["split"] == args.split
    ]
    with tempfile.TemporaryDirectory() as folder:
        noise_rows = [{"audio_filepath": p} for p in paths] + [
            {"audio_filepath": r["audio_filepath"]} for r in wuw
        ]
        noises = [load_audio(str(f), rate) for f in room_noise_files(noise_rows, folder, rate)]
    audio = [load_audio(p, rate) for p in paths]
    in_noise = {
        snr: [
            ScoredClip.from_record(ref, everything.transcribe_array(noisy(a, noises, snr, rng), rate))
            for ref, a in zip(references, audio, strict=True)
        ]
        for snr in args.snr
    }
    alone = [
        ScoredClip.from_record("", r)  # no wake word is a word of the model
        for r in everything.transcribe_paths([r["audio_filepath"] for r in wuw if r["kind"] == "wake word"])
    ]
    sentences, stream = stream_sentences(
        everything, [r for r in wuw if r["kind"] == "sentence"], rate, vocabulary
    )

    def at(threshold: float) -> dict:
        return {
            "clean": clip_rates([kept_text(c, threshold) for c in clean], labels, vocabulary),
            "noise": {
                f"{snr:g} dB": clip_rates([kept_text(c, threshold) for c in noisy_clips], labels, vocabulary)
                for snr, noisy_clips in in_noise.items()
            },
            "wuw_wake_words_alone": wake_word_rates([kept_text(c, threshold) for c in alone]),
            "wuw_sentences_streamed": sentence_rates(sentences, threshold),
        }

    result = {
        "model": args.model,
        "split": args.split,
        "calibrated": decode.calibrated,
        "speech_commands": {
            "clips": len(clips),
            "speakers": len({Path(p).name.split("_")[0] for p in paths}),
        },
        "errors": sum("error" in r for r in records),
        "noise_files_seconds": round(sum(len(n) for n in noises) / rate, 1),
        "wuw_sessions": len({r["session"] for r in wuw}),
        "wuw_sentences_stream": stream,
        "calibration": reliability(clean),
        "at_threshold": {f"{t:g}": at(t) for t in thresholds},
    }
    listed = [w.strip() for w in args.words.split(",") if w.strip()]
    if listed:  # at the first threshold, as transcribe --words decodes
        options = dataclasses.replace(decode, rejection_threshold=thresholds[0])
        grammar = Transcriber(args.model, decode=options, words=listed)
        texts = [r.get("text", "") for r in grammar.transcribe_paths(paths)]
        result["words"] = {
            "words": listed,
            "threshold": thresholds[0],
            **clip_rates(texts, labels, set(listed)),
        }

    print(json.dumps(result, indent=1))
    out = ROOT / "benchmarks" / "outputs" / f"speech_rejection-{Path(args.model).name}-{args.split}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
