"""Rebuild the bundled `digits-commands` model: prepare data, train, evaluate, copy into the package.

    python scripts/build_digits_commands.py [--shared ../shared] [--skip-train]

Training is two stages on the same real speech: configs/digits-commands-real.yaml (speed
perturbation, cached features), then configs/digits-commands.yaml from its best weights, with
the clips also padded with quiet noise (the shipped model).
scripts/build_commands.py writes the same manifests: commands' stage 1 trains on them.
Each step resumes: the split is kept in configs/splits/, manifests are rewritten, training resumes
from its checkpoint, evaluation writes runs/digits-commands/eval/<set>/metrics.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from seqrec.models import DecodeOptions, copy_bundle, read_bundle_config
from seqrec.models.onnx_export import export_bundle
from seqrec.pipelines.batch.evaluate import evaluate
from seqrec.pipelines.core.manifest import write_manifests
from seqrec.pipelines.recipes import load_recipe
from seqrec.pipelines.speech.corpora import join_clips, load_speech_corpora
from seqrec.pipelines.speech.training import train

ROOT = Path(__file__).resolve().parent.parent
STAGE_ONE_RECIPE = ROOT / "configs" / "digits-commands-real.yaml"
RECIPE = ROOT / "configs" / "digits-commands.yaml"  # stage 2, from stage 1's best weights
SPLIT_FILE = ROOT / "configs" / "splits" / "speech_commands_speakers.json"
DATA = ROOT / "data" / "digits-commands"
TARGET = ROOT / "models" / "pretrained" / "digits-commands"
# Seeds the joined test sequences; scripts/build_commands.py joins its own with it too.
SEED = 20261126
TEST_SETS = ("test_fsdd", "test_speech_commands", "test_speech_commands_oov", "test_connected")


def prepare(shared: Path, vocabulary: set[str], sample_rate: int) -> dict[str, Path]:
    corpora = load_speech_corpora(shared / "data", SPLIT_FILE)
    test_clips = corpora.commands_in("test", vocabulary) + corpora.fsdd("test")
    return write_manifests(
        {
            "train": corpora.commands_in("train", vocabulary) + corpora.fsdd("train"),
            "dev": corpora.commands_in("dev", vocabulary) + corpora.fsdd("dev"),
            "test_speech_commands": corpora.commands_in("test", vocabulary),
            "test_speech_commands_oov": corpora.commands_in("test", vocabulary, in_vocabulary=False),
            "test_fsdd": corpora.fsdd("test"),
            "test_connected": join_clips(test_clips, DATA / "connected", 300, sample_rate, SEED),
        },
        DATA,
    )


def measure(bundle: Path, manifest: Path, out_dir: Path, decode: DecodeOptions, label: str) -> dict:
    """``bundle``'s figures on one test manifest as a packaged bundle keeps them (rounded, the
    manifest named from the repository root, no run folder), printed as they come."""
    result = evaluate(bundle, manifest, out_dir, decode=decode)
    result["manifest"] = str(manifest.relative_to(ROOT))
    del result["model"]  # the packaged bundle is the model; the run folder is not shipped
    shown = ("wer", "false_accept_rate", "word_start_error", "utterances", "errors")
    print(label, json.dumps({k: result[k] for k in shown if k in result}), flush=True)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared", type=Path, default=ROOT.parent / "shared", help="the shared/ folder holding data/"
    )
    parser.add_argument(
        "--skip-train", action="store_true", help="evaluate and package the existing best bundle"
    )
    args = parser.parse_args()

    recipe = load_recipe(RECIPE)
    manifests = prepare(args.shared, set(recipe.vocabulary), recipe.features.sample_rate)
    if not args.skip_train:
        train(load_recipe(STAGE_ONE_RECIPE))
        train(recipe)
    best = recipe.run_dir / "best"
    config = read_bundle_config(best)
    # The recipe's decoding (chosen on dev) is what the bundle ships, also for weights trained before it.
    config["decode"] = dataclasses.asdict(recipe.decode)
    config["metrics"].update(
        {
            name: measure(best, manifests[name], recipe.run_dir / "eval" / name, recipe.decode, name)
            for name in TEST_SETS
        }
    )
    # The bundle speaks for the recipe file (a run may have been started from a copy of it).
    config["name"], config["description"] = recipe.name, recipe.description
    copy_bundle(best, TARGET, config)
    export_bundle(TARGET, TARGET)  # the ONNX graph the light runtime runs ships with the weights
    print(f"packaged {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
