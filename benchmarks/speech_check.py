"""How often the "no speech" check (``features/audio/speech_check.py``) speaks: on real speech it
must never, on audio that cannot hold speech it always should.

    python benchmarks/speech_check.py [--sets dev,test] [--per-kind 24]

Real speech: the manifests scripts/build_digits_commands.py and build_commands.py write (dev:
data/digits-commands/dev.jsonl, where the thresholds may be tuned; test: the Speech Commands
in- and out-of-vocabulary, FSDD and connected test clips of digits-commands, and the connected
test clips of commands), each clip decoded as both shipped models decode it (16 kHz and 8 kHz).
Non-speech, generated: silence, a DC offset, tones at 1, 50, 440 and 1000 Hz, white and pink
noise, random bytes decoded as unsigned 8-bit audio and as an ``.au`` file (what the library makes
of random bytes with that name), at random lengths (0.2-3 s) and levels (-50 to -6 dBFS); brown
noise is measured too but is not a goal. Prints one JSON object: per set and rate, how many clips
get a note (the goal: none of any speech set, all of every non-speech kind but brown noise) and
which notes.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from seqrec.features import InputError, coloured_noise, load_audio
from seqrec.features.audio import speech_check
from seqrec.features.audio.speech_check import why_not_speech
from seqrec.pipelines.core.manifest import read_manifest

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "dev": ["digits-commands/dev.jsonl"],
    "test": [
        "digits-commands/test_speech_commands.jsonl",
        "digits-commands/test_speech_commands_oov.jsonl",
        "digits-commands/test_fsdd.jsonl",
        "digits-commands/test_connected.jsonl",
        "commands/test_connected.jsonl",
    ],
}
RATES = (16_000, 8_000)  # digits-commands, commands
KINDS = (
    "silence",
    "dc",
    "tone_1hz",
    "tone_50hz",
    "tone_440hz",
    "tone_1000hz",
    "white_noise",
    "pink_noise",
    "random_bytes_u8",
    "random_bytes_au",
    "brown_noise",
)
NOT_A_GOAL = {"brown_noise"}


def count_notes(notes: list[str | None], errors: int = 0) -> dict:
    # "no speech: a steady tone at 440 Hz" counts as "a steady tone", a DC offset's level is left out.
    kinds = collections.Counter(
        re.sub(r" at .*| \(.*\)", "", note.split(": ", 1)[1]) for note in notes if note
    )
    row = {"clips": len(notes), "noted": sum(1 for note in notes if note), "notes": dict(kinds)}
    if errors:
        row["unreadable"] = errors
    return row


def speech_sets(names: list[str]) -> dict:
    result = {}
    for name in names:
        for manifest in SETS[name]:
            rows = list(read_manifest(ROOT / "data" / manifest))
            for rate in RATES:
                notes = [why_not_speech(load_audio(row["audio_filepath"], rate), rate) for row in rows]
                result[f"{manifest.removesuffix('.jsonl')}@{rate}"] = count_notes(notes)
                noted = [row["audio_filepath"] for row, note in zip(rows, notes, strict=True) if note]
                if noted:
                    result[f"{manifest.removesuffix('.jsonl')}@{rate}"]["noted_clips"] = noted[:20]
    return result


def non_speech(kind: str, rate: int, rng: np.random.Generator, folder: Path) -> np.ndarray:
    """One clip of ``kind`` at ``rate``, at a random length and level."""
    n = int(rng.uniform(0.2, 3.0) * rate)
    level = 10 ** (rng.uniform(-50, -6) / 20)
    t = np.arange(n) / rate
    if kind == "silence":
        return np.zeros(n, np.float32)
    if kind == "dc":
        return np.full(n, level * rng.choice([-1, 1]), np.float32)
    if kind.startswith("tone_"):
        frequency = float(kind.removeprefix("tone_").removesuffix("hz"))
        return (level * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi))).astype(np.float32)
    if kind in ("white_noise", "pink_noise", "brown_noise"):
        exponent = {"white_noise": 0.0, "pink_noise": 1.0, "brown_noise": 2.0}[kind]
        noise = coloured_noise(n, exponent, rng)
        return (level * noise / np.max(np.abs(noise))).astype(np.float32)
    if kind == "random_bytes_u8":
        return ((rng.integers(0, 256, n) - 128) / 128).astype(np.float32)
    if kind == "random_bytes_au":
        path = folder / f"random_{rng.integers(1 << 30)}.au"
        path.write_bytes(rng.bytes(n))
        return load_audio(path, rate)
    raise ValueError(kind)


def non_speech_sets(per_kind: int, seed: int) -> dict:
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in KINDS:
            for rate in RATES:
                rng = np.random.default_rng([seed, rate, KINDS.index(kind)])
                notes, errors = [], 0
                for _ in range(per_kind):
                    try:
                        audio = non_speech(kind, rate, rng, Path(folder))
                    except InputError:  # random bytes that are no audio at all: refused, not guessed at
                        errors += 1
                        continue
                    notes.append(why_not_speech(audio, rate))
                result[f"{kind}@{rate}"] = count_notes(notes, errors)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default="dev,test", help="real speech: dev, test or dev,test")
    parser.add_argument(
        "--per-kind", type=int, default=24, help="generated clips per non-speech kind and rate"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    names = [name for name in args.sets.split(",") if name]
    for name in names:
        if name not in SETS:
            raise SystemExit(f"--sets: {name!r} is not one of {', '.join(SETS)}")

    started = time.perf_counter()
    speech = speech_sets(names)
    generated = non_speech_sets(args.per_kind, args.seed)
    goal_met = all(row["noted"] == 0 for row in speech.values()) and all(
        row["noted"] == row["clips"] for key, row in generated.items() if key.split("@")[0] not in NOT_A_GOAL
    )
    thresholds = {
        name: getattr(speech_check, name)
        for name in (
            "SILENCE_DB",
            "SPEECH_BAND",
            "MIN_BAND_SHARE",
            "MAX_STEADY_SPREAD_DB",
            "MAX_STEADY_VARIATION_DB",
            "MIN_TONE_SHARE",
            "MIN_NOISE_FLATNESS",
            "MIN_SECONDS",
            "QUIET_DB",
            "QUIET_TO_DB",
        )
    }
    report = {
        "goal_met": goal_met,
        "speech": speech,
        "non_speech": generated,
        "thresholds": thresholds,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(compact_json(report))
    return 0 if goal_met else 1


def compact_json(report: dict) -> str:
    """JSON with one line per set (or threshold), so the whole report reads at a glance."""
    parts = []
    for key, value in report.items():
        if isinstance(value, dict):
            rows = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items())
            parts.append(f"  {json.dumps(key)}: {{\n{rows}\n  }}")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}"


if __name__ == "__main__":
    raise SystemExit(main())
