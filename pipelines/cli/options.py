"""Options that several commands share, spelled and explained once."""

from __future__ import annotations

import argparse

RUNTIME_HELP = (
    "onnx (onnxruntime, no torch) or torch; default: onnx where the model has an ONNX graph and "
    "onnxruntime is installed"
)
DEVICE_HELP = "cpu or cuda (default: the CPU under onnx; under torch, cuda when available)"


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """``--runtime`` and ``--device``: what runs the network, and where."""
    parser.add_argument("--runtime", choices=("onnx", "torch"), help=RUNTIME_HELP)
    parser.add_argument("--device", help=DEVICE_HELP)


WORDS_HELP = "a,b,c or @FILE (one word a line)"


def read_word_list(value: str) -> list[str]:
    """``--words``: ``a,b,c``, or ``@FILE`` with one word a line (blank lines skipped)."""
    from seqrec.pipelines.cli.errors import UsageError

    if value.startswith("@"):
        path = value[1:]
        try:
            with open(path, encoding="utf-8") as file:
                words = [line.strip() for line in file]
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise UsageError(f"--words {value}: cannot read the word list ({reason})") from None
    else:
        words = [word.strip() for word in value.split(",")]
    words = [word for word in words if word]
    if not words:
        raise UsageError(f"--words {value!r}: no words in it")
    return words
