"""Build the `commands` model (work in progress, not shipped yet): prepare data, train, calibrate,
evaluate, package into models/pretrained/commands.

    python scripts/build_commands.py [--shared ../shared] [--synthetic MANIFEST] [--prepare-only | --skip-train]

Training is two stages (configs/commands.yaml under heavy audio augmentation, then
configs/commands-finetune.yaml from its best weights on cached features at a lower rate).
Data: real speech (Speech Commands by speaker, FSDD train takes), the synthetic multi-voice corpus
(`python scripts/make_synthetic_speech.py` first) for the words and sequences real data lack,
out-of-vocabulary words and noise with empty targets (rejection). Each step resumes: the split is
kept in configs/splits/, manifests are rewritten, training resumes from its checkpoint,
evaluation writes runs/commands-finetune/eval/<set>-<decoder>/metrics.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from seqrec.models import DecodeOptions, copy_bundle, read_bundle_config
from seqrec.pipelines import Transcriber
from seqrec.pipelines.ctc_data import keep_vocabulary
from seqrec.pipelines.evaluate import evaluate
from seqrec.pipelines.manifest import read_manifest, write_manifests
from seqrec.pipelines.metrics import error_rates
from seqrec.pipelines.recipe import load_recipe
from seqrec.pipelines.speech_corpora import join_clips, load_speech_corpora, noise_rows
from seqrec.pipelines.training import train

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "configs" / "commands.yaml"
FINETUNE = ROOT / "configs" / "commands-finetune.yaml"  # the second stage starts from the first's best
SPLIT_FILE = ROOT / "configs" / "splits" / "speech_commands_speakers.json"
DATA = ROOT / "data" / "commands"
TARGET = ROOT / "models" / "pretrained" / "commands"
SEED = 20261126


def prepare(shared: Path, synthetic: Path | None, vocabulary: set[str], sample_rate: int) -> dict[str, Path]:
    corpora = load_speech_corpora(shared / "data", SPLIT_FILE)
    synthetic_rows = list(read_manifest(synthetic)) if synthetic else []
    test_clips = corpora.commands_in("test", vocabulary) + corpora.fsdd("test")
    return write_manifests(
        {
            # Out-of-vocabulary clips stay in train and dev: the recipe's vocabulary turns them into empty targets.
            "train": corpora.commands_in("train") + corpora.fsdd("train") + synthetic_rows
            + noise_rows(DATA / "noise", 300, sample_rate, SEED),
            "dev": corpora.commands_in("dev") + corpora.fsdd("dev"),
            "test_speech_commands": corpora.commands_in("test", vocabulary),
            "test_speech_commands_oov": corpora.commands_in("test", vocabulary, in_vocabulary=False),
            "test_fsdd": corpora.fsdd("test"),
            "test_connected": join_clips(test_clips, DATA / "connected", 300, sample_rate, SEED),
        },
        DATA,
    )


# Beam search's per-word bonus counters a model that leans to blank; tried on dev, never on test.
WORD_SCORES = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
# The goal for out-of-vocabulary speech; within it, the lowest WER wins.
MAX_FALSE_ACCEPTS = 0.10


def calibrate_decoding(bundle: Path, dev: Path) -> DecodeOptions:
    """The decode options (greedy or beam, word score, rejection threshold) with the lowest dev WER
    among those whose dev false accept rate stays within ``MAX_FALSE_ACCEPTS``."""
    rows = list(read_manifest(dev))
    vocabulary = tuple(read_bundle_config(bundle)["vocabulary"])
    references = [keep_vocabulary(r["text"], vocabulary) for r in rows]
    candidates = [DecodeOptions()] + [DecodeOptions(method="beam", word_score=score) for score in WORD_SCORES]
    best = ((np.inf, np.inf), None)
    for options in candidates:
        results = list(Transcriber(bundle, decode=options).transcribe_paths(r["audio_filepath"] for r in rows))
        scores = sorted({0.0, *(w["score"] for r in results for w in r.get("words", []))})
        for threshold in scores[:: max(1, len(scores) // 200)]:
            texts = [" ".join(w["word"] for w in r.get("words", []) if w["score"] >= threshold) for r in results]
            speech = [(ref, text) for ref, text in zip(references, texts) if ref]
            silent = [text for ref, text in zip(references, texts) if not ref]
            wer = error_rates([s[0] for s in speech], [s[1] for s in speech])["wer"]
            false_accepts = sum(bool(t) for t in silent) / max(len(silent), 1)
            if false_accepts <= MAX_FALSE_ACCEPTS and (wer, false_accepts) < best[0]:
                best = ((wer, false_accepts), dataclasses.replace(options, rejection_threshold=round(threshold, 4)))
        print(f"{options.method} word_score {options.word_score}: best so far dev WER {best[0][0]:.4f}, false accepts {best[0][1]:.4f}", flush=True)
    print(f"decoding: {best[1]}")
    return best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared/ folder holding data/")
    parser.add_argument("--synthetic", type=Path, default=ROOT / "data" / "synthetic-speech" / "manifest.jsonl")
    parser.add_argument("--prepare-only", action="store_true", help="write the manifests and stop")
    parser.add_argument("--skip-train", action="store_true", help="calibrate, evaluate and package the existing best bundle")
    args = parser.parse_args()

    recipe = load_recipe(RECIPE)
    synthetic = args.synthetic if args.synthetic.is_file() else None
    if synthetic is None:
        print(f"no synthetic corpus at {args.synthetic}: training on real speech only")
    manifests = prepare(args.shared, synthetic, set(recipe.vocabulary), recipe.features.sample_rate)
    if args.prepare_only:
        return 0
    finetune = load_recipe(FINETUNE)
    if not args.skip_train:
        train(recipe)
        train(finetune)
    best = finetune.run_dir / "best"

    config = read_bundle_config(best)
    config["decode"] = dataclasses.asdict(calibrate_decoding(best, manifests["dev"]))
    (best / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    metrics = {}
    for name in ("test_fsdd", "test_speech_commands", "test_speech_commands_oov", "test_connected"):
        for method in ("greedy", "beam"):
            decode = dataclasses.replace(DecodeOptions(**config["decode"]), method=method)
            result = evaluate(best, manifests[name], finetune.run_dir / "eval" / f"{name}-{method}", decode=decode)
            result["manifest"] = str(manifests[name].relative_to(ROOT))
            del result["model"]  # the packaged bundle is the model; the run folder is not shipped
            metrics[f"{name}/{method}"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
            shown = ("wer", "false_accept_rate", "word_start_error", "utterances", "errors")
            print(f"{name}/{method}", json.dumps({k: result[k] for k in shown if k in result}))
    config["metrics"].update(metrics)
    copy_bundle(best, TARGET, config)
    print(f"packaged {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
