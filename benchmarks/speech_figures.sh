#!/usr/bin/env bash
# Every published speech figure, in one go, on an otherwise idle machine (about 28 minutes on 2 cores).
# Needs the data that scripts/build_commands.py prepares and `pip install -e '.[lm,bench]'`.
#   bash benchmarks/speech_figures.sh [OUT]     (default OUT: runs/figures)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/figures}
mkdir -p "$out"
bin=.venv/bin
$bin/seqrec models | tee "$out/models.txt"
for decoder in greedy beam; do
    $bin/seqrec transcribe tests/data/samples --format jsonl --decoder "$decoder" | tee "$out/samples-$decoder.jsonl"
done
$bin/python benchmarks/feature_speed.py | tee "$out/feature_speed.json"
$bin/python benchmarks/transcribe_throughput.py | tee "$out/throughput.json"
$bin/python benchmarks/pocketsphinx_race.py --repeat 3 --out "$out/pocketsphinx_race.json" > /dev/null
$bin/python benchmarks/long_audio.py --minutes 60 | tee "$out/long_audio.json"
$bin/python benchmarks/stream_latency.py --seconds 120 | tee "$out/stream_latency.json"
$bin/python benchmarks/context_robustness.py --split test | tee "$out/context_robustness.json"
$bin/python benchmarks/context_robustness.py --split test --model commands | tee "$out/context_robustness_commands.json"
# The README's cross rows: each model on the other's connected test sequences (16 kHz and 8 kHz joins).
$bin/seqrec evaluate data/digits-commands/test_connected.jsonl --model commands --out "$out/commands_on_connected_16k" > /dev/null
$bin/seqrec evaluate data/commands/test_connected.jsonl --model digits-commands --out "$out/digits_commands_on_connected_8k" > /dev/null
# What rejection costs `commands`: the lowest WER at each number of out-of-vocabulary clips accepted.
for split in dev test; do
    $bin/python benchmarks/rejection_curve.py --split "$split" > "$out/rejection_curve_$split.json"
done
