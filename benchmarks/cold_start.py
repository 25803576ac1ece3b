"""Cold start: the wall time of whole commands, each a fresh process, beside ``python -c pass``.

    python benchmarks/cold_start.py [--runs 5] [--batch-clips 1500] [--no-batch]

Each command runs ``--runs`` times in turn (interleaved, so a slow moment of the machine falls on
all of them alike); the median is reported in seconds and as a multiple of the bare interpreter's
start in the same run. One clip transcribed and one photo recognised run with the default runtime
(ONNX where the bundle has a graph) and with ``--runtime onnx`` and ``--runtime torch`` named.

``seqrec batch transcribe --workers 2`` runs, for each runtime, over ``--batch-clips`` Speech
Commands test clips from ../shared/data (evenly spread over labels.csv), into a new output file
each time; beside its whole wall time, ``startup_median_s`` is the time from the launch to the
first result row in the output file (polled every few milliseconds: the job writes and flushes a
row at a time). Every command runs once before the timed runs, so its files are in the page cache
for all (a batch job over 32 of the clips, after reading every clip once). Prints JSON.

Commands run with Python's bytecode cache on, as an installed seqrec has it (pip compiles every
module when it installs): a shell with ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile
seqrec's modules again at each start, 0.1-0.2 s that no user waits for.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEQREC = str(Path(sys.executable).parent / "seqrec")
CLIP = str(ROOT / "tests" / "data" / "3_jackson_0.wav")
PHOTO = str(ROOT / "tests" / "data" / "hands" / "sign_digit_5_IMG_1123.JPG")
SPEECH_COMMANDS = ROOT.parent / "shared" / "data" / "speech" / "speech_commands"
RUNTIMES = ("onnx", "torch")
BATCH_WORKERS = 2
POLL_SECONDS = 0.005
# The first (untimed) run of each command writes the bytecode cache the timed runs read.
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
WARM_UP_CLIPS = 32
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "seqrec --version": [SEQREC, "--version"],
    "seqrec transcribe --help": [SEQREC, "transcribe", "--help"],
    "seqrec models": [SEQREC, "models"],
    "seqrec transcribe (one clip)": [SEQREC, "transcribe", CLIP],
    "seqrec gestures (one photo)": [SEQREC, "gestures", PHOTO, "--model", "sign-digits"],
    **{
        f"seqrec transcribe (one clip) --runtime {runtime}": [
            SEQREC,
            "transcribe",
            CLIP,
            "--runtime",
            runtime,
        ]
        for runtime in RUNTIMES
    },
    **{
        f"seqrec gestures (one photo) --runtime {runtime}": [
            SEQREC,
            "gestures",
            PHOTO,
            "--model",
            "sign-digits",
            "--runtime",
            runtime,
        ]
        for runtime in RUNTIMES
    },
}


def wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT)
    return time.perf_counter() - started


def write_clips_manifest(clips: int, manifest: Path) -> int:
    """``clips`` Speech Commands test clips, evenly spread over labels.csv (all its words)."""
    with (SPEECH_COMMANDS / "labels.csv").open(newline="") as table:
        paths = sorted(row["path"] for row in csv.DictReader(table))
    step = max(1, len(paths) / clips)
    chosen = [paths[int(i * step)] for i in range(min(clips, len(paths)))]
    with manifest.open("w") as out:
        for path in chosen:
            out.write(json.dumps({"id": path, "audio_filepath": str(SPEECH_COMMANDS / path)}) + "\n")
    return len(chosen)


def batch_command(manifest: Path, output: Path, runtime: str) -> list[str]:
    return [
        SEQREC, "batch", "transcribe", "--input", str(manifest), "--output", str(output),
        "--workers", str(BATCH_WORKERS), "--runtime", runtime, "--quiet",
    ]  # fmt: skip


def batch_seconds(manifest: Path, output: Path, runtime: str) -> tuple[float, float]:
    """Whole wall time of a batch job into a new ``output``, and the time to its first row."""
    for stale in (output, Path(str(output) + ".summary.json")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    job = subprocess.Popen(
        batch_command(manifest, output, runtime),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENVIRONMENT,
    )
    first_row = None
    while job.poll() is None and first_row is None:
        if output.is_file() and b"\n" in output.read_bytes()[:65536]:
            first_row = time.perf_counter() - started
        else:
            time.sleep(POLL_SECONDS)
    job.wait()
    wall = time.perf_counter() - started
    if job.returncode not in (0, 1):  # 1: some clip failed, which the rows say
        raise SystemExit(f"{' '.join(batch_command(manifest, output, runtime))} exited {job.returncode}")
    return wall, wall if first_row is None else first_row


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-clips", type=int, default=1500)
    parser.add_argument("--no-batch", action="store_true", help="leave out the batch jobs")
    args = parser.parse_args()
    batch = not args.no_batch and (SPEECH_COMMANDS / "labels.csv").is_file()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        manifest, warm_up = folder / "clips.jsonl", folder / "warm-up.jsonl"
        if batch:
            clips = write_clips_manifest(args.batch_clips, manifest)
            write_clips_manifest(WARM_UP_CLIPS, warm_up)
            for line in manifest.read_text().splitlines():  # every clip once: in the page cache
                Path(json.loads(line)["audio_filepath"]).read_bytes()
        for command in COMMANDS.values():  # once each first: the files are in the page cache for all
            wall_seconds(command)
        for runtime in RUNTIMES if batch else ():
            batch_seconds(warm_up, folder / "warm-up-out.jsonl", runtime)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        batch_times = {runtime: {"wall": [], "startup": []} for runtime in RUNTIMES if batch}
        for _ in range(args.runs):
            for name, command in COMMANDS.items():
                times[name].append(wall_seconds(command))
            for runtime, found in batch_times.items():
                wall, startup = batch_seconds(manifest, folder / "out.jsonl", runtime)
                found["wall"].append(wall)
                found["startup"].append(startup)
    medians = {name: statistics.median(values) for name, values in times.items()}
    bare = medians["python -c pass"]
    result = {
        name: {"median_s": round(median, 3), "x_python": round(median / bare, 1)}
        for name, median in medians.items()
    }
    for runtime, found in batch_times.items():
        wall = statistics.median(found["wall"])
        result[f"seqrec batch transcribe ({clips} clips, --workers {BATCH_WORKERS}) --runtime {runtime}"] = {
            "median_s": round(wall, 3),
            "x_python": round(wall / bare, 1),
            "startup_median_s": round(statistics.median(found["startup"]), 3),
            # the rows after the first, each run's rate, median: how fast the job goes once started
            "clips_per_second_after_startup": round(
                statistics.median(
                    clips / (w - s) for w, s in zip(found["wall"], found["startup"], strict=True) if w > s
                )
                if any(w > s for w, s in zip(found["wall"], found["startup"], strict=True))
                else 0.0,
                1,
            ),
        }
    print(json.dumps({"runs": args.runs, "commands": result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
