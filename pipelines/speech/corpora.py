"""Readers for speech corpora people already have, as NeMo-style manifest rows."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# FSDD's official split: takes 0-4 of every speaker and digit are the test set; seqrec holds out
# takes 5-9 of the train takes for model selection.
FSDD_TEST_TAKES = range(5)
FSDD_DEV_TAKES = range(5, 10)
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def fsdd_rows(recordings: str | os.PathLike) -> list[dict]:
    """Free Spoken Digit Dataset files ``{digit}_{speaker}_{take}.wav`` -> rows with the digit as a word."""
    import soundfile

    rows = []
    for path in sorted(Path(recordings).glob("*.wav")):
        match = _FSDD_NAME.match(path.name)
        if not match:
            continue
        digit, speaker, take = match.groups()
        info = soundfile.info(str(path))
        rows.append(
            {
                "audio_filepath": str(path),
                "duration": round(info.frames / info.samplerate, 3),
                "text": DIGIT_WORDS[int(digit)],
                "speaker": speaker,
                "take": int(take),
                "corpus": "fsdd",
            }
        )
    return rows


def speech_commands_rows(root: str | os.PathLike) -> list[dict]:
    """Speech Commands clips listed in ``labels.csv`` (path, label, speaker, num_samples; 16 kHz)."""
    root = Path(root)
    with (root / "labels.csv").open(newline="") as table:
        return [
            {
                "audio_filepath": str(root / row["path"]),
                "duration": round(int(row["num_samples"]) / 16_000, 3),
                "text": row["label"],
                "speaker": row["speaker"],
                "corpus": "speech_commands",
            }
            for row in csv.DictReader(table)
        ]


WUW_WAKE_WORDS = ("operator", "thinkengine", "onword", "wildfire", "voyager")
WUW_ALONE_TYPES = {"001", "002", "003", "004", "005"}  # the wake word alone; 006-010: in a sentence
# Noises and events, {breath}, [click], [prices paid], to their closing mark (or the end: a few lack one)
_WUW_MARKS = re.compile(r"\{[^}]*(\}|$)|\[[^\]]*(\]|$)")


def clean_wuw_transcript(text: str) -> str:
    """A WUW hand transcription as plain lower-case words: noise marks (``{breath}``, ``[click]``,
    which may span words) dropped, unclear speech (``(( word ))``) kept as heard, the markers on
    words (``+gonna``, ``^name``, ``_spelled_``) and punctuation stripped, cut-off words (``wor-``)
    dropped."""
    words = []
    for token in _WUW_MARKS.sub(" ", text).replace("((", " ").replace("))", " ").split():
        if token.endswith("-"):
            continue
        word = re.sub(r"[^a-z']", "", token.lower()).strip("'")
        if word:
            words.append(word)
    return " ".join(words)


def wuw_rows(root: str | os.PathLike) -> list[dict]:
    """WUW Corpus II's telephone recordings (8 kHz mu-law) with cleaned transcripts: ``kind`` is
    "wake word" (a wake word alone) or "sentence" (one inside free speech), ``session`` the caller's
    session (a caller may have several; there is no caller id), ``phone`` the line."""
    root = Path(root)
    with (root / "transcripts.csv").open(newline="", encoding="utf-8") as table:
        return [
            {
                "audio_filepath": str(root / row["file"]),
                "text": clean_wuw_transcript(row["text"]),
                "session": row["session"],
                "kind": "wake word" if row["utterance_type"] in WUW_ALONE_TYPES else "sentence",
                "phone": row["phone"],
                "corpus": "wuw",
            }
            for row in csv.DictReader(table)
        ]


def split_wuw_sessions(rows: list[dict], split_file: str | os.PathLike) -> list[dict]:
    """``rows`` each with its ``split``, by session (70/15/15, fixed by a hash of the session id),
    the split written to ``split_file`` once and read from it after."""
    split_file = Path(split_file)
    if not split_file.is_file():
        split = split_speakers(
            [r["session"] for r in rows], {"train": 0.7, "dev": 0.15, "test": 0.15}, salt="seqrec-wuw"
        )
        split_file.parent.mkdir(parents=True, exist_ok=True)
        split_file.write_text(json.dumps(split, indent=1) + "\n")
    split = json.loads(split_file.read_text())
    session_split = {session: name for name, sessions in split.items() for session in sessions}
    return [{**r, "split": session_split[r["session"]]} for r in rows if r["session"] in session_split]


@dataclass
class SpeechCorpora:
    """The real speech corpora with their splits: Speech Commands by speaker, FSDD by take."""

    commands: list[dict]  # rows of speakers in the split file, each with its "split"
    digits: list[dict]

    def commands_in(
        self, split: str, vocabulary: set[str] | None = None, in_vocabulary: bool = True
    ) -> list[dict]:
        """One split's Speech Commands rows; with a vocabulary, only the words in it (or only the others)."""
        return [
            r
            for r in self.commands
            if r["split"] == split and (vocabulary is None or (r["text"] in vocabulary) == in_vocabulary)
        ]

    def fsdd(self, split: str) -> list[dict]:
        """FSDD rows of one split: "test" takes 0-4, "dev" takes 5-9, "train" the rest."""
        held_out = {"test": FSDD_TEST_TAKES, "dev": FSDD_DEV_TAKES}
        if split in held_out:
            return [r for r in self.digits if r["take"] in held_out[split]]
        return [r for r in self.digits if not any(r["take"] in takes for takes in held_out.values())]


def load_speech_corpora(shared_data: str | os.PathLike, split_file: str | os.PathLike) -> SpeechCorpora:
    """Speech Commands and FSDD from ``shared_data`` (the folder holding ``speech/``), split by the
    speaker split in ``split_file``, which is made (70/15/15) and written there the first time."""
    shared_data, split_file = Path(shared_data), Path(split_file)
    commands = speech_commands_rows(shared_data / "speech" / "speech_commands")
    if split_file.is_file():
        split = json.loads(split_file.read_text())
    else:
        split = split_speakers(
            [r["speaker"] for r in commands], {"train": 0.7, "dev": 0.15, "test": 0.15}, salt="seqrec"
        )
        split_file.parent.mkdir(parents=True, exist_ok=True)
        split_file.write_text(json.dumps(split, indent=1) + "\n")
    speaker_split = {speaker: name for name, speakers in split.items() for speaker in speakers}
    known = [{**r, "split": speaker_split[r["speaker"]]} for r in commands if r["speaker"] in speaker_split]
    return SpeechCorpora(known, fsdd_rows(shared_data / "speech" / "fsdd" / "recordings"))


def split_speakers(speakers: list[str], fractions: dict[str, float], salt: str) -> dict[str, list[str]]:
    """Split speakers (not clips) by the given fractions, in an order fixed by a hash of each id.

    The same speakers always land in the same split, and no speaker is in two splits.
    """
    ordered = sorted(set(speakers), key=lambda s: hashlib.sha256(f"{salt}:{s}".encode()).hexdigest())
    total = sum(fractions.values())
    split, start, cumulative = {}, 0, 0.0
    for name, fraction in fractions.items():
        cumulative += fraction
        end = round(len(ordered) * cumulative / total)
        split[name] = sorted(ordered[start:end])
        start = end
    return split


def trim_silence(audio, top_db: float = 30.0):
    """The spoken part of a clip: quiet edges (``top_db`` under its peak) cut."""
    import librosa

    return librosa.effects.trim(audio, top_db=top_db)[0]


def join_clips(
    rows: list[dict], out_dir: str | os.PathLike, count: int, sample_rate: int, seed: int, words=(2, 4)
) -> list[dict]:
    """Connected sequences made of real clips: trimmed words joined by short, quiet gaps.

    Each result row has the joined ``text`` and the true ``words`` with their start and end times,
    known from where each trimmed clip was placed.
    """
    import numpy as np
    import soundfile

    from seqrec.features import coloured_noise, load_audio

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    joined = []
    for n in range(count):
        picks = rng.choice(len(rows), size=int(rng.integers(words[0], words[1] + 1)), replace=False)
        pieces, timed, cursor = [], [], 0
        for index in picks:
            gap = int(sample_rate * rng.uniform(0.15, 0.5))
            speech = trim_silence(load_audio(rows[index]["audio_filepath"], sample_rate))
            pieces += [np.zeros(gap, np.float32), speech]
            timed.append(
                {
                    "word": rows[index]["text"],
                    "start": round((cursor + gap) / sample_rate, 3),
                    "end": round((cursor + gap + len(speech)) / sample_rate, 3),
                }
            )
            cursor += gap + len(speech)
        tail = int(sample_rate * 0.3)
        audio = np.concatenate([*pieces, np.zeros(tail, np.float32)])
        audio += 10 ** (-60 / 20) * coloured_noise(len(audio), 1.0, rng)  # a room, not digital silence
        path = out_dir / f"connected_{n:04d}.wav"
        soundfile.write(path, audio, sample_rate, subtype="PCM_16")
        joined.append(
            {
                "audio_filepath": str(path),
                "duration": round(len(audio) / sample_rate, 3),
                "text": " ".join(w["word"] for w in timed),
                "words": timed,
            }
        )
    return joined


def noise_rows(out_dir: str | os.PathLike, count: int, sample_rate: int, seed: int) -> list[dict]:
    """Clips with no speech at all (coloured noise at random levels and lengths), transcript empty."""
    import numpy as np
    import soundfile

    from seqrec.features import coloured_noise

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(count):
        seconds = rng.uniform(0.5, 2.0)
        level_db = rng.uniform(-60, -15)
        audio = 10 ** (level_db / 20) * coloured_noise(int(seconds * sample_rate), rng.uniform(0, 2), rng)
        path = out_dir / f"noise_{n:04d}.wav"
        soundfile.write(path, np.clip(audio, -1, 1), sample_rate, subtype="PCM_16")
        rows.append(
            {"audio_filepath": str(path), "duration": round(seconds, 3), "text": "", "corpus": "noise"}
        )
    return rows


def room_noise_files(
    rows: list[dict], out_dir: str | os.PathLike, sample_rate: int, seconds_per_file: float = 60.0
) -> list[Path]:
    """Real background noise: the parts of ``rows``' clips outside their speech (more than
    ``top_db`` 30 under the peak), joined with short fades into files of about ``seconds_per_file``.

    Speech Commands was recorded by volunteers in their own rooms, so its silences hold real room
    tone, fans, traffic and microphone hiss. Stretches of digital silence are left out.
    """
    import librosa
    import numpy as np
    import soundfile

    from seqrec.features import load_audio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fade = np.linspace(0.0, 1.0, max(1, sample_rate // 100), dtype=np.float32)  # 10 ms
    shortest = int(0.1 * sample_rate)
    pieces, written, filled = [], [], 0

    def flush():
        path = out_dir / f"room_noise_{len(written):03d}.wav"
        soundfile.write(path, np.clip(np.concatenate(pieces), -1, 1), sample_rate, subtype="PCM_16")
        written.append(path)

    for row in rows:
        audio = load_audio(row["audio_filepath"], sample_rate)
        speech = librosa.effects.split(audio, top_db=30)
        edges = [0, *speech.ravel(), len(audio)]
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            piece = audio[start:end].copy()
            if len(piece) < shortest or np.sqrt(np.mean(piece**2)) < 1e-4:
                continue
            piece[: len(fade)] *= fade
            piece[-len(fade) :] *= fade[::-1]
            pieces.append(piece)
            filled += len(piece)
        if filled >= seconds_per_file * sample_rate:
            flush()
            pieces, filled = [], 0
    if pieces:
        flush()
    return written
