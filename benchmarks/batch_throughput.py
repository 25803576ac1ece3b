"""``seqrec batch transcribe`` speed: 1 worker, 2 workers and Ray (2 actors), steady state and start-up apart.

    python benchmarks/batch_throughput.py [--data ../shared/data/speech] [--minutes 10] [--rounds 1]

Inputs: every FSDD recording and Speech Commands clip under ``--data`` (references from FSDD's
file names and Speech Commands' labels.csv), repeated under new ids until they last at least
``--minutes``. Each engine runs the same command in a fresh process. Steady state is the rate
from the job's first result row to its last (from its summary); start-up is the time from the
command's start to its first row (imports, workers starting, models loading, the first batch).
``cpu_seconds`` (local engines) is the CPU time the job used: on a machine shared with other
work, it shows whether 2 workers cost more per input than 1, apart from how many cores were free.
With ``--rounds N`` the engines take turns N times and the median is reported, so a machine
whose load changes meanwhile weighs on each alike. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile

ROOT = Path(__file__).resolve().parent.parent
SEQREC = Path(sys.executable).with_name("seqrec")
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ENGINES = {
    "local_1_worker": ["--workers", "1"],
    "local_2_workers": ["--workers", "2"],
    "ray_2_actors": ["--engine", "ray", "--workers", "2"],
}


def corpus_rows(data: Path) -> list[dict]:
    """FSDD recordings and Speech Commands clips as manifest rows with references and durations."""
    rows = []
    for path in sorted((data / "fsdd" / "recordings").glob("*.wav")):
        rows.append({"audio_filepath": str(path), "text": DIGIT_WORDS[int(path.name[0])], "source": "fsdd"})
    commands = data / "speech_commands"
    with (commands / "labels.csv").open(newline="") as table:
        for row in csv.DictReader(table):
            rows.append(
                {
                    "audio_filepath": str(commands / row["path"]),
                    "text": row["label"],
                    "source": "speech_commands",
                }
            )
    for row in rows:
        row["duration"] = soundfile.info(row["audio_filepath"]).duration
    return rows


def write_job(rows: list[dict], minutes: float, manifest: Path) -> dict:
    """The rows repeated (with new ids) until they last ``minutes``; what the job holds."""
    seconds = sum(row["duration"] for row in rows)
    repeats = max(1, math.ceil(minutes * 60 / seconds))
    with manifest.open("w") as out:
        for k in range(repeats):
            for row in rows:
                name = (
                    Path(row["audio_filepath"]).relative_to(Path(row["audio_filepath"]).parents[1]).as_posix()
                )
                out.write(json.dumps({"id": f"{k}/{row['source']}/{name}", **row}) + "\n")
    return {
        "items": repeats * len(rows),
        "audio_minutes": round(repeats * seconds / 60, 1),
        "repeats": repeats,
    }


def run_engine(manifest: Path, output: Path, engine_args: list[str]) -> dict:
    command = [
        str(SEQREC),
        "batch",
        "transcribe",
        "--input",
        str(manifest),
        "--output",
        str(output),
        "--quiet",
        *engine_args,
    ]
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    cpu = _children_cpu_seconds() - cpu_before
    summary = json.loads(Path(str(output) + ".summary.json").read_text())
    timing = summary["timing"]
    after_first_row = timing["seconds"] - timing["startup_seconds"]
    return {
        "steady_items_per_second": timing["steady_items_per_second"],
        "steady_x_real_time": timing["steady_x_real_time"],
        "startup_seconds": round(wall - after_first_row, 2),
        "wall_seconds": round(wall, 2),
        # CPU time of the job and the workers it waited for: the work, whatever else the machine runs.
        # Ray's workers belong to its raylet, not to the job, so this is for the local engine only.
        "cpu_seconds": None if "ray" in engine_args else round(cpu, 2),
        "wer": round(summary["metrics"]["wer"], 4),
        "failed": summary["failed"],
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rows_equal(a: Path, b: Path) -> bool:
    """Same ids, same text, scores within 1e-6."""
    rows_a = {row["id"]: row for row in map(json.loads, a.read_text().splitlines())}
    rows_b = {row["id"]: row for row in map(json.loads, b.read_text().splitlines())}
    return rows_a.keys() == rows_b.keys() and all(
        rows_a[k].get("text") == rows_b[k].get("text")
        and abs(rows_a[k].get("score", 0) - rows_b[k].get("score", 0)) <= 1e-6
        for k in rows_a
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "speech")
    parser.add_argument("--minutes", type=float, default=10.0, help="the least audio the job holds")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        job = write_job(corpus_rows(args.data), args.minutes, folder / "job.jsonl")
        runs: dict[str, list[dict]] = {name: [] for name in ENGINES}
        for round_ in range(args.rounds):
            for name, engine_args in ENGINES.items():
                output = folder / f"{name}-{round_}.jsonl"
                runs[name].append(run_engine(folder / "job.jsonl", output, engine_args))
        equal = rows_equal(folder / "local_2_workers-0.jsonl", folder / "ray_2_actors-0.jsonl")
    results = {
        name: {
            key: None if done[0][key] is None else statistics.median(run[key] for run in done)
            for key in done[0]
        }
        for name, done in runs.items()
    }
    one, two, ray = (results[name]["steady_items_per_second"] for name in ENGINES)
    print(
        json.dumps(
            {
                "job": job,
                "engines": results,
                "speedup_2_workers_over_1": round(two / one, 2),
                "ray_slower_than_local_2_workers": round(1 - ray / two, 3),
                "ray_rows_equal_local_rows": equal,
                "rounds": args.rounds,
                "nproc": len(os.sched_getaffinity(0)),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
