"""Spectral features against librosa's own per-call path, on the same clips in one process.

    python benchmarks/feature_speed.py [MANIFEST ...] [--repeat 3] [--sample-rate 16000]

Default input: the Speech Commands test manifest that scripts/build_commands.py writes, else the
clips in tests/data. Both sides get the same decoded audio; the baseline is ``librosa_features``:
librosa.feature.melspectrogram → power_to_db → mfcc → delta (×2) → cmvn, the chain seqrec's
features reproduce (tests/test_spectral.py holds them equal). seqrec is timed both per call
(``spectral_features``) and as its pipeline computes a batch of 32 (``spectral_features_batch``,
which computes clips of equal length together). Prints one JSON object: clips per second for each,
best of ``--repeat`` passes after a warm-up, and the ratios to librosa.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from seqrec.features import (
    SpectralConfig,
    find_audio_files,
    load_audio,
    spectral_features,
    spectral_features_batch,
)
from seqrec.features.audio.spectral import librosa_features
from seqrec.pipelines.core.manifest import read_manifest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT / "data/commands/test_speech_commands.jsonl"


def clips_per_second(compute, clips: list[np.ndarray], config: SpectralConfig, repeat: int) -> float:
    compute(clips[0], config)  # warm-up: lazy imports and cached filterbanks
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for audio in clips:
            compute(audio, config)
        best = min(best, time.perf_counter() - started)
    return len(clips) / best


def batched_clips_per_second(
    clips: list[np.ndarray], config: SpectralConfig, repeat: int, batch_size: int = 32
) -> float:
    """As the speech pipeline computes features: ``spectral_features_batch`` over each batch."""
    spectral_features_batch(clips[:1], config)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for start in range(0, len(clips), batch_size):
            spectral_features_batch(clips[start : start + batch_size], config)
        best = min(best, time.perf_counter() - started)
    return len(clips) / best


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample-rate", type=int, default=16000)
    args = parser.parse_args()

    manifests = args.manifests or ([DEFAULT_MANIFEST] if DEFAULT_MANIFEST.is_file() else [])
    paths = [row["audio_filepath"] for m in manifests for row in read_manifest(m)] or find_audio_files(
        ROOT / "tests" / "data"
    )
    config = SpectralConfig(sample_rate=args.sample_rate, fmax=args.sample_rate / 2)
    clips = [load_audio(path, config.sample_rate) for path in paths]
    ours = clips_per_second(spectral_features, clips, config, args.repeat)
    batched = batched_clips_per_second(clips, config, args.repeat)
    baseline = clips_per_second(librosa_features, clips, config, args.repeat)
    result = {
        "clips": len(clips),
        "audio_seconds": round(sum(c.size for c in clips) / config.sample_rate, 1),
        "sample_rate": config.sample_rate,
        "seqrec_clips_per_second": round(ours, 1),
        "seqrec_batched_clips_per_second": round(batched, 1),
        "librosa_clips_per_second": round(baseline, 1),
        "speed_ratio": round(ours / baseline, 2),
        "batched_speed_ratio": round(batched / baseline, 2),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
