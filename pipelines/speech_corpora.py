"""Readers for speech corpora people already have, as NeMo-style manifest rows."""
from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# FSDD's official split: takes 0-4 of every speaker and digit are the test set.
FSDD_TEST_TAKES = range(0, 5)
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def fsdd_rows(recordings: str | os.PathLike) -> list[dict]:
    """Free Spoken Digit Dataset files ``{digit}_{speaker}_{take}.wav`` -> rows with the digit as a word."""
    import soundfile

    rows = []
    for path in sorted(Path(recordings).glob("*.wav")):
        match = _FSDD_NAME.match(path.name)
        if not match:
            continue
        digit, speaker, take = match.groups()
        info = soundfile.info(str(path))
        rows.append(
            {
                "audio_filepath": str(path),
                "duration": round(info.frames / info.samplerate, 3),
                "text": DIGIT_WORDS[int(digit)],
                "speaker": speaker,
                "take": int(take),
                "corpus": "fsdd",
            }
        )
    return rows


def speech_commands_rows(root: str | os.PathLike) -> list[dict]:
    """Speech Commands clips listed in ``labels.csv`` (path, label, speaker, num_samples; 16 kHz)."""
    root = Path(root)
    with (root / "labels.csv").open(newline="") as table:
        return [
            {
                "audio_filepath": str(root / row["path"]),
                "duration": round(int(row["num_samples"]) / 16_000, 3),
                "text": row["label"],
                "speaker": row["speaker"],
                "corpus": "speech_commands",
            }
            for row in csv.DictReader(table)
        ]


def split_speakers(speakers: list[str], fractions: dict[str, float], salt: str) -> dict[str, list[str]]:
    """Split speakers (not clips) by the given fractions, in an order fixed by a hash of each id.

    The same speakers always land in the same split, and no speaker is in two splits.
    """
    ordered = sorted(set(speakers), key=lambda s: hashlib.sha256(f"{salt}:{s}".encode()).hexdigest())
    total = sum(fractions.values())
    split, start, cumulative = {}, 0, 0.0
    for name, fraction in fractions.items():
        cumulative += fraction
        end = round(len(ordered) * cumulative / total)
        split[name] = sorted(ordered[start:end])
        start = end
    return split
