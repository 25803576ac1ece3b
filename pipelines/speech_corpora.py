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


def trim_silence(audio, top_db: float = 30.0):
    """The spoken part of a clip: quiet edges (``top_db`` under its peak) cut."""
    import librosa

    return librosa.effects.trim(audio, top_db=top_db)[0]


def join_clips(rows: list[dict], out_dir: str | os.PathLike, count: int, sample_rate: int, seed: int, words=(2, 4)) -> list[dict]:
    """Connected sequences made of real clips: trimmed words joined by short, quiet gaps.

    Each result row has the joined ``text`` and the true ``words`` with their start and end times,
    known from where each trimmed clip was placed.
    """
    import numpy as np
    import soundfile

    from seqrec.features import coloured_noise, load_audio

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    joined = []
    for n in range(count):
        picks = rng.choice(len(rows), size=int(rng.integers(words[0], words[1] + 1)), replace=False)
        pieces, timed, cursor = [], [], 0
        for index in picks:
            gap = int(sample_rate * rng.uniform(0.15, 0.5))
            speech = trim_silence(load_audio(rows[index]["audio_filepath"], sample_rate))
            pieces += [np.zeros(gap, np.float32), speech]
            timed.append({"word": rows[index]["text"], "start": round((cursor + gap) / sample_rate, 3),
                          "end": round((cursor + gap + len(speech)) / sample_rate, 3)})
            cursor += gap + len(speech)
        tail = int(sample_rate * 0.3)
        audio = np.concatenate([*pieces, np.zeros(tail, np.float32)])
        audio += 10 ** (-60 / 20) * coloured_noise(len(audio), 1.0, rng)  # a room, not digital silence
        path = out_dir / f"connected_{n:04d}.wav"
        soundfile.write(path, audio, sample_rate, subtype="PCM_16")
        joined.append({"audio_filepath": str(path), "duration": round(len(audio) / sample_rate, 3),
                       "text": " ".join(w["word"] for w in timed), "words": timed})
    return joined


def noise_rows(out_dir: str | os.PathLike, count: int, sample_rate: int, seed: int) -> list[dict]:
    """Clips with no speech at all (coloured noise at random levels and lengths), transcript empty."""
    import numpy as np
    import soundfile

    from seqrec.features import coloured_noise

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(count):
        seconds = rng.uniform(0.5, 2.0)
        level_db = rng.uniform(-60, -15)
        audio = 10 ** (level_db / 20) * coloured_noise(int(seconds * sample_rate), rng.uniform(0, 2), rng)
        path = out_dir / f"noise_{n:04d}.wav"
        soundfile.write(path, np.clip(audio, -1, 1), sample_rate, subtype="PCM_16")
        rows.append({"audio_filepath": str(path), "duration": round(seconds, 3), "text": "", "corpus": "noise"})
    return rows
