"""seqrec against PocketSphinx 5 on the same clips, in one run: WER, steady-state speed, start-up.

    python benchmarks/pocketsphinx_race.py [MANIFEST ...] [--model NAME|PATH] [--limit N] [--repeat 1]
        [--out FILE]

Needs ``pip install 'seqrec[bench]'`` (pocketsphinx>=5; its wheel carries the en-us acoustic model,
CMUdict and the en-us trigram LM). Default input: the Speech Commands test manifest that
scripts/build_commands.py writes (held-out speakers, in-vocabulary words), else the clips
in tests/data.

Systems, each over the same clips:

- ``seqrec_greedy``: ``Transcriber(model).transcribe_paths(paths)``, greedy CTC decoding.
- ``seqrec_beam``: the same with lexicon beam search (the [lm] extra).
- ``pocketsphinx_lm``: ``Decoder(samprate=16000)`` as a user runs it: en-us acoustic model,
  en-us LM, CMUdict.
- ``pocketsphinx_grammar``: the same acoustic model and dictionary searching a JSGF grammar of the
  seqrec model's vocabulary, one word or several: ``public <cmd> = ( zero | one | ... )+ ;``.
- ``pocketsphinx_one_word``: the same grammar with exactly one word, ``( zero | one | ... )``: the
  test clips are single words, so this is everything PocketSphinx can be told about them (seqrec's
  model is told nothing of the kind; it may output several words or none).
  A keyword list was tried too and dropped: with one detection threshold for every word it either
  fires on noise or misses most words, so the grammar is the fairer restriction.

Each clip is decoded once beforehand to 16 kHz mono (``load_audio``); PocketSphinx gets it as int16
PCM bytes, one utterance per clip (``full_utt=True``), and that decoding is timed apart, outside its
throughput. seqrec is timed from the files, as a user runs it (its own audio decoding included), and
from the same pre-decoded 16 kHz arrays through its pipeline (like for like with PocketSphinx).
Throughput is audio seconds per processing second, the best of ``--repeat`` passes after a
warm-up, models already loaded. Start-up is import + model load, timed inside a fresh interpreter,
median of 3. WER and CER (jiwer) against the manifest's ``text``, both sides lower-cased. Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqrec.features import InputError, load_audio
from seqrec.models import DEFAULT_SPEECH_MODEL, BundleError, DecodeOptions, normalize_text, read_bundle_config
from seqrec.pipelines import Transcriber
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.manifest import read_manifest
from seqrec.pipelines.core.metrics import error_rates

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT / "data/commands/test_speech_commands.jsonl"
FALLBACK_MANIFEST = ROOT / "tests/data/manifest.jsonl"
PS_SAMPLE_RATE = 16_000  # the rate of PocketSphinx's en-us acoustic model
WARMUP_CLIPS = 32  # one full seqrec batch: its first batch of that size allocates
STARTUP_RUNS = 3
STARTUP_CODE = "import time\nstarted = time.perf_counter()\n{body}\nprint(time.perf_counter() - started)"


@dataclass
class Clip:
    path: str
    text: str
    audio: np.ndarray  # [n_samples] float32 at PS_SAMPLE_RATE
    pcm: bytes  # the same samples as int16, what PocketSphinx reads

    @property
    def duration(self) -> float:
        return len(self.audio) / PS_SAMPLE_RATE


def load_clips(manifests: list[Path], limit: int | None) -> tuple[list[Clip], list[str], float]:
    """The manifests' clips decoded once; returns (clips, one-line errors, seconds spent decoding)."""
    rows = [row for manifest in manifests for row in read_manifest(manifest)][:limit]
    clips, failed = [], []
    started = time.perf_counter()
    for row in rows:
        try:
            audio = load_audio(row["audio_filepath"], PS_SAMPLE_RATE)
        except InputError as error:
            failed.append(str(error))
            continue
        pcm = np.clip(np.round(audio * 32768), -32768, 32767).astype("<i2").tobytes()
        clips.append(Clip(row["audio_filepath"], row.get("text", ""), audio, pcm))
    return clips, failed, time.perf_counter() - started


class SeqrecSystem:
    """seqrec as its users run it: a ``Transcriber`` loaded once, fed many files."""

    def __init__(self, model: str, decode: DecodeOptions | None = None):
        """``decode`` None: the bundle's own decode options (``Transcriber`` as it is called today)."""
        self.decode_argument = f", decode={decode!r}" if decode else ""
        self.transcriber = Transcriber(model, device="cpu", **({"decode": decode} if decode else {}))
        self.decode = decode or DecodeOptions(**self.transcriber.bundle.config.get("decode", {}))
        self.startup_body = (
            "from seqrec.models import DecodeOptions\nfrom seqrec.pipelines import Transcriber\n"
            f"Transcriber({model!r}, device='cpu'{self.decode_argument})"
        )

    def transcribe(self, clips: list[Clip]) -> list[str]:
        return [record.get("text", "") for record in self.transcriber.transcribe_paths(c.path for c in clips)]

    def transcribe_arrays(self, clips: list[Clip]) -> list[str]:
        """The pre-decoded 16 kHz arrays through the same pipeline (it resamples them to the model's rate)."""
        pipeline, size = self.transcriber.pipeline, self.transcriber.batch_size
        texts = []
        for start in range(0, len(clips), size):
            batch = [
                {"path": c.path, "audio": c.audio, "sample_rate": PS_SAMPLE_RATE}
                for c in clips[start : start + size]
            ]
            texts.extend(sample.get("text", "") for sample in pipeline.run_batch(batch))
        return texts


class PocketSphinxSystem:
    """A PocketSphinx 5 decoder with its bundled en-us models.

    ``vocabulary`` None: the en-us LM, as a user runs it. A list of words: a JSGF grammar of those
    found in the dictionary (``missing`` lists the others) replaces the LM.
    """

    def __init__(self, vocabulary: list[str] | None = None, one_word: bool = False):
        from pocketsphinx import Decoder

        restricted = vocabulary is not None
        self.decoder = Decoder(
            samprate=PS_SAMPLE_RATE, loglevel="FATAL", **({"lm": None} if restricted else {})
        )
        self.startup_body = (
            f"from pocketsphinx import Decoder\nd = Decoder(samprate={PS_SAMPLE_RATE}, loglevel='FATAL'"
        )
        self.startup_body += ", lm=None)" if restricted else ")"
        self.how = f"Decoder(samprate={PS_SAMPLE_RATE}): en-us acoustic model, en-us LM, CMUdict"
        self.missing = [word for word in vocabulary or () if self.decoder.lookup_word(word) is None]
        if restricted:
            known = [word for word in vocabulary if word not in self.missing]
            if not known:
                raise ValueError("no word of the model's vocabulary is in the en-us dictionary")
            grammar = vocabulary_grammar(known, one_word)
            # A search built from a string needs a name and activating; Decoder(jsgf=...) wants a file.
            self.decoder.add_jsgf_string("vocabulary", grammar)
            self.decoder.activate_search("vocabulary")
            self.startup_body += (
                f"\nd.add_jsgf_string('vocabulary', {grammar!r})\nd.activate_search('vocabulary')"
            )
            self.how = (
                f"Decoder(samprate={PS_SAMPLE_RATE}, lm=None) + add_jsgf_string + activate_search: "
                f"{grammar.splitlines()[-1]}"
            )

    def transcribe(self, clips: list[Clip]) -> list[str]:
        texts = []
        for clip in clips:
            self.decoder.start_utt()
            # full_utt: the whole clip at once, so cepstral mean normalisation sees all of it.
            self.decoder.process_raw(clip.pcm, full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()  # None when nothing was recognised
            texts.append(hypothesis.hypstr if hypothesis else "")
        return texts


def vocabulary_grammar(words: list[str], one_word: bool = False) -> str:
    repeat = "" if one_word else "+"
    return f"#JSGF V1.0;\ngrammar vocabulary;\npublic <cmd> = ( {' | '.join(words)} ){repeat} ;\n"


def measure(transcribe, clips: list[Clip], repeat: int) -> tuple[list[str], dict]:
    """Hypotheses and the best of ``repeat`` timed passes over all clips, after a warm-up pass."""
    transcribe(clips[:WARMUP_CLIPS])
    best, texts = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        texts = transcribe(clips)
        best = min(best, time.perf_counter() - started)
    audio_seconds = sum(c.duration for c in clips)
    return texts, {"seconds": round(best, 3), "x_real_time": round(audio_seconds / best, 2)}


def startup_seconds(body: str) -> float:
    """Median import + load time in fresh interpreters (the interpreter's own start excluded)."""
    times = []
    for _ in range(STARTUP_RUNS):
        run = subprocess.run(
            [sys.executable, "-c", STARTUP_CODE.format(body=body)], capture_output=True, text=True, check=True
        )
        times.append(float(run.stdout.strip().splitlines()[-1]))
    return round(statistics.median(times), 3)


def accuracy(clips: list[Clip], texts: list[str]) -> dict:
    rates = error_rates([normalize_text(c.text) for c in clips], [normalize_text(t) for t in texts])
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in rates.items()}


def seqrec_systems(model: str) -> tuple[dict, dict]:
    """The seqrec systems that can run, and a reason for each that cannot."""
    bundled = DecodeOptions(**read_bundle_config(model).get("decode", {}))
    systems, skipped = {}, {}
    for name, method in (("seqrec_greedy", "greedy"), ("seqrec_beam", "beam")):
        try:
            systems[name] = SeqrecSystem(model, dataclasses.replace(bundled, method=method))
        except ImportError as error:  # beam search without flashlight-text
            skipped[name] = str(error)
    return systems, skipped


def run_seqrec(system: SeqrecSystem, clips: list[Clip], repeat: int) -> dict:
    texts, from_files = measure(system.transcribe, clips, repeat)
    _, from_arrays = measure(system.transcribe_arrays, clips, repeat)
    return {
        "how": f"Transcriber(model, device='cpu'{system.decode_argument}).transcribe_paths(paths)",
        "decode": dataclasses.asdict(system.decode),
        "accuracy": accuracy(clips, texts),
        "from_files": from_files,
        "from_arrays": from_arrays,
        "x_real_time": from_files["x_real_time"],
        "startup_seconds": startup_seconds(system.startup_body),
    }


def run_pocketsphinx(system: PocketSphinxSystem, clips: list[Clip], repeat: int) -> dict:
    texts, from_pcm = measure(system.transcribe, clips, repeat)
    return {
        "how": system.how,
        "accuracy": accuracy(clips, texts),
        "from_pcm": from_pcm,
        "x_real_time": from_pcm["x_real_time"],
        "startup_seconds": startup_seconds(system.startup_body),
    }


def race(model: str, clips: list[Clip], repeat: int) -> tuple[dict, dict, list[str]]:
    """Every system over the clips, one after another; returns (results, skipped systems, words
    missing from PocketSphinx's dictionary)."""
    systems, skipped = seqrec_systems(model)
    results = {name: run_seqrec(system, clips, repeat) for name, system in systems.items()}
    del systems
    results["pocketsphinx_lm"] = run_pocketsphinx(PocketSphinxSystem(), clips, repeat)
    vocabulary = read_bundle_config(model)["vocabulary"]
    try:
        restricted = PocketSphinxSystem(vocabulary)
    except ValueError as error:
        skipped["pocketsphinx_grammar"] = str(error)
        return results, skipped, vocabulary
    results["pocketsphinx_grammar"] = run_pocketsphinx(restricted, clips, repeat)
    results["pocketsphinx_one_word"] = run_pocketsphinx(
        PocketSphinxSystem(vocabulary, one_word=True), clips, repeat
    )
    return results, skipped, restricted.missing


def speed_ratios(results: dict) -> dict:
    """seqrec throughput / PocketSphinx throughput for every pair, seqrec from files and from arrays."""
    return {
        f"{s} / {p}": {
            "from_files": round(results[s]["from_files"]["x_real_time"] / results[p]["x_real_time"], 2),
            "from_arrays": round(results[s]["from_arrays"]["x_real_time"] / results[p]["x_real_time"], 2),
        }
        for s in results
        if s.startswith("seqrec")
        for p in results
        if p.startswith("pocketsphinx")
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--model", default=DEFAULT_SPEECH_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="the first N clips only, for a quick check")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes per system; the best counts")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    try:
        importlib.metadata.version("pocketsphinx")
    except importlib.metadata.PackageNotFoundError:
        print("pocketsphinx is not installed: pip install 'seqrec[bench]'", file=sys.stderr)
        return 2
    manifests = args.manifests or [DEFAULT_MANIFEST if DEFAULT_MANIFEST.is_file() else FALLBACK_MANIFEST]
    try:
        clips, failed, decode_seconds = load_clips(manifests, args.limit)
        results, skipped, missing = race(args.model, clips, args.repeat)
    except (ConfigError, BundleError) as error:
        print(error, file=sys.stderr)
        return 2

    audio_seconds = sum(c.duration for c in clips)
    report = {
        "manifests": [str(m) for m in manifests],
        "clips": len(clips),
        "failed_to_load": failed,
        "audio_seconds": round(audio_seconds, 2),
        "pcm_decode": {
            "seconds": round(decode_seconds, 3),
            "x_real_time": round(audio_seconds / decode_seconds, 1),
            "note": "load_audio(path, 16000) + int16, once per clip; outside PocketSphinx's throughput",
        },
        "model": args.model,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "versions": {
            package: importlib.metadata.version(package) for package in ("seqrec", "torch", "pocketsphinx")
        },
        "repeat": args.repeat,
        "missing_from_pocketsphinx_dictionary": missing,
        "systems": results,
        "skipped": skipped,
        "seqrec_x_real_time_over_pocketsphinx": speed_ratios(results),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
