"""How much a model's WER depends on what surrounds the words: the same clips alone, framed by
0.15 s of digital silence, framed by 0.15 s of low white noise (-66 dBFS, as the long-file
benchmark's pauses), and joined into a 10-minute file that the long-file path cuts at pauses.

    python benchmarks/context_robustness.py [--model NAME|PATH] [--split dev|test] [--minutes 10]

A segmenter or a stream hands the model words framed as they come, not as a dataset's clips
frame them; per-utterance feature normalisation makes the model see that framing. The clips are
the split's Speech Commands and FSDD manifests that scripts/build_digits_commands.py writes
(dev: dev.jsonl; test: test_speech_commands.jsonl and test_fsdd.jsonl). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from long_audio import write_joined  # this script's folder is on sys.path when it runs

from seqrec.features import load_audio
from seqrec.models import DEFAULT_SPEECH_MODEL
from seqrec.pipelines import Transcriber
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import error_rates

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "digits-commands"
MANIFESTS = {"dev": ["dev.jsonl"], "test": ["test_speech_commands.jsonl", "test_fsdd.jsonl"]}
FRAME_SECONDS = 0.15  # the segmenter's padding (VadConfig.padding)
NOISE_RMS = 5e-4


def framed(clip: np.ndarray, side: np.ndarray) -> np.ndarray:
    return np.concatenate([side, clip, side])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--split", choices=sorted(MANIFESTS), default="dev")
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()

    rows = [row for name in MANIFESTS[args.split] for row in read_manifest(DATA / name)]
    transcriber = Transcriber(args.model, device="cpu")
    rate = transcriber.sample_rate
    clips = [load_audio(row["audio_filepath"], rate) for row in rows]
    references = [row["text"] for row in rows]
    n = int(FRAME_SECONDS * rate)
    rng = np.random.default_rng(0)
    silence = np.zeros(n, np.float32)
    framings = {
        "alone": lambda clip: clip,
        "digital_silence": lambda clip: framed(clip, silence),
        "low_noise": lambda clip: framed(clip, (rng.standard_normal(n) * NOISE_RMS).astype(np.float32)),
    }
    result = {"model": str(args.model), "split": args.split, "clips": len(rows)}
    for name, frame in framings.items():
        hypotheses = [transcriber.transcribe_array(frame(clip), rate)["text"] for clip in clips]
        result[f"wer_{name}"] = round(error_rates(references, hypotheses)["wer"], 4)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "joined.wav"
        placed = write_joined(rows, args.minutes * 60, path, seed=0)
        record = next(transcriber.transcribe_paths([str(path)]))
    result["wer_joined_file"] = round(
        error_rates([" ".join(row["text"] for row in placed)], [record["text"]])["wer"], 4
    )
    result["joined_file_clips"] = len(placed)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
