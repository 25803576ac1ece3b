"""Spelled words: a letters CTC model reading words signed from the first signer's held-out frames,
greedily and with a word list.

    python benchmarks/spelled_words.py [--model sign-letters-ctc] [--count 200] [--seed 2026]
                                       [--dictionary /usr/share/dict/american-english]
                                       [--blocks test|dev] [--word-score S]

The dictionary (Debian's ``wamerican``) is cut to its lower-case words of two or more letters a-z
(no names, no apostrophes); ``--count`` words are drawn from it by ``--seed``, and each is signed
letter by letter (``composition.compose_word``) from the frames of the first signer's test blocks
(``data/sign-letters/test``, from ``build_hand_models.py sign-letters --prepare-only``), held,
moved between and placed as the model's recipe composes its training strings, a doubled letter
with a dip between. The model reads each sequence twice: greedy CTC (any letter string) and the
vocabulary beam search with the whole cut dictionary as its word list (``--words``). Prints and
writes ``benchmarks/outputs/spelled_words.json``: CER and word accuracy of each, with counts.

``--blocks dev`` composes from the dev blocks instead, for choosing the beam search's word score
(``--word-score``, default ``spelling.WORD_SCORE``); outputs then go to ``spelled_words-dev*.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from seqrec.models.decode_options import DecodeOptions
from seqrec.pipelines.core.metrics import error_rates
from seqrec.pipelines.hands.composition import ComposeConfig, compose_word
from seqrec.pipelines.hands.data import load_hand_sequences
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.spelling import WORD_SCORE, WordSpeller

ROOT = Path(__file__).resolve().parents[1]


def dictionary_words(path: Path) -> list[str]:
    words = path.read_text(encoding="utf-8").split()
    return sorted({w for w in words if re.fullmatch(r"[a-z]{2,}", w)})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="sign-letters-ctc")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dictionary", type=Path, default=Path("/usr/share/dict/american-english"))
    parser.add_argument("--blocks", choices=("test", "dev"), default="test")
    parser.add_argument("--word-score", type=float, default=WORD_SCORE)
    args = parser.parse_args()
    if not args.dictionary.is_file():
        parser.error(f"{args.dictionary}: no such word list (apt-get install wamerican)")
    dictionary = dictionary_words(args.dictionary)
    rng = np.random.default_rng(args.seed)
    drawn = [dictionary[i] for i in rng.choice(len(dictionary), args.count, replace=False)]

    greedy = GestureModel(args.model)
    recipe = greedy.bundle.config["training"]["recipe"]["data"]["compose"]
    compose = ComposeConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in recipe.items()})
    test = load_hand_sequences(
        [ROOT / "data" / "sign-letters" / args.blocks], ROOT / "runs" / "sign-letters" / "cache"
    )
    by_letter = defaultdict(list)
    for pose in test:
        if pose.found:
            by_letter[pose.label].append(pose)
    sequences = [compose_word(word.upper(), by_letter, compose, rng) for word in drawn]

    truths = [word.upper() for word in drawn]
    plain = [greedy.read_symbols(s)["text"] for s in sequences]
    listed = GestureModel(args.model)
    listed.speller = WordSpeller(
        listed.ctc_head.labels, dictionary, DecodeOptions(method="beam", word_score=args.word_score)
    )
    with_list = [listed.read_symbols(s)["text"].upper() for s in sequences]
    result = {
        "model": args.model,
        "dictionary": str(args.dictionary),
        "dictionary_words": len(dictionary),
        "words": len(drawn),
        "letters": sum(map(len, drawn)),
        "words_with_a_double_letter": sum(bool(re.search(r"(.)\1", w)) for w in drawn),
        "seed": args.seed,
        "blocks": args.blocks,
        "word_score": args.word_score,
        "compose": recipe,
    }
    for name, readings in (("greedy", plain), ("word_list", with_list)):
        rates = error_rates(truths, readings)
        result[name] = {
            "cer": round(rates["cer"], 4),
            "words_right": sum(t == r for t, r in zip(truths, readings, strict=True)),
            "examples": [f"{t} -> {r}" for t, r in zip(truths[:8], readings[:8], strict=True)],
        }
    print(json.dumps(result, indent=1))
    name = "spelled_words" if args.blocks == "test" else f"spelled_words-dev-{args.word_score:g}"
    out = ROOT / "benchmarks" / "outputs" / f"{name}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
