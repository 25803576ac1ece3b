"""Bad input of every kind: one clear line, the right exit code, and no other input's row lost.

Each case of ``CASES`` builds its inputs under a temporary folder and runs one command in-process.
What a user sees is checked: the exit code (1 for a failed input, the rest done; 2 for a usage
error, nothing done), one ``seqrec:`` line on stderr naming the input and the reason, no traceback
and no "internal error", and, where a good input rides along, its row. ``test_fuzz`` feeds seeded
random bytes under every supported extension, and real files cut short or with a broken header,
through ``transcribe``, ``gestures`` and ``batch``.

``SEQREC_BAD_INPUT_TABLE=FILE pytest tests/test_bad_inputs.py`` writes the table (kind, case,
exit code, the line) as Markdown, and the fuzz counts beside it (FILE with the suffix
``.fuzz.json``): ``docs/bad-inputs.md`` is made so.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from seqrec.pipelines.cli import main

DATA = Path(__file__).parent / "data"
GOOD_CLIP = DATA / "3_jackson_0.wav"  # "three"
GOOD_PHOTO = DATA / "hands" / "sign_digit_5_IMG_1123.JPG"  # "5" with sign-digits
MANIFEST = DATA / "manifest.jsonl"


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    make: Callable[[Path], list[str]]  # writes the inputs under a folder, returns the command line
    exit_code: int
    says: str  # what the one line must contain
    keeps: str | None = None  # a good input whose row must still be in stdout


def _write(folder: Path, name: str, data: bytes | str) -> str:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def _wav(folder: Path, name: str, audio: np.ndarray, rate: int = 16_000) -> str:
    path = folder / name
    soundfile.write(str(path), audio.astype(np.float32), rate)
    return str(path)


def _truncated(folder: Path, source: Path, name: str, keep: float = 0.5) -> str:
    data = source.read_bytes()
    return _write(folder, name, data[: int(len(data) * keep)])


def _transcribe(*paths: str) -> list[str]:
    return ["transcribe", *paths, str(GOOD_CLIP), "--format", "jsonl"]


def _gestures(*paths: str) -> list[str]:
    return ["gestures", *paths, str(GOOD_PHOTO), "--model", "sign-digits", "--format", "jsonl"]


def _recipe(folder: Path, text: str, *extra: str) -> list[str]:
    return ["train", _write(folder, "recipe.yaml", text), *extra]


def _speech_recipe(folder: Path, data: str, **train) -> str:
    settings = {"epochs": 1, "batch_frames": 300, **train}
    return (
        "name: bad\n"
        f"data: {{train: [{data}], dev: [{data}]}}\n"
        "features: {sample_rate: 8000, fmax: 4000}\n"
        "model: {n_hidden: 8, n_layers: 1, stack: 3}\n"
        f"train: {json.dumps(settings)}\n"
        f"output_dir: {folder / 'run'}\n"
    )


def _manifest(folder: Path, rows: list, name: str = "m.jsonl") -> str:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return _write(folder, name, "".join(line + "\n" for line in lines))


def _bundle(folder: Path, change: Callable[[dict], None]) -> str:
    target = folder / "bundle"
    shutil.copytree(DATA / "compat" / "speech-bundle", target)
    config = json.loads((target / "config.json").read_text())
    change(config)
    (target / "config.json").write_text(json.dumps(config))
    return str(target)


def _tone(hz: float, seconds: float = 1.0, rate: int = 16_000) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)


def _noise_bytes(n: int = 20_000, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


AUDIO = [
    Case("audio", "missing file", lambda d: _transcribe(str(d / "gone.wav")), 1, "gone.wav", "three"),
    Case("audio", "empty file", lambda d: _transcribe(_write(d, "e.wav", b"")), 1, "e.wav", "three"),
    Case("audio", "text named .wav", lambda d: _transcribe(_write(d, "t.wav", "hello")), 1, "t.wav", "three"),
    Case(
        "audio",
        "HTML named .flac",
        lambda d: _transcribe(_write(d, "x.flac", "<html>404</html>")),
        1,
        "x.flac",
        "three",
    ),
    Case(
        "audio", "random bytes .flac", lambda d: _transcribe(_write(d, "r.flac", _noise_bytes())), 1, "r.flac"
    ),
    Case("audio", "random bytes .aac", lambda d: _transcribe(_write(d, "r.aac", _noise_bytes())), 1, "r.aac"),
    Case(
        "audio",
        "truncated FLAC",
        lambda d: _transcribe(_truncated(d, DATA / "sc_yes_03401e93_nohash_0.flac", "cut.flac")),
        1,
        "cut.flac",
        "three",
    ),
    Case(
        "audio", "a folder without audio", lambda d: _transcribe(str(_folder(d))), 1, "empty-folder", "three"
    ),
    Case(
        "audio",
        "a video without sound",
        lambda d: _transcribe(str(DATA / "hands" / "hand_clip.mp4")),
        1,
        "hand_clip.mp4",
        "three",
    ),
    Case("audio", "a photo", lambda d: _transcribe(str(GOOD_PHOTO)), 1, GOOD_PHOTO.name, "three"),
    Case(
        "audio",
        "silence",
        lambda d: ["transcribe", _wav(d, "s.wav", np.zeros(16_000)), "--format", "jsonl"],
        0,
        "",
    ),
    Case(
        "audio",
        "a constant (DC) signal",
        lambda d: ["transcribe", _wav(d, "dc.wav", np.full(16_000, 0.3)), "--format", "jsonl"],
        0,
        "",
    ),
    Case(
        "audio",
        "a 1 Hz tone",
        lambda d: ["transcribe", _wav(d, "t1.wav", _tone(1)), "--format", "jsonl"],
        0,
        "",
    ),
    Case(
        "audio",
        "--stream-file of random bytes",
        lambda d: ["transcribe", "--stream-file", _write(d, "r.flac", _noise_bytes()), "--speed", "100"],
        1,
        "r.flac",
    ),
]


def _folder(parent: Path) -> Path:
    folder = parent / "empty-folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("no audio here")
    return folder


PICTURES = [
    Case("image", "missing photo", lambda d: _gestures(str(d / "gone.jpg")), 1, "gone.jpg", '"5"'),
    Case("image", "empty .jpg", lambda d: _gestures(_write(d, "e.jpg", b"")), 1, "e.jpg", '"5"'),
    Case("image", "text named .jpg", lambda d: _gestures(_write(d, "t.jpg", "hello")), 1, "t.jpg", '"5"'),
    Case(
        "image",
        "truncated JPEG",
        lambda d: _gestures(_truncated(d, GOOD_PHOTO, "cut.jpg", 0.3)),
        1,
        "cut.jpg",
        '"5"',
    ),
    Case(
        "image",
        "random bytes .png",
        lambda d: _gestures(_write(d, "r.png", _noise_bytes())),
        1,
        "r.png",
        '"5"',
    ),
    Case(
        "image",
        "a photo too small",
        lambda d: _gestures(_write_image(d, "tiny.png", 8)),
        1,
        "tiny.png",
        '"5"',
    ),
    Case("image", "no hand in view", lambda d: _gestures(str(DATA / "hands" / "no_hand_ceiling.png")), 0, ""),
    Case(
        "video",
        "random bytes .mp4",
        lambda d: _gestures(_write(d, "r.mp4", _noise_bytes())),
        1,
        "r.mp4",
        '"5"',
    ),
    Case(
        "video",
        "truncated MP4",
        lambda d: _gestures(_truncated(d, DATA / "hands" / "hand_clip.mp4", "cut.mp4", 0.05)),
        1,
        "cut.mp4",
        '"5"',
    ),
    Case("video", "an audio file", lambda d: _gestures(str(GOOD_CLIP)), 1, GOOD_CLIP.name, '"5"'),
]


def _write_image(folder: Path, name: str, side: int) -> str:
    import cv2

    path = folder / name
    cv2.imwrite(str(path), np.full((side, side, 3), 128, np.uint8))
    return str(path)


def _batch(manifest: str, folder: Path, task: str = "transcribe") -> list[str]:
    return ["batch", task, "--input", manifest, "--output", str(folder / "out.jsonl"), "--workers", "1"]


MANIFESTS = [
    Case("manifest", "no such manifest", lambda d: _batch(str(d / "gone.jsonl"), d), 2, "gone.jsonl"),
    Case("manifest", "a line that is not JSON", lambda d: _batch(_manifest(d, ["{oops"]), d), 2, "m.jsonl:1"),
    Case(
        "manifest", "a row without a path", lambda d: _batch(_manifest(d, [{"text": "x"}]), d), 2, "m.jsonl:1"
    ),
    Case(
        "manifest",
        "a null path",
        lambda d: _batch(_manifest(d, [{"audio_filepath": None}]), d),
        2,
        "m.jsonl:1",
    ),
    Case(
        "manifest",
        "a numeric path",
        lambda d: _batch(_manifest(d, [{"audio_filepath": 7}]), d),
        2,
        "m.jsonl:1",
    ),
    Case(
        "manifest",
        "a list path",
        lambda d: _batch(_manifest(d, [{"audio_filepath": ["a.wav"]}]), d),
        2,
        "m.jsonl:1",
    ),
    Case(
        "manifest",
        "bytes that are not UTF-8",
        lambda d: _batch(_write(d, "m.jsonl", b'{"audio_filepath": "\xff\xfe"}\n'), d),
        2,
        "m.jsonl",
    ),
    Case(
        "manifest",
        "evaluate: an empty manifest",
        lambda d: ["evaluate", _write(d, "m.jsonl", "")],
        2,
        "m.jsonl",
    ),
    Case(
        "manifest",
        "evaluate: every file missing",
        lambda d: ["evaluate", _manifest(d, [{"audio_filepath": "gone.wav", "text": "one"}])],
        1,
        "nothing scored",
    ),
]

RECIPES = [
    Case("recipe", "not YAML", lambda d: _recipe(d, "name: [oops"), 2, "not valid YAML"),
    Case(
        "recipe",
        "an unknown key",
        lambda d: _recipe(d, _speech_recipe(d, MANIFEST) + "colour: red\n"),
        2,
        "colour",
    ),
    Case(
        "recipe",
        "a wrong type",
        lambda d: _recipe(d, _speech_recipe(d, MANIFEST, epochs="many")),
        2,
        "epochs",
    ),
    Case("recipe", "lr: -1", lambda d: _recipe(d, _speech_recipe(d, MANIFEST, lr=-1)), 2, "lr"),
    Case("recipe", "epochs: -1", lambda d: _recipe(d, _speech_recipe(d, MANIFEST, epochs=-1)), 2, "epochs"),
    Case(
        "recipe",
        "--set under a scalar",
        lambda d: _recipe(d, _speech_recipe(d, MANIFEST), "--set", "name.sub=1"),
        2,
        "name",
    ),
    Case(
        "recipe",
        "a training manifest that is missing",
        lambda d: _recipe(d, _speech_recipe(d, d / "gone.jsonl")),
        2,
        "gone.jsonl",
    ),
    Case(
        "recipe",
        "an empty training manifest",
        lambda d: _recipe(d, _speech_recipe(d, _write(d, "empty.jsonl", ""))),
        2,
        "empty.jsonl",
    ),
    Case(
        "recipe",
        "audio files that do not exist",
        lambda d: _recipe(
            d, _speech_recipe(d, _manifest(d, [{"audio_filepath": "gone.wav", "text": "one", "duration": 1}]))
        ),
        2,
        "gone.wav",
    ),
    Case(
        "recipe",
        "rows without text",
        lambda d: _recipe(d, _speech_recipe(d, _manifest(d, [{"audio_filepath": str(GOOD_CLIP)}]))),
        2,
        "text",
    ),
    Case(
        "recipe",
        "numeric text",
        lambda d: _recipe(
            d, _speech_recipe(d, _manifest(d, [{"audio_filepath": str(GOOD_CLIP), "text": 3}]))
        ),
        2,
        "text",
    ),
    Case(
        "recipe",
        "a hands recipe pointed at audio",
        lambda d: _recipe(
            d,
            f"name: h\nmodality: hands\ndata: {{train: [{MANIFEST}], dev: [{MANIFEST}]}}\n"
            f"heads: {{g: {{kind: classifier}}}}\noutput_dir: {d / 'run'}\n",
        ),
        2,
        "manifest.jsonl",
    ),
]

BUNDLES = [
    Case("bundle", "no such model", lambda d: ["transcribe", str(GOOD_CLIP), "--model", "nope"], 2, "nope"),
    Case(
        "bundle",
        "a folder without config.json",
        lambda d: ["transcribe", str(GOOD_CLIP), "--model", str(_folder(d))],
        2,
        "config.json",
    ),
    Case(
        "bundle",
        "config.json that is not JSON",
        lambda d: ["transcribe", str(GOOD_CLIP), "--model", _broken_config(d)],
        2,
        "config.json",
    ),
    Case(
        "bundle",
        "weights missing",
        lambda d: ["transcribe", str(GOOD_CLIP), "--model", _without_weights(d)],
        2,
        "model.safetensors",
    ),
    Case(
        "bundle",
        "sample_rate 0",
        lambda d: [
            "transcribe",
            str(GOOD_CLIP),
            "--model",
            _bundle(d, lambda c: c["features"].update(sample_rate=0)),
        ],
        2,
        "sample_rate",
    ),
    Case(
        "bundle",
        "an unknown decode method",
        lambda d: [
            "transcribe",
            str(GOOD_CLIP),
            "--model",
            _bundle(d, lambda c: c.update(decode={"method": "psychic"})),
        ],
        2,
        "psychic",
    ),
    Case(
        "bundle",
        "transcribe with a hands model",
        lambda d: ["transcribe", str(GOOD_CLIP), "--model", "sign-digits"],
        2,
        "sign-digits",
    ),
    Case(
        "bundle",
        "gestures with a speech model",
        lambda d: ["gestures", str(GOOD_PHOTO), "--model", "digits-commands"],
        2,
        "digits-commands",
    ),
    Case(
        "bundle",
        "evaluate speech with a hands model",
        lambda d: ["evaluate", str(MANIFEST), "--model", "sign-digits"],
        2,
        "sign-digits",
    ),
    Case(
        "bundle",
        "batch features with a hands model",
        lambda d: [
            "batch",
            "features",
            "--input",
            str(MANIFEST),
            "--output",
            str(d / "f"),
            "--model",
            "sign-digits",
        ],
        2,
        "sign-digits",
    ),
]


def _broken_config(folder: Path) -> str:
    target = Path(_bundle(folder, lambda c: None))
    (target / "config.json").write_text("{not json")
    return str(target)


def _without_weights(folder: Path) -> str:
    target = Path(_bundle(folder, lambda c: None))
    (target / "model.safetensors").unlink()
    return str(target)


OPTIONS = [
    Case(
        "option",
        "--batch-size 0",
        lambda d: ["transcribe", str(GOOD_CLIP), "--batch-size", "0"],
        2,
        "--batch-size",
    ),
    Case(
        "option",
        "--lm-weight nan",
        lambda d: ["transcribe", str(GOOD_CLIP), "--lm-weight", "nan"],
        2,
        "--lm-weight",
    ),
    Case(
        "option",
        "--format srt without --output",
        lambda d: ["transcribe", str(GOOD_CLIP), "--format", "srt"],
        2,
        "--output",
    ),
    Case(
        "option",
        "--format srt --output FILE",
        lambda d: ["transcribe", str(GOOD_CLIP), "--format", "srt", "--output", _write(d, "o.txt", "x")],
        2,
        "--output",
    ),
    Case(
        "option",
        "--device cuda without CUDA",
        lambda d: ["transcribe", str(GOOD_CLIP), "--device", "cuda"],
        2,
        "cuda",
    ),
    Case(
        "option",
        "--speed without --stream-file",
        lambda d: ["transcribe", str(GOOD_CLIP), "--speed", "2"],
        2,
        "--speed",
    ),
    Case(
        "option", "batch --workers 0", lambda d: [*_batch(str(MANIFEST), d), "--workers", "0"], 2, "--workers"
    ),
    Case("option", "gestures --camera -1", lambda d: ["gestures", "--camera", "-1"], 2, "--camera"),
]

CASES = AUDIO + PICTURES + MANIFESTS + RECIPES + BUNDLES + OPTIONS
TABLE: list[tuple[str, str, int, str]] = []


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    """The table of what each case printed, for the README and the issue (when asked for)."""
    yield
    target = os.environ.get("SEQREC_BAD_INPUT_TABLE")
    if target and TABLE:
        lines = ["| kind | input | exit | what seqrec says |", "|---|---|---|---|"]
        lines += [f"| {kind} | {name} | {code} | `{said}` |" for kind, name, code, said in TABLE]
        Path(target).write_text("\n".join(lines) + "\n")


def _seqrec_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("seqrec:")]


def test_at_least_forty_kinds():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.kind}: {case.name}")
def test_bad_input_gets_one_line_and_its_exit_code(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = case.make(tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own usage errors
        code = stop.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    assert code == case.exit_code, f"exit {code}: {err}"
    lines = _seqrec_lines(err)
    if case.says:
        said = next((line for line in lines if case.says in line), None)
        assert said is not None, f"no line says {case.says!r}: {err}"
        assert said.count("\n") == 0
    else:
        said = json.loads(out.splitlines()[0]).get("note", "") if out.strip() else ""
    if case.keeps:
        assert case.keeps in out, f"the good input's row is lost: {out}"
    # The table shows paths as a user would type them: inside the case's folder or the repository.
    shown = said.replace(f"{tmp_path}/", "").replace(f"{DATA.parent.parent}/", "")
    TABLE.append((case.kind, case.name, code, shown))


FUZZ_AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".au", ".webm")
FUZZ_PICTURES = (".jpg", ".png", ".bmp", ".mp4", ".avi", ".mov")


def _fuzz_inputs(folder: Path, seed: int = 2026) -> tuple[list[str], list[str]]:
    """Random bytes under every extension, and real files cut short or with a broken header."""
    rng = random.Random(seed)
    audio, pictures = [], []
    for extension in FUZZ_AUDIO + FUZZ_PICTURES:
        for i in range(3):
            path = _write(folder, f"random{i}{extension}", rng.randbytes(rng.randrange(1, 40_000)))
            (audio if extension in FUZZ_AUDIO else pictures).append(path)
    sources = [
        GOOD_CLIP,
        DATA / "sc_yes_03401e93_nohash_0.flac",
        DATA / "samples" / "pocketsphinx_goforward.wav",
    ]
    visual = [GOOD_PHOTO, DATA / "hands" / "no_hand_ceiling.png", DATA / "hands" / "hand_clip.mp4"]
    for group, files in ((audio, sources), (pictures, visual)):
        for i, source in enumerate(files):
            data = source.read_bytes()
            cut = rng.randrange(1, len(data))
            group.append(_write(folder, f"cut{i}{source.suffix}", data[:cut]))
            broken = bytearray(data)
            for _ in range(8):
                broken[rng.randrange(0, min(64, len(broken)))] = rng.randrange(256)
            group.append(_write(folder, f"header{i}{source.suffix}", bytes(broken)))
    return audio, pictures


def test_fuzz_every_input_gets_a_row_and_no_traceback(tmp_path, capsys):
    audio, pictures = _fuzz_inputs(tmp_path)
    folder = tmp_path / "all"
    folder.mkdir()
    for path in audio + pictures:
        shutil.copy(path, folder)
    runs = {
        "transcribe": (["transcribe", *audio, "--format", "jsonl"], len(audio)),
        "gestures": (["gestures", *pictures, "--model", "sign-digits", "--format", "jsonl"], len(pictures)),
        "batch transcribe": (_batch(str(folder), tmp_path / "t") + ["--quiet"], len(audio)),
        "batch gestures": (_batch(str(folder), tmp_path / "g", "gestures") + ["--quiet"], len(pictures)),
    }
    (tmp_path / "t").mkdir()
    (tmp_path / "g").mkdir()
    counts = {}
    for name, (argv, expected) in runs.items():
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        if name.startswith("batch"):
            # The job finds its inputs in the folder itself: every one it found must have a row.
            output = Path(argv[argv.index("--output") + 1])
            out = output.read_text()
            expected = json.loads(output.with_name(output.name + ".summary.json").read_text())["items"]
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        tracebacks = err.count("Traceback") + err.count("internal error")
        counts[name] = {"inputs": expected, "rows": len(rows), "tracebacks": tracebacks, "exit": code}
    target = os.environ.get("SEQREC_BAD_INPUT_TABLE")
    if target:
        Path(target).with_suffix(".fuzz.json").write_text(json.dumps(counts, indent=2) + "\n")
    for name, count in counts.items():
        assert count["tracebacks"] == 0, (name, count)
        assert count["exit"] in (0, 1), (name, count)
        assert count["rows"] == count["inputs"] > 0, (name, count)
