"""Build the synthetic speech corpus planned for the next speech model, with Debian's TTS engines.

    python scripts/make_synthetic_speech.py [--out data/synthetic-speech] [--seed 0]
        [--per-word 40] [--sequences 1500] [--oov 600]

Up to four parts, each with its own manifest under --out, and manifest.jsonl holding them all:
  words.jsonl      every vocabulary word alone, --per-word clips each
  sequences.jsonl  --sequences connected strings: digit strings of 2-4 digits ("three one four",
                   "oh seven") and command pairs ("rear left", "go forward")
  oov.jsonl        --oov clips of words outside the vocabulary, marked "in_vocabulary": false
  carriers.jsonl   --carriers sentences holding vocabulary words among other words ("turn the
                   window on", "i work on the table project"; CARRIERS); none by default:
                   configs/commands-16k.yaml (the shipped commands) and commands-carriers.yaml
                   train on them, from their own --out (data/synthetic-carriers)
Every clip is drawn from --seed; a rerun with the same options skips the clips already written.
Needs: apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
Exit code 0 when every clip was rendered, 1 when some failed (the rest written), 2 when no engine
is installed.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

from seqrec.pipelines.core.manifest import read_manifest, write_manifest
from seqrec.pipelines.speech.synthetic import available_voices, generate_corpus

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh")
COMMANDS = (
    "yes",
    "no",
    "up",
    "down",
    "left",
    "right",
    "on",
    "off",
    "stop",
    "go",
    "forward",
    "backward",
    "front",
    "rear",
    "side",
    "center",
)
VOCABULARY = DIGITS + COMMANDS
# Speech Commands' auxiliary words, then common words that sound like no vocabulary word
# (no homophones such as "to", "for", "won", "ate", "know").
OOV_WORDS = [
    "bed",
    "bird",
    "cat",
    "dog",
    "happy",
    "house",
    "learn",
    "marvin",
    "sheila",
    "tree",
    "visual",
    "wow",
    "follow",
    "apple",
    "banana",
    "basket",
    "bottle",
    "button",
    "camera",
    "candle",
    "castle",
    "coffee",
    "dinner",
    "doctor",
    "finger",
    "garden",
    "guitar",
    "hammer",
    "island",
    "jacket",
    "kitchen",
    "ladder",
    "lemon",
    "letter",
    "market",
    "mirror",
    "money",
    "monkey",
    "morning",
    "music",
    "number",
    "paper",
    "pencil",
    "people",
    "purple",
    "rabbit",
    "river",
    "rocket",
    "silver",
    "sister",
    "spider",
    "sugar",
    "summer",
    "table",
    "teacher",
    "tiger",
    "tomato",
    "turtle",
    "village",
    "wagon",
    "water",
    "window",
    "winter",
    "yellow",
    "zebra",
]
SEQUENCE_LENGTHS = (2, 3, 4)  # words in a digit string; command strings are pairs
# Vocabulary words inside free speech, as callers say them ("i work on the project"): the
# recipe's filler takes the other words, the vocabulary words keep their label. {w} is any
# vocabulary word, {d} a digit, {c} a command word, {x} a word outside the vocabulary; the fixed
# words sound like no vocabulary word (no "to", "for", "too", "won", "ate", "know").
CARRIERS = (
    "{x} {w}",
    "{w} {x}",
    "please {c} the {x}",
    "i said {w} not {x}",
    "can you say {w} again",
    "the {x} is {c}",
    "turn the {x} on",
    "turn the {x} off",
    "my code is {d} {d} {d}",
    "{w} {w} and then the {x}",
    "and then we go {c} by the {x}",
    "i work on the {x} project",
    "hold on a second",
    "we need {d} more {x}",
    "it is on the {c} of the {x}",
    "well {w} i guess",
)


def carrier_sentences(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` sentences from ``CARRIERS``, slots filled at random, in a seeded order."""
    fill = {"w": VOCABULARY, "d": DIGITS, "c": COMMANDS, "x": OOV_WORDS}
    sentences = []
    for _ in range(count):
        words = []
        for token in str(rng.choice(CARRIERS)).split():
            slot = token.strip("{}")
            words.append(str(rng.choice(fill[slot])) if token.startswith("{") else token)
        sentences.append(" ".join(words))
    return sentences


def connected_sequences(count: int, rng: np.random.Generator) -> list[str]:
    """Half digit strings of 2-4 digits, half command pairs, in a seeded order."""
    texts = []
    for i in range(count):
        if i % 2 == 0:
            words = rng.choice(DIGITS, size=rng.choice(SEQUENCE_LENGTHS))
        else:
            words = rng.choice(COMMANDS, size=2)
        texts.append(" ".join(words))
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "synthetic-speech", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-word", type=int, default=40, help="clips of each vocabulary word alone")
    parser.add_argument(
        "--sequences", type=int, default=1500, help="connected digit strings and command pairs"
    )
    parser.add_argument("--oov", type=int, default=600, help="clips of out-of-vocabulary words, all told")
    parser.add_argument(
        "--carriers",
        type=int,
        default=0,
        help="sentences holding vocabulary words among others (configs/commands-16k.yaml)",
    )
    args = parser.parse_args()
    if min(args.per_word, args.sequences, args.oov, args.carriers) < 0:
        parser.error("counts must not be negative")

    voices = available_voices()
    if not voices:
        print("no TTS engine is installed: apt-get install espeak-ng flite festival", file=sys.stderr)
        return 2
    per_engine = collections.Counter(voice.engine for voice in voices)
    print("voices: " + ", ".join(f"{engine} {count}" for engine, count in per_engine.items()))

    failures = 0

    def report(line: str) -> None:
        nonlocal failures
        failures += 1
        print(line, file=sys.stderr)

    parts = {
        "words": (list(VOCABULARY), {"n_per_text": args.per_word}),
        "sequences": (
            connected_sequences(args.sequences, np.random.default_rng([args.seed, 1])),
            {"n_per_text": 1},
        ),
        "oov": (list(OOV_WORDS), {"total": args.oov}),
        "carriers": (
            carrier_sentences(args.carriers, np.random.default_rng([args.seed, 3])),
            {"n_per_text": 1},
        ),
    }
    started = time.perf_counter()
    all_rows = []
    for index, (name, (texts, counts)) in enumerate(parts.items()):
        if not texts or not any(counts.values()):
            continue
        part_start = time.perf_counter()
        manifest = generate_corpus(
            texts,
            args.out,
            seed=[args.seed, index],
            voices=voices,
            manifest=f"{name}.jsonl",
            fields={"kind": name, "in_vocabulary": name != "oov", "corpus": "synthetic"},
            report=report,
            progress=True,
            **counts,
        )
        rows = list(read_manifest(manifest))
        all_rows += rows
        hours = sum(row["duration"] for row in rows) / 3600
        print(
            f"{name}: {len(rows)} clips, {hours:.2f} h, "
            f"{time.perf_counter() - part_start:.0f} s -> {manifest}"
        )
    write_manifest(args.out / "manifest.jsonl", all_rows)
    engines = collections.Counter(row["engine"] for row in all_rows)
    hours = sum(row["duration"] for row in all_rows) / 3600
    print(
        f"total: {len(all_rows)} clips ({', '.join(f'{e} {n}' for e, n in engines.items())}), "
        f"{hours:.2f} h of audio, "
        f"{failures} failed, {time.perf_counter() - started:.0f} s -> {args.out / 'manifest.jsonl'}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
