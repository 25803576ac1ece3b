"""The ``seqrec`` command: a thin layer over the library.

Exit codes: 0 when every input succeeded, 1 when some failed (the rest done and written),
2 for a usage error (nothing done). A user's mistake is one stderr line, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import tempfile
import traceback
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from seqrec.models import DEFAULT_SPEECH_MODEL, BundleError, bundled_model_names, read_bundle_config
from seqrec.pipelines.cli.batch import add_batch_parser
from seqrec.pipelines.cli.errors import (
    DEBUG_VARIABLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    UsageError,
    debug_from_environment,
    internal_error_line,
    report,
    report_text,
    require_torch,
)
from seqrec.pipelines.cli.explain import add_explain_parser
from seqrec.pipelines.cli.export import add_export_parser
from seqrec.pipelines.cli.gestures import add_gestures_parser
from seqrec.pipelines.cli.options import WORDS_HELP, add_runtime_options, read_word_list
from seqrec.pipelines.cli.record import add_record_parser
from seqrec.pipelines.core.errors import ConfigError, report_line
from seqrec.pipelines.core.native_logs import native_stderr_silenced
from seqrec.pipelines.core.output_formats import (
    FORMATS,
    SUBTITLE_FORMATS,
    JsonArrayWriter,
    subtitle_path,
    txt_line,
    write_json,
    write_jsonl_line,
    write_subtitles,
)
from seqrec.pipelines.hands import DEFAULT_GESTURE_MODEL

# Fewer inputs than this finish before a progress bar would tell anyone anything.
PROGRESS_MIN_INPUTS = 8
DEBUG_HELP = (
    f"show the full traceback of an internal error, and native libraries' messages ({DEBUG_VARIABLE}=1 too)"
)
# The PATH that reads standard input.
STDIN = "-"


def _version() -> str:
    try:
        return version("seqrec")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqrec", description="Recognise speech, gestures and signs.")
    parser.add_argument("--version", action="version", version=f"seqrec {_version()}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_parser in (
        _add_transcribe_parser,
        _add_models_parser,
        _add_train_parser,
        _add_evaluate_parser,
        _add_calibrate_parser,
        add_batch_parser,
        add_gestures_parser,
        add_record_parser,
        add_export_parser,
        add_explain_parser,
    ):
        add_parser(commands)
    for command in commands.choices.values():  # also after the command: `seqrec transcribe --debug x.wav`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def _add_transcribe_parser(commands) -> None:
    p = commands.add_parser("transcribe", help="transcribe audio files or folders, or live audio")
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="audio files or folders (searched recursively); - reads a file from standard input",
    )
    p.add_argument(
        "--model",
        default=DEFAULT_SPEECH_MODEL,
        help=f"bundled model name or bundle folder (default: {DEFAULT_SPEECH_MODEL})",
    )
    p.add_argument(
        "--format",
        default="txt",
        choices=FORMATS,
        help="txt (default), json, jsonl, or srt/vtt files under --output",
    )
    p.add_argument(
        "--output",
        metavar="DIR|FILE",
        help="txt, srt, vtt: a folder of files, one per input, mirroring the input paths; "
        "json, jsonl: the file to write instead of standard output",
    )
    add_runtime_options(p)
    p.add_argument("--batch-size", type=int, default=32, help="inputs run through the model together")
    p.add_argument(
        "--words",
        metavar="LIST",
        help=f"only these of the model's words come out, the rest is rejected: {WORDS_HELP}",
    )
    _add_decode_options(p)
    live = p.add_argument_group(
        "live audio", "instead of PATH: one result per utterance as it ends (txt or jsonl)"
    )
    live.add_argument(
        "--mic", action="store_true", help="the microphone, until Ctrl-C (needs the [mic] extra)"
    )
    live.add_argument(
        "--device-index", type=int, metavar="N", help="the input device for --mic (default: the system's)"
    )
    live.add_argument(
        "--stream-file", metavar="FILE", help="FILE played in real time, as a microphone would hear it"
    )
    live.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="play --stream-file X times faster than real time (default: 1)",
    )
    p.set_defaults(run=run_transcribe)


def _add_models_parser(commands) -> None:
    p = commands.add_parser("models", help="list the bundled models")
    p.add_argument("--format", default="txt", choices=("txt", "json"))
    p.set_defaults(run=run_models)


def _add_train_parser(commands) -> None:
    p = commands.add_parser("train", help="train a model from a YAML recipe (resumes from its checkpoint)")
    p.add_argument("recipe", metavar="NAME|PATH", help="a bundled recipe name or a YAML file")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key, e.g. train.epochs=5",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        help="stop after this many steps in total (with a checkpoint); rerun to go on",
    )
    p.set_defaults(run=run_train)


def _add_evaluate_parser(commands) -> None:
    p = commands.add_parser(
        "evaluate", help="score a model on a JSON-Lines manifest: WER/CER, or accuracy and confusion PNGs"
    )
    p.add_argument("manifest", metavar="MANIFEST")
    p.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    p.add_argument("--out", metavar="DIR", help="write metrics.json and results.jsonl here")
    add_runtime_options(p)
    _add_decode_options(p)
    p.set_defaults(run=run_evaluate)


def _add_calibrate_parser(commands) -> None:
    p = commands.add_parser(
        "calibrate",
        help="fit a speech model's word scores to probabilities on dev manifests; write a calibrated copy",
    )
    p.add_argument(
        "manifests",
        nargs="+",
        metavar="MANIFEST",
        help="dev manifests holding the model's words and other speech",
    )
    p.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    p.add_argument("--out", metavar="DIR", required=True, help="the calibrated copy of the model")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="P",
        help="rejection threshold of the copy, a probability that a word is right (default 0.5)",
    )
    add_runtime_options(p)
    p.set_defaults(run=run_calibrate)


def _add_decode_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decoder",
        choices=("greedy", "beam"),
        help="greedy (fast) or lexicon beam search ([lm] extra); default: the model's",
    )
    parser.add_argument(
        "--lm-weight", type=float, metavar="W", help="with --decoder beam: weight of the model's word bigram"
    )


def decode_options(args, model: str):
    """The model's decode options, changed where the command line says; None when it says nothing."""
    import dataclasses

    from seqrec.models import DecodeOptions

    if args.lm_weight is not None and not math.isfinite(args.lm_weight):
        raise UsageError(f"--lm-weight {args.lm_weight}: give a finite number")
    if args.decoder is None and args.lm_weight is None:
        return None
    options = DecodeOptions(**read_bundle_config(model).get("decode", {}))
    changes = {"method": args.decoder, "lm_weight": args.lm_weight}
    return dataclasses.replace(options, **{key: value for key, value in changes.items() if value is not None})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False) or debug_from_environment()
    warnings.formatwarning = lambda message, *_, **__: report_line(message) + "\n"  # one line, no source echo
    with _debug_logging() if debug else contextlib.nullcontext():
        return _run(args, debug)


@contextlib.contextmanager
def _debug_logging():
    """The ``seqrec`` logger's debug lines (the traceback of an input's unexpected error) on stderr."""
    logger = logging.getLogger("seqrec")
    handler, level = logging.StreamHandler(sys.stderr), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _run(args, debug: bool) -> int:
    """Run the command; the library's errors (and bugs) become one stderr line and an exit code."""
    try:
        # Native libraries (MediaPipe, LiteRT, flashlight-text, mpg123) write notes straight to
        # descriptor 2: off the terminal, unless debugging. Worker processes inherit the silence.
        with contextlib.nullcontext() if debug else native_stderr_silenced():
            return args.run(args)
    except (UsageError, ConfigError, BundleError) as error:
        report(error)
        return EXIT_USAGE
    except ImportError as error:  # an optional extra that is not installed: its message says which
        report(error)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`seqrec ... | head`): stop quietly, without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - a bug: one line that says so, the traceback on request
        if debug:
            traceback.print_exc()
        print(internal_error_line(error), file=sys.stderr, flush=True)
        return EXIT_SOME_FAILED


def _transcriber(args, **options):
    """``Transcriber`` for ``transcribe`` (files or live), with ``--words``: a word the model does not
    know is a usage error."""
    from seqrec.pipelines.speech.transcriber import Transcriber

    words = read_word_list(args.words) if args.words is not None else None
    try:
        return Transcriber(args.model, args.device, words=words, **options)
    except ValueError as error:
        if words is None:
            raise
        raise UsageError(f"--words: {error}") from None


def run_transcribe(args) -> int:
    from tqdm import tqdm

    from seqrec.pipelines.speech.transcriber import expand_audio_inputs

    if args.mic or args.stream_file is not None:
        return run_live(args)
    if not args.paths:
        raise UsageError("transcribe: give PATH..., --mic or --stream-file FILE")
    if args.device_index is not None:
        raise UsageError("--device-index goes with --mic")
    if args.speed is not None:
        raise UsageError("--speed goes with --stream-file")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    output = _Output(args.format, args.output)
    with _stdin_as_file(args.paths) as (paths, stdin_file):
        inputs = expand_audio_inputs(paths)
        transcriber = _transcriber(
            args, batch_size=args.batch_size, decode=decode_options(args, args.model), runtime=args.runtime
        )
        # Folders without audio are failures found before any decoding; the rest go through the model.
        results = iter(transcriber.transcribe_paths([path for path, error in inputs if not error]))
        progress = tqdm(
            total=len(inputs),
            unit="file",
            file=sys.stderr,
            disable=None if len(inputs) >= PROGRESS_MIN_INPUTS else True,
        )
        failed = 0
        with progress, output.open(single=len(inputs) == 1):
            # Each result is written as soon as its batch is done.
            for path, error in inputs:
                record = {"path": path, "error": error} if error else next(results)
                if stdin_file is not None and record["path"] == stdin_file:
                    record = {**record, "path": STDIN}
                record = output.write(record)
                progress.update()
                if "error" in record:
                    failed += 1
                    progress.write(report_text(record["path"], record["error"]), file=sys.stderr)
    return EXIT_SOME_FAILED if failed else EXIT_OK


class _Output:
    """Where ``seqrec transcribe`` writes its results, each as soon as it is done: txt, json and
    jsonl on standard output or (json, jsonl) into the file ``--output``; srt, vtt and (with
    ``--output``) txt as a file per input under the folder ``--output``. Checked when made."""

    def __init__(self, fmt: str, output: str | None):
        self.format, self.output = fmt, output
        self.per_input = fmt in SUBTITLE_FORMATS or (fmt == "txt" and output is not None)
        if fmt in SUBTITLE_FORMATS and not output:
            raise UsageError(f"--format {fmt} writes files: give --output DIR")
        if output is None:
            return
        path = Path(output)
        if self.per_input and path.exists() and not path.is_dir():
            raise UsageError(
                f"--output {output}: a file; --format {fmt} writes a file per input into a folder"
            )
        if not self.per_input and path.is_dir():
            raise UsageError(f"--output {output}: a folder; --format {fmt} writes one file")

    @contextlib.contextmanager
    def open(self, single: bool):
        self.single = single
        self._array = None
        self._stream = sys.stdout
        if self.per_input:
            yield self
            return
        with contextlib.ExitStack() as stack:
            if self.output is not None:
                target = Path(self.output)
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._stream = stack.enter_context(target.open("w", encoding="utf-8"))
                except OSError as error:
                    raise UsageError(f"--output {self.output}: cannot write it ({error.strerror})") from None
            if self.format == "json":
                self._array = stack.enter_context(JsonArrayWriter(self._stream))
            yield self

    def write(self, record: dict) -> dict:
        """Write ``record``; returns it, or it failed when its file could not be written."""
        if self.per_input:
            if "error" not in record:
                try:
                    write_subtitles(record, self.output, self.format)
                except OSError as error:
                    target = subtitle_path(record["path"], self.output, self.format)
                    return {
                        "path": record["path"],
                        "error": f"cannot write {target}: {error.strerror or error}",
                    }
        elif self._array is not None:
            self._array.write(record)
        elif self.format == "jsonl":
            write_jsonl_line(record, self._stream)
        elif "error" not in record:
            self._stream.write(txt_line(record, self.single))
            self._stream.flush()
        return record


@contextlib.contextmanager
def _stdin_as_file(paths: list[str]):
    """``paths`` with ``-`` replaced by a temporary file holding standard input's bytes, decoded as
    any file is; yields (paths, that file or None). Its results carry the path ``-`` again."""
    if STDIN not in paths:
        yield paths, None
        return
    if paths.count(STDIN) > 1:
        raise UsageError("- (standard input) can be given once")
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("-: standard input is a terminal; pipe the audio in (seqrec transcribe - < x.wav)")
    data = sys.stdin.buffer.read()
    with tempfile.TemporaryDirectory(prefix="seqrec-stdin-") as folder:
        file = os.path.join(folder, "stdin")
        with open(file, "wb") as out:
            out.write(data)
        yield [file if path == STDIN else path for path in paths], file


def run_live(args) -> int:
    """``--mic`` or ``--stream-file``: the same live path, a row per utterance as soon as it is recognised."""
    from seqrec.features import InputError
    from seqrec.features.audio.live import Microphone, MicrophoneError, PacedFile

    if args.paths or (args.mic and args.stream_file is not None):
        raise UsageError("give PATH..., --mic or --stream-file FILE: one source at a time")
    if args.device_index is not None and not args.mic:
        raise UsageError("--device-index goes with --mic")
    if args.speed is not None and (args.stream_file is None or not args.speed > 0):
        raise UsageError("--speed goes with --stream-file and must be positive")
    if args.format not in ("txt", "jsonl"):
        raise UsageError(f"--format {args.format}: live audio prints txt or jsonl")
    if args.output is not None:
        raise UsageError("--output goes with PATH...; live audio prints its rows")
    name = "mic" if args.mic else args.stream_file
    try:
        with _stdin_as_file([] if args.mic else [args.stream_file]) as (paths, _):
            source = Microphone(args.device_index) if args.mic else PacedFile(paths[0], args.speed or 1.0)
            transcriber = _transcriber(args, decode=decode_options(args, args.model), runtime=args.runtime)
            failed = 0
            for row in transcriber.transcribe_live(source, args.stream_file):
                if "error" in row:
                    failed += 1
                    report(name, f"{row['error']} (the utterance at {row['start']:.1f} s)")
                if args.format == "jsonl":
                    write_jsonl_line(row, sys.stdout)
                elif row.get("text"):
                    print(row["text"], flush=True)
    except MicrophoneError as error:
        raise UsageError(f"--mic: {error}") from None
    except InputError as error:
        report(name, error.reason)
        if args.format == "jsonl":
            write_jsonl_line({"path": args.stream_file, "error": error.reason}, sys.stdout)
        return EXIT_SOME_FAILED
    return EXIT_SOME_FAILED if failed else EXIT_OK


# What `seqrec models` shows of each evaluation, and how.
MODEL_FIGURES = {
    "wer": lambda v: f"WER {v:.1%}",
    "false_accept_rate": lambda v: f"false accepts {v:.1%}",
    "word_start_error": lambda v: f"word start error {v:.3f} s",
}
# A hands model's evaluations: an accuracy per classifier head (``shape_accuracy``), a CTC head's
# CER and whole-sequence accuracy.
ACCURACY_SUFFIX = "_accuracy"
HAND_FIGURES = {"cer": lambda v: f"CER {v:.1%}"}


def run_models(args) -> int:
    rows = [_model_row(name, read_bundle_config(name)) for name in bundled_model_names()]
    if args.format == "json":
        write_json(rows, sys.stdout)
        return EXIT_OK
    for row in rows:
        default = " (default)" if row["name"] in (DEFAULT_SPEECH_MODEL, DEFAULT_GESTURE_MODEL) else ""
        if "heads" in row:
            heads = row["heads"]
            print(
                f"{row['name']}{default}: {row['modality']}, {len(heads)} head{'s' if len(heads) > 1 else ''}"
            )
            for head, spec in heads.items():
                print(f"  {head} ({spec['kind']}): {', '.join(spec['labels'])}")
        else:
            print(f"{row['name']}{default}: {row['modality']}, {len(row['vocabulary'])} words")
            print(f"  vocabulary: {' '.join(row['vocabulary'])}")
        for set_name, values in row["metrics"].items():
            print(f"  {set_name}: " + ", ".join(_figure(k, v) for k, v in values.items()))
    return EXIT_OK


def _model_row(name: str, config: dict) -> dict:
    """What ``seqrec models`` says of one bundle: a speech model's vocabulary, a hands model's heads
    (each with its kind and labels; a CTC head's symbols without the blank), and the figures of
    each evaluation set."""
    row: dict = {"name": name, "modality": config.get("modality")}
    hands = config.get("modality") == "hands"
    if hands:
        row["heads"] = {
            head: {
                "kind": spec["kind"],
                "labels": spec["labels"][1:] if spec["kind"] == "ctc" else spec["labels"],
            }
            for head, spec in config.get("heads", {}).items()
        }
    else:
        row["vocabulary"] = config.get("vocabulary", [])
    row["metrics"] = {
        set_name: _hand_figures(values) if hands else _speech_figures(values)
        for set_name, values in config.get("metrics", {}).items()
    }
    return row


def _speech_figures(values: dict) -> dict:
    # A set of out-of-vocabulary clips only has no words to get wrong: no WER to show.
    return {
        key: values[key]
        for key in MODEL_FIGURES
        if key in values and (key != "wer" or values.get("utterances", 1))
    }


def _hand_figures(values: dict) -> dict:
    return {
        key: value for key, value in values.items() if key in HAND_FIGURES or key.endswith(ACCURACY_SUFFIX)
    }


def _figure(key: str, value: float) -> str:
    if key.endswith(ACCURACY_SUFFIX):
        return f"{key[: -len(ACCURACY_SUFFIX)].replace('_', ' ')} accuracy {value:.1%}"
    return {**MODEL_FIGURES, **HAND_FIGURES}[key](value)


def run_train(args) -> int:
    require_torch("train")
    import yaml

    from seqrec.pipelines.recipes import load_recipe, train_recipe

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item}: expected KEY=VALUE")
        try:
            overrides[key] = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise UsageError(f"--set {item}: not a YAML value ({' '.join(str(error).split())})") from None
    best = train_recipe(load_recipe(args.recipe, overrides), max_steps=args.max_steps)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one process answers
        print(best)
    return EXIT_OK


def run_evaluate(args) -> int:
    from seqrec.pipelines.batch.evaluate import evaluate

    metrics = evaluate(
        args.model,
        args.manifest,
        args.out,
        args.device,
        decode_options(args, args.model),
        on_error=report,
        runtime=args.runtime,
    )
    print(json.dumps(metrics, indent=2))
    if not metrics.get("scored", 1):
        report(args.manifest, f"nothing scored: none of its {metrics['errors']} items could be used")
    return EXIT_SOME_FAILED if metrics["errors"] or not metrics.get("scored", 1) else EXIT_OK


def run_calibrate(args) -> int:
    from seqrec.pipelines.batch.calibrate import calibrate

    if not math.isfinite(args.threshold):
        raise UsageError(f"--threshold {args.threshold}: give a probability from 0 to 1")
    fit = calibrate(args.model, args.manifests, args.out, args.threshold, args.device, args.runtime)
    print(json.dumps(fit, indent=2))
    if fit["errors"]:
        report(", ".join(args.manifests), f"{fit['errors']} clips could not be read and were left out")
    return EXIT_SOME_FAILED if fit["errors"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
