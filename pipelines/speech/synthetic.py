"""Synthetic multi-voice speech: text rendered by Debian's TTS engines, listed in a NeMo manifest.

Three engines run as subprocesses: espeak-ng (formant synthesis: English accents, each with its
voice variants), flite (CMU's kal16, awb, rms and slt) and festival (its installed English
festvox voices, through ``text2wave``). Every clip gets an engine, a voice, a speaking rate and a
pitch drawn from one seeded generator, so the same seed and the same installed voices plan the
same corpus. Clips are 16 kHz mono 16-bit WAV files named by a hash of what they say and how, so
a rerun skips every clip already written and a killed run loses at most the clip in flight.

    apt-get install espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqrec.features import SAMPLE_RATE, is_silent, resample
from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.core.manifest import write_manifest

# The engines in the order they are listed and planned; each needs its binaries on PATH.
ENGINE_BINARIES = {"espeak-ng": ("espeak-ng",), "flite": ("flite",), "festival": ("festival", "text2wave")}
ENGINES = tuple(ENGINE_BINARIES)

# Speaking rate and pitch are factors of the voice's own default (1.0 = as the voice speaks).
RATE_RANGE = (0.8, 1.25)
PITCH_RANGE = (0.85, 1.2)
# A short utterance renders in well under a second; festival's HTS voice takes about one.
RENDER_TIMEOUT_S = 30.0
# How often the planner redraws a voice, rate and pitch that would repeat an earlier clip.
MAX_REDRAWS = 20

ESPEAK_DEFAULT_WPM = 175
# -p 0..99 scales the voice's base F0 by 2 ** ((p - 50) / 50); its intonation range stays, so the
# F0 measured over a word moves about half as far as the factor asks.
ESPEAK_PITCH_DEFAULT = 50
# espeak-ng's "fast_test" variant is an experimental speed setting its own file calls unstable.
ESPEAK_SKIPPED_VARIANTS = frozenset({"fast"})
# flite's "kal" is the 8 kHz build of kal16, and "awb_time" a limited-domain voice that only
# says clock times.
FLITE_SKIPPED_VOICES = frozenset({"kal", "awb_time"})
# How each flite voice takes a pitch: the feature and its value at pitch 1.0. Diphone kal16 sets an
# F0 target (95 Hz is its default: setting it leaves the audio unchanged); the clustergen voices
# scale their F0. rms's SPAM F0 model ignores both (measured), so rms keeps its own pitch.
FLITE_PITCH_FEATURES = {
    "kal16": ("int_f0_target_mean", 95.0),
    "awb": ("f0_shift", 1.0),
    "slt": ("f0_shift", 1.0),
}

# Festival prints one line per voice: name, language, synthesis method, whether it has LR F0 targets.
_FESTIVAL_LIST_VOICES = (
    '(mapcar (lambda (v) (begin (eval (list (intern (string-append "voice_" v))))'
    " (print (list v (cadr (assoc 'language (cadr (voice.description v))))"
    " (Parameter.get 'Synth_Method) (if (assoc 'target_f0_mean int_lr_params) 'lr 'nolr)))))"
    " (voice.list))"
)
_FESTIVAL_VOICE_LINE = re.compile(r"^\((\w+) (\w+) (\w+) (lr|nolr)\)$")
_ESPEAK_VARIANT_LINE = re.compile(r"^\s*\d+\s+variant\s+\S+\s+\S+\s+!v/(\S+)\s*(\(.*\))?\s*$")


class SynthesisError(RuntimeError):
    """An engine could not render (or list voices); ``str(error)`` is one line naming the reason."""


@dataclass(frozen=True)
class Voice:
    """One voice of one engine.

    ``name`` is what the engine takes: ``"en-gb-scotland+m3"`` (espeak-ng accent + variant),
    ``"slt"`` (flite), ``"kal_diphone"`` (festival). With ``pitch_control`` False the engine
    ignores a pitch setting for this voice, so its clips keep pitch 1.0.
    """

    engine: str
    name: str
    pitch_control: bool = True


@dataclass(frozen=True)
class Clip:
    """One planned clip: what is said, by which voice, how fast and how high."""

    text: str
    voice: Voice
    rate: float
    pitch: float

    @property
    def filename(self) -> str:
        """``audio/<engine>/<text slug>_<hash>.wav``: the same clip always gets the same name."""
        key = json.dumps([self.text, self.voice.engine, self.voice.name, self.rate, self.pitch])
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        slug = re.sub(r"[^a-z0-9]+", "-", self.text.lower()).strip("-")[:40] or "text"
        return f"audio/{self.voice.engine}/{slug}_{digest}.wav"


# -- voices ---------------------------------------------------------------------------------------


def available_voices(engines: Iterable[str] = ENGINES) -> list[Voice]:
    """The English voices of the installed engines, engine by engine, each engine's sorted by name.

    An engine whose binaries are missing contributes nothing; an installed engine that cannot list
    its voices raises SynthesisError.
    """
    voices = []
    for engine in engines:
        if engine not in ENGINE_BINARIES:
            raise ValueError(f"unknown engine {engine!r}; the engines are {', '.join(ENGINES)}")
        if _installed(engine):
            voices.extend(_engine_voices(engine))
    return voices


def _installed(engine: str) -> bool:
    return all(shutil.which(binary) for binary in ENGINE_BINARIES[engine])


@functools.cache
def _engine_voices(engine: str) -> tuple[Voice, ...]:
    lister = {"espeak-ng": _espeak_voices, "flite": _flite_voices, "festival": _festival_voices}[engine]
    return tuple(sorted(lister(), key=lambda voice: voice.name))


def _espeak_voices() -> list[Voice]:
    accents = set()
    for line in _run_listing(["espeak-ng", "--voices=en"]).splitlines()[1:]:
        fields = line.split()
        # mb/ voices need MBROLA's voice data, which Debian does not ship in main; a !v/ variant
        # that names English among its languages is a variant, not an accent.
        if len(fields) >= 5 and not fields[4].startswith(("mb/", "!v/")):
            accents.add(fields[1])
    variants = set()
    for line in _run_listing(["espeak-ng", "--voices=variant"]).splitlines()[1:]:
        match = _ESPEAK_VARIANT_LINE.match(line)  # a variant file name with a space fails to match
        if match and match.group(1) not in ESPEAK_SKIPPED_VARIANTS:
            variants.add(match.group(1))
    return [
        Voice("espeak-ng", name)
        for accent in accents
        for name in [accent, *(f"{accent}+{v}" for v in variants)]
    ]


def _flite_voices() -> list[Voice]:
    listing = _run_listing(["flite", "-lv"])
    names = listing.partition(":")[2].split()
    return [
        Voice("flite", name, name in FLITE_PITCH_FEATURES)
        for name in names
        if name not in FLITE_SKIPPED_VOICES
    ]


def _festival_voices() -> list[Voice]:
    voices = []
    for line in _run_listing(["festival", "--batch", _FESTIVAL_LIST_VOICES]).splitlines():
        match = _FESTIVAL_VOICE_LINE.match(line.strip())
        if match and match.group(2) == "english":
            name, _, method, targets = match.groups()
            # HTS voices make their own F0 and ignore festival's targets.
            voices.append(Voice("festival", name, pitch_control=method != "HTS" and targets == "lr"))
    return voices


def _run_listing(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SynthesisError(f"{command[0]} could not list its voices ({_one_line(str(error))})") from None
    if done.returncode != 0:
        raise SynthesisError(
            f"{command[0]} could not list its voices (exit {done.returncode}: {_last_line(done)})"
        )
    return done.stdout


# -- rendering ------------------------------------------------------------------------------------


def render(text: str, voice: Voice, rate: float, pitch: float, path: str | os.PathLike) -> float:
    """Speak ``text`` with ``voice`` into a 16 kHz mono 16-bit WAV file at ``path``.

    ``rate`` and ``pitch`` are factors of the voice's defaults (a voice without pitch control
    ignores ``pitch``). The file appears complete or not at all. Returns its duration in seconds.

    Raises
    ------
    SynthesisError
        one line: an unknown engine or voice, a missing binary, a failed or timed-out engine, or
        audio that is empty or silent.
    """
    if rate <= 0 or pitch <= 0:
        raise ValueError(f"rate and pitch must be positive factors, not {rate} and {pitch}")
    if not text.strip():
        raise SynthesisError("no text to speak")
    if voice.engine not in ENGINE_BINARIES:
        raise SynthesisError(f"unknown engine {voice.engine!r}; the engines are {', '.join(ENGINES)}")
    if not _installed(voice.engine):
        raise SynthesisError(f"{voice.engine} is not installed")
    # espeak-ng and flite quietly fall back to a default voice for a name they do not know.
    if voice.name not in {known.name for known in _engine_voices(voice.engine)}:
        raise SynthesisError(f"{voice.engine} has no voice {voice.name!r}")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="seqrec-tts-") as scratch:
        text_file, raw = Path(scratch) / "text.txt", Path(scratch) / "raw.wav"
        text_file.write_text(text + "\n", encoding="utf-8")
        command, stdin = _command(text, voice, rate, pitch, text_file, raw)
        try:
            done = subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise SynthesisError(
                f"{voice.engine} voice {voice.name!r} timed out after {RENDER_TIMEOUT_S:g} s"
            ) from None
        except OSError as error:
            raise SynthesisError(
                f"{voice.engine} voice {voice.name!r} did not start ({_one_line(str(error))})"
            ) from None
        if done.returncode != 0:
            raise SynthesisError(
                f"{voice.engine} voice {voice.name!r} failed (exit {done.returncode}: {_last_line(done)})"
            )
        if not raw.is_file() or raw.stat().st_size == 0:
            raise SynthesisError(f"{voice.engine} voice {voice.name!r} wrote no audio ({_last_line(done)})")
        audio = _read_mono_16k(raw)
    if audio.size == 0 or is_silent(audio):
        raise SynthesisError(f"{voice.engine} voice {voice.name!r} produced silence")
    _write_wav(path, audio)
    return audio.size / SAMPLE_RATE


def _command(
    text: str, voice: Voice, rate: float, pitch: float, text_file: Path, raw: Path
) -> tuple[list[str], str | None]:
    """The engine's argument list and its stdin; the text never appears on the command line."""
    if voice.engine == "espeak-ng":
        wpm = round(ESPEAK_DEFAULT_WPM * rate)
        p = (
            min(99, max(0, round(ESPEAK_PITCH_DEFAULT + 50 * math.log2(pitch))))
            if voice.pitch_control
            else ESPEAK_PITCH_DEFAULT
        )
        return ["espeak-ng", "-v", voice.name, "-s", str(wpm), "-p", str(p), "-w", str(raw), "--stdin"], text
    if voice.engine == "flite":
        features = ["--setf", f"duration_stretch={1 / rate:.4f}"]
        if voice.pitch_control and voice.name in FLITE_PITCH_FEATURES:
            feature, default = FLITE_PITCH_FEATURES[voice.name]
            features += ["--setf", f"{feature}={default * pitch:.4f}"]
        return ["flite", "-voice", voice.name, *features, "-f", str(text_file), "-o", str(raw)], None
    # festival (voice names are \w+, as listed): diphone voices stretch durations and take F0
    # targets, HTS voices take a speed ("-r").
    setup = [
        f"(voice_{voice.name})",
        f"(Parameter.set 'Duration_Stretch (/ (or (Parameter.get 'Duration_Stretch) 1.0) {rate:.4f}))",
        (
            "(if (eq? 'HTS (Parameter.get 'Synth_Method)) "
            f'(set! hts_engine_params (cons (list "-r" {rate:.4f}) hts_engine_params)))'
        ),
    ]
    if voice.pitch_control:
        setup.append(
            "(set! int_lr_params (cons (list 'target_f0_mean"
            f" (* {pitch:.4f} (cadr (assoc 'target_f0_mean int_lr_params)))) int_lr_params))"
        )
    return ["text2wave", "-eval", f"(begin {' '.join(setup)})", "-o", str(raw), str(text_file)], None


def _read_mono_16k(path: Path) -> np.ndarray:
    import soundfile

    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise SynthesisError(f"the engine wrote unreadable audio ({_one_line(str(error))})") from None
    return resample(audio.mean(axis=1), rate, SAMPLE_RATE)


def _write_wav(path: Path, audio: np.ndarray) -> None:
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    peak = float(np.abs(audio).max())
    if peak > 1.0:  # resampling a full-scale engine output can overshoot: scale it, never clip
        audio = audio / peak
    with replaced_atomically(path) as partial:
        soundfile.write(str(partial), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [
        line.strip() for line in f"{done.stdout or ''}\n{done.stderr or ''}".splitlines() if line.strip()
    ]
    errors = [line for line in lines if "error" in line.lower()]
    return _one_line((errors or lines or ["no message"])[-1])


def _one_line(message: str) -> str:
    return " ".join(message.split())


# -- planning and the corpus ----------------------------------------------------------------------


def plan_corpus(
    texts: Sequence[str],
    voices: Sequence[Voice],
    *,
    n_per_text: int = 1,
    total: int | None = None,
    seed: int | Sequence[int] = 0,
) -> list[Clip]:
    """Choose an engine, a voice, a rate and a pitch for every clip, from ``default_rng(seed)``.

    Each text is said ``n_per_text`` times, or, when ``total`` is given, the texts are taken in
    turn until there are ``total`` clips. The engine is drawn uniformly first, then a voice of that
    engine, so an engine with hundreds of voices does not crowd out one with four. A draw that
    would repeat an earlier clip exactly is drawn again.
    """
    if not texts or any(not text.strip() for text in texts):
        raise ValueError("texts must be a non-empty list of non-empty strings")
    if not voices:
        raise ValueError("no voices to plan with")
    if n_per_text < 1 or (total is not None and total < 0):
        raise ValueError("n_per_text must be at least 1 and total not negative")
    said = (
        [texts[i % len(texts)] for i in range(total)]
        if total is not None
        else [t for t in texts for _ in range(n_per_text)]
    )
    by_engine: dict[str, list[Voice]] = {}
    for voice in voices:
        by_engine.setdefault(voice.engine, []).append(voice)
    pools = list(by_engine.values())
    rng = np.random.default_rng(seed)
    clips, seen = [], set()
    for text in said:
        for _ in range(MAX_REDRAWS):
            pool = pools[rng.integers(len(pools))]
            voice = pool[rng.integers(len(pool))]
            rate = round(float(rng.uniform(*RATE_RANGE)), 2)
            pitch = round(float(rng.uniform(*PITCH_RANGE)), 2) if voice.pitch_control else 1.0
            clip = Clip(text, voice, rate, pitch)
            if clip not in seen:
                break
        seen.add(clip)
        clips.append(clip)
    return clips


def generate_corpus(
    texts: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    n_per_text: int = 1,
    total: int | None = None,
    seed: int | Sequence[int] = 0,
    voices: Sequence[Voice] | None = None,
    manifest: str = "manifest.jsonl",
    fields: Mapping[str, object] | None = None,
    report: Callable[[str], None] | None = None,
    progress: bool = False,
) -> Path:
    """Render a planned corpus under ``out_dir`` and write its manifest there; returns the manifest.

    Rows carry ``audio_filepath`` (relative to the manifest), ``duration``, ``text``, ``engine``,
    ``voice``, ``rate``, ``pitch``, and ``fields`` (e.g. ``{"in_vocabulary": False}``). Clips
    already on disk are kept, not rendered again. A clip that fails is reported as one line
    (``PATH: reason``, to ``report`` or stderr), left out of the manifest and listed in
    ``<manifest stem>.errors.jsonl``. The manifest is written atomically at the end.

    ``voices`` defaults to every available voice; see :func:`plan_corpus` for the plan.
    """
    voices = available_voices() if voices is None else list(voices)
    if not voices:
        raise SynthesisError("no TTS engine is installed (apt-get install espeak-ng flite festival)")
    report = report or (lambda line: print(line, file=sys.stderr))
    clips = plan_corpus(texts, voices, n_per_text=n_per_text, total=total, seed=seed)
    out_dir = Path(out_dir)
    rows, failures = [], []
    from tqdm import tqdm

    for clip in tqdm(clips, unit="clip", file=sys.stderr, disable=None if progress else True):
        path = out_dir / clip.filename
        described = {
            "text": clip.text,
            "engine": clip.voice.engine,
            "voice": clip.voice.name,
            "rate": clip.rate,
            "pitch": clip.pitch,
        }
        try:
            duration = (
                _duration(path)
                if path.is_file()
                else render(clip.text, clip.voice, clip.rate, clip.pitch, path)
            )
        except SynthesisError as error:
            report(f"{path}: {error}")
            failures.append({"audio_filepath": str(path), **described, "error": str(error)})
            continue
        rows.append(
            {"audio_filepath": str(path), "duration": round(duration, 3), **described, **(fields or {})}
        )
    return _write_corpus_manifest(out_dir / manifest, rows, failures)


def _write_corpus_manifest(manifest_path: Path, rows: list[dict], failures: list[dict]) -> Path:
    """The manifest of the clips rendered, and beside it the failed ones (or none, if none failed)."""
    errors_path = manifest_path.with_name(f"{manifest_path.stem}.errors.jsonl")
    if failures:
        write_manifest(errors_path, failures)
    else:
        errors_path.unlink(missing_ok=True)
    write_manifest(manifest_path, rows)
    return manifest_path


def _duration(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return info.frames / info.samplerate
