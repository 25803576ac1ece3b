"""One long recording: speed, memory and WER of the long-file path, against the same clips alone.

    python benchmarks/long_audio.py [MANIFEST ...] [--minutes 60] [--model NAME|PATH] [--seed 0]

The recording is real test clips drawn at random (the Speech Commands and FSDD test manifests that
scripts/build_commands.py writes, else tests/data) and joined with pauses of low noise,
written block by block to a 16 kHz WAV in a temporary folder. A fresh process loads the model,
notes its memory, and transcribes the file (cut into utterances at pauses, in bounded memory);
a second pass decodes and segments it alone, to count the utterances and time that part. The
baseline in the same run: every distinct clip transcribed on its own (the short-file path), its
transcripts joined in the file's order. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from seqrec.features import StreamingSegmenter, load_audio, stream_audio
from seqrec.models import DEFAULT_SPEECH_MODEL, read_bundle_config
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.speech.long_audio import FILE_BLOCK_SECONDS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFESTS = [
    ROOT / "data/commands/test_speech_commands.jsonl",
    ROOT / "data/commands/test_fsdd.jsonl",
]
SAMPLE_RATE = 16_000  # of the file written; the model's pipeline resamples it as it reads
GAP_SECONDS = (0.5, 1.5)
GAP_NOISE = 5e-4  # RMS of the pauses, about -66 dBFS: a quiet room, not digital silence

# Runs in a fresh interpreter, so nothing the parent built counts towards its memory.
TRANSCRIBE = """
import json, resource, sys, time
from seqrec.pipelines import Transcriber

def resident_mb():
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    except OSError:  # not Linux: the peak so far is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

transcriber = Transcriber(sys.argv[1], device="cpu")
next(transcriber.transcribe_paths([sys.argv[3]]))  # warm-up on one clip: lazy imports, allocator
baseline = resident_mb()
started = time.perf_counter()
record = next(transcriber.transcribe_paths([sys.argv[2]]))
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(
    {"record": record, "seconds": seconds, "rss_after_model_load_mb": baseline, "peak_rss_mb": peak}
))
"""


def clip_rows(manifests: list[Path]) -> list[dict]:
    """Rows with ``audio_filepath`` (absolute) and ``text``: the given manifests, the default ones,
    or tests/data."""
    manifests = (
        manifests or [m for m in DEFAULT_MANIFESTS if m.is_file()] or [ROOT / "tests/data/manifest.jsonl"]
    )
    return [row for manifest in manifests for row in read_manifest(manifest)]


def write_joined(rows: list[dict], seconds: float, path: Path, seed: int) -> list[dict]:
    """Clips drawn from ``rows`` with a pause before each until ``seconds`` are written to ``path``.

    Returns the rows in the order they were placed, each with its ``start`` in the file.
    """
    rng = np.random.default_rng(seed)
    cache: dict[str, np.ndarray] = {}
    placed, written = [], 0
    total = int(seconds * SAMPLE_RATE)
    with soundfile.SoundFile(str(path), "w", SAMPLE_RATE, 1, subtype="PCM_16") as out:
        while written < total:
            row = rows[int(rng.integers(len(rows)))]
            if row["audio_filepath"] not in cache:
                cache[row["audio_filepath"]] = load_audio(row["audio_filepath"], SAMPLE_RATE)
            clip = cache[row["audio_filepath"]]
            gap = int(rng.uniform(*GAP_SECONDS) * SAMPLE_RATE)
            if written + gap + clip.size > total:
                break
            out.write(rng.standard_normal(gap).astype(np.float32) * GAP_NOISE)
            out.write(clip)
            placed.append({**row, "start": round((written + gap) / SAMPLE_RATE, 3)})
            written += gap + clip.size
        out.write(rng.standard_normal(total - written).astype(np.float32) * GAP_NOISE)
    return placed


def count_segments(path: Path, model: str) -> tuple[int, float]:
    """Utterances the long-file path cuts the file into, and the seconds decoding and cutting take."""
    rate = read_bundle_config(model)["features"]["sample_rate"]  # the path decodes at the model's rate
    started = time.perf_counter()
    count = sum(1 for _ in StreamingSegmenter(rate).segments(stream_audio(path, rate, FILE_BLOCK_SECONDS)))
    return count, time.perf_counter() - started


def clips_alone(model: str, placed: list[dict]) -> dict:
    """The baseline: each distinct clip transcribed on its own, its text repeated where it was placed."""
    from seqrec.pipelines import Transcriber

    distinct = sorted({row["audio_filepath"] for row in placed})
    transcriber = Transcriber(model, device="cpu")
    started = time.perf_counter()
    texts = {record["path"]: record.get("text", "") for record in transcriber.transcribe_paths(distinct)}
    seconds = time.perf_counter() - started
    hypothesis = " ".join(texts[row["audio_filepath"]] for row in placed)
    return {"clips": len(distinct), "seconds": round(seconds, 2), "hypothesis": hypothesis}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = clip_rows(args.manifests)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long.wav"
        placed = write_joined(rows, args.minutes * 60, path, args.seed)
        done = subprocess.run(
            [sys.executable, "-c", TRANSCRIBE, args.model, str(path), placed[0]["audio_filepath"]],
            capture_output=True,
            text=True,
            check=True,
        )
        run = json.loads(done.stdout.splitlines()[-1])
        segments, segment_seconds = count_segments(path, args.model)
    record = run["record"]
    if "error" in record:
        print(json.dumps({"error": record["error"]}))
        return 1
    reference = " ".join(row["text"] for row in placed)
    alone = clips_alone(args.model, placed)
    result = {
        "audio_seconds": record["duration"],
        "clips": len(placed),
        "segments": segments,
        "wall_seconds": round(run["seconds"], 2),
        "x_real_time": round(record["duration"] / run["seconds"], 1),
        "decode_and_segment_seconds": round(segment_seconds, 2),
        "rss_after_model_load_mb": round(run["rss_after_model_load_mb"], 1),
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "long_file": _rates(reference, record["text"]),
        "clips_alone": {**_rates(reference, alone.pop("hypothesis")), **alone},
    }
    print(json.dumps(result, indent=2))
    return 0


def _rates(reference: str, hypothesis: str) -> dict:
    rates = error_rates([reference], [hypothesis])
    return {
        key: round(rates[key], 4) if isinstance(rates[key], float) else rates[key]
        for key in ("wer", "cer", "substitutions", "deletions", "insertions")
    }


if __name__ == "__main__":
    sys.exit(main())
