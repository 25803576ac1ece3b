"""Writing transcription results: txt, json, jsonl on a stream; srt and vtt files under a folder."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePath
from typing import TextIO

from seqrec.pipelines.core.files import replaced_atomically

TEXT_FORMATS = ("txt", "json", "jsonl")
SUBTITLE_FORMATS = ("srt", "vtt")
FORMATS = TEXT_FORMATS + SUBTITLE_FORMATS

# A subtitle cue ends at a pause this long, or after this many words, like a line people can read.
CUE_MAX_GAP = 1.0
CUE_MAX_WORDS = 8


def escaped(text: str) -> str:
    """``text`` with each character that is not printable (a newline, a tab, an escape) written as
    Python writes it in a string (``\\n``, ``\\t``, ``\\x1b``), so a path stays on its line and
    its field."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def txt_line(record: dict, single: bool) -> str:
    """A result as a txt line: the text alone for one input, ``PATH<TAB>text`` for several (the path
    ``escaped``)."""
    return record["text"] + "\n" if single else f"{escaped(str(record['path']))}\t{record['text']}\n"


def write_txt(records: list[dict], stream: TextIO, single: bool) -> None:
    """The text alone for one input; ``PATH<TAB>text`` lines for several. Failed inputs are left out."""
    for record in records:
        if "error" not in record:
            stream.write(txt_line(record, single))


def write_jsonl_line(record: dict, stream: TextIO) -> None:
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    stream.flush()


def write_json(records: list[dict], stream: TextIO) -> None:
    json.dump(records, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


class JsonArrayWriter:
    """A JSON array written as its elements come: ``[`` at once, each element (indented as
    ``write_json`` indents it) as soon as it is given, ``]`` on ``close``, also after an error,
    so what was written is always a whole array."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.count = 0
        stream.write("[")
        stream.flush()

    def write(self, record: dict) -> None:
        element = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.stream.write(("," if self.count else "") + "\n  " + element)
        self.stream.flush()
        self.count += 1

    def close(self) -> None:
        self.stream.write("\n]\n" if self.count else "]\n")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def subtitle_path(input_path: str, output_dir: str | os.PathLike, extension: str) -> Path:
    """Where the subtitles (or the ``.txt`` text) of ``input_path`` go: its path as given, mirrored
    under ``output_dir``.

    Relative paths keep their folders (``a/x.wav`` -> ``OUT/a/x.srt``); absolute paths and paths
    climbing out with ``..`` use the absolute path without its root, so names never collide.
    """
    path = PurePath(input_path)
    if path.is_absolute() or ".." in path.parts:
        path = PurePath(os.path.abspath(input_path))
        path = path.relative_to(path.anchor)
    return Path(output_dir) / path.with_suffix(f".{extension}")


def subtitle_text(record: dict, kind: str) -> str:
    """SRT or WebVTT for one result: one cue per phrase (split at pauses and long lines)."""
    cues = _cues(record["words"])
    if kind == "vtt":
        blocks = [f"{_timestamp(s, '.')} --> {_timestamp(e, '.')}\n{text}\n" for s, e, text in cues]
        return "WEBVTT\n\n" + "\n".join(blocks)
    blocks = [
        f"{i}\n{_timestamp(s, ',')} --> {_timestamp(e, ',')}\n{text}\n"
        for i, (s, e, text) in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def write_subtitles(record: dict, output_dir: str | os.PathLike, kind: str) -> Path:
    """``record`` as a file under ``output_dir`` (see ``subtitle_path``): srt or vtt subtitles, or
    for ``txt`` its text on one line. Raises ``OSError`` when the file cannot be written."""
    target = subtitle_path(record["path"], output_dir, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = record["text"] + "\n" if kind == "txt" else subtitle_text(record, kind)
    with replaced_atomically(target) as tmp:  # a killed run never leaves half a file
        tmp.write_text(text, encoding="utf-8")
    return target


def _cues(words: list[dict]) -> list[tuple[float, float, str]]:
    cues, current = [], []
    for word in words:
        if current and (word["start"] - current[-1]["end"] > CUE_MAX_GAP or len(current) == CUE_MAX_WORDS):
            cues.append(current)
            current = []
        current.append(word)
    if current:
        cues.append(current)
    return [(c[0]["start"], c[-1]["end"], " ".join(w["word"] for w in c)) for c in cues]


def _timestamp(seconds: float, decimal_mark: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_mark}{millis:03d}"
