"""Cold start: the wall time of whole commands, each a fresh process, beside ``python -c pass``.

    python benchmarks/cold_start.py [--runs 5]

Each command runs ``--runs`` times in turn (interleaved, so a slow moment of the machine falls on
all of them alike); the median is reported in seconds and as a multiple of the bare interpreter's
start in the same run. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEQREC = str(Path(sys.executable).parent / "seqrec")
CLIP = str(ROOT / "tests" / "data" / "3_jackson_0.wav")
PHOTO = str(ROOT / "tests" / "data" / "hands" / "sign_digit_5_IMG_1123.JPG")
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "seqrec --version": [SEQREC, "--version"],
    "seqrec transcribe --help": [SEQREC, "transcribe", "--help"],
    "seqrec models": [SEQREC, "models"],
    "seqrec transcribe (one clip)": [SEQREC, "transcribe", CLIP],
    "seqrec gestures (one photo)": [SEQREC, "gestures", PHOTO, "--model", "sign-digits"],
}


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for command in COMMANDS.values():  # once each first: the files are in the page cache for all
        wall_seconds(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(wall_seconds(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare = medians["python -c pass"]
    result = {
        name: {"median_s": round(median, 3), "x_python": round(median / bare, 1)}
        for name, median in medians.items()
    }
    print(json.dumps({"runs": args.runs, "commands": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
