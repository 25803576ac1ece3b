"""Rebuild the bundled `digits-commands` model: prepare data, train, evaluate, copy into the package.

    python scripts/build_digits_commands.py [--shared ../shared] [--skip-train]

Each step resumes: the split is kept in configs/splits/, manifests are rewritten, training resumes
from its checkpoint, evaluation writes runs/digits-commands/eval/<set>/metrics.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqrec.models import copy_bundle, read_bundle_config
from seqrec.pipelines.evaluate import evaluate
from seqrec.pipelines.manifest import write_manifests
from seqrec.pipelines.recipe import load_recipe
from seqrec.pipelines.speech_corpora import load_speech_corpora
from seqrec.pipelines.training import train

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "configs" / "digits-commands.yaml"
SPLIT_FILE = ROOT / "configs" / "splits" / "speech_commands_speakers.json"
DATA = ROOT / "data" / "digits-commands"
TARGET = ROOT / "models" / "pretrained" / "digits-commands"


def prepare(shared: Path, vocabulary: set[str]) -> dict[str, Path]:
    corpora = load_speech_corpora(shared / "data", SPLIT_FILE)
    return write_manifests(
        {
            "train": corpora.commands_in("train", vocabulary) + corpora.fsdd("train"),
            "dev": corpora.commands_in("dev", vocabulary) + corpora.fsdd("dev"),
            "test_speech_commands": corpora.commands_in("test", vocabulary),
            "test_speech_commands_oov": corpora.commands_in("test", vocabulary, in_vocabulary=False),
            "test_fsdd": corpora.fsdd("test"),
        },
        DATA,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared/ folder holding data/")
    parser.add_argument("--skip-train", action="store_true", help="evaluate and package the existing best bundle")
    args = parser.parse_args()

    recipe = load_recipe(RECIPE)
    manifests = prepare(args.shared, set(recipe.vocabulary))
    best = recipe.run_dir / "best" if args.skip_train else train(recipe)
    metrics = {}
    for name in ("test_fsdd", "test_speech_commands"):
        metrics[name] = evaluate(best, manifests[name], recipe.run_dir / "eval" / name)
        metrics[name]["manifest"] = str(manifests[name].relative_to(ROOT))
        del metrics[name]["model"]  # the packaged bundle is the model; the run folder is not shipped
        print(name, json.dumps({k: metrics[name][k] for k in ("wer", "cer", "utterances", "errors")}))
    config = read_bundle_config(best)
    config["metrics"].update({name: {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()} for name, m in metrics.items()})
    copy_bundle(best, TARGET, config)
    print(f"packaged {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
