"""Nothing a user feeds the command costs a traceback or another input's result.

Each case asserts the exit code, the one stderr line, and that every other input still got its
row. Inputs are the real clips of tests/data, or files made from them (or from a fixed seed's
bytes) under ``tmp_path``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqrec.features import InputError
from seqrec.features.audio.reading import audio_duration, load_audio, stream_audio
from seqrec.pipelines import Pipeline, Stage
from seqrec.pipelines.cli import main

DATA = Path(__file__).parent / "data"
THREE = str(DATA / "3_jackson_0.wav")  # says "three"
SEVEN = str(DATA / "7_theo_1.wav")  # says "seven"
ZERO = str(DATA / "0_nicolas_2.wav")  # says "zero"
HAND_PHOTO = DATA / "hands" / "sign_digit_1_IMG_1119.JPG"
HOW_TO_REPORT = "please report it with the command and the output of SEQREC_DEBUG=1 seqrec ... (or --debug)"
NATIVE_NOISE = ("INFO:", "W0000", "WARNING: Logging", "Note:", "I0000", "E0000")


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _html_as_flac(folder: Path) -> Path:
    """A web server's error page saved under an audio name: FFmpeg's probe calls it FLAC at 0 Hz."""
    path = folder / "download.flac"
    path.write_bytes(b"<html>404</html>")
    return path


def _random_bytes(folder: Path, name: str, seed: int = 0, size: int = 5000) -> Path:
    path = folder / name
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


def _seqrec(*args: str, cwd: Path | None = None, stdin=None) -> subprocess.CompletedProcess:
    """The command in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "seqrec.pipelines.cli", *args],
        check=False,
        capture_output=True,
        text=stdin is None,
        cwd=cwd,
        stdin=stdin,
        timeout=300,
    )


# -- 1. one bad file loses nothing but its own row ------------------------------------------------


def test_an_html_page_named_flac_is_its_own_error_and_the_good_file_is_transcribed(
    bundled_model, tmp_path, capsys
):
    bad = _html_as_flac(tmp_path)
    code = main(["transcribe", THREE, str(bad)])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.splitlines() == [
        f"seqrec: {bad}: not an audio file libsndfile or FFmpeg can read (no sample rate)"
    ]
    assert out.splitlines() == [f"{THREE}\tthree"]


def test_the_reader_refuses_a_zero_hertz_stream_with_an_input_error(tmp_path):
    bad = _html_as_flac(tmp_path)
    for read in (load_audio, audio_duration, lambda path: list(stream_audio(path))):
        with pytest.raises(InputError, match="no sample rate"):
            read(bad)


@pytest.mark.parametrize("name", ["random.flac", "random.aac", "random.mp3", "random.wav", "random.m4a"])
def test_random_bytes_under_an_audio_name_are_one_error_row(bundled_model, tmp_path, capsys, name):
    bad = _random_bytes(tmp_path, name)
    code = main(["transcribe", str(bad), SEVEN, "--format", "jsonl"])
    out, err = capsys.readouterr()
    rows = _jsonl(out)
    assert code == 1
    [line] = err.splitlines()
    assert line == f"seqrec: {bad}: {rows[0]['error']}"
    assert rows[0]["path"] == str(bad) and set(rows[0]) == {"path", "error"}
    assert (rows[1]["path"], rows[1]["text"]) == (SEVEN, "seven")


def test_a_folder_of_random_and_damaged_files_gives_a_row_for_every_file(bundled_model, tmp_path, capsys):
    folder = tmp_path / "downloads"
    folder.mkdir()
    rng = np.random.default_rng(1)
    real = Path(THREE).read_bytes()
    bad = []
    for i, ext in enumerate([".flac", ".aac", ".mp3", ".ogg", ".wav", ".m4a", ".webm", ".opus"] * 2):
        if i % 2:  # a real clip with bytes of its header overwritten
            data = bytearray(real)
            data[:64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
            (folder / f"damaged{i}{ext}").write_bytes(bytes(data))
        else:
            (folder / f"random{i}{ext}").write_bytes(rng.bytes(int(rng.integers(1, 20_000))))
        bad.append(str(folder / (f"damaged{i}{ext}" if i % 2 else f"random{i}{ext}")))
    good = {str(folder / "a_three.wav"): "three", str(folder / "z_zero.wav"): "zero"}
    for path, source in zip(good, (THREE, ZERO), strict=True):
        Path(path).write_bytes(Path(source).read_bytes())
    code = main(["transcribe", str(folder), "--format", "jsonl", "--batch-size", "4"])
    out, err = capsys.readouterr()
    rows = {row["path"]: row for row in _jsonl(out)}
    assert set(rows) == set(bad) | set(good)
    assert {path: rows[path]["text"] for path in good} == good
    failed = [row for row in rows.values() if "error" in row]
    assert code == (1 if failed else 0)
    assert sorted(err.splitlines()) == sorted(f"seqrec: {row['path']}: {row['error']}" for row in failed)
    assert not any(row["error"].startswith("unexpected") for row in failed)


def test_stream_file_of_random_bytes_is_one_line_and_one_error_row(bundled_model, tmp_path, capsys):
    bad = _random_bytes(tmp_path, "random.flac")
    code = main(["transcribe", "--stream-file", str(bad), "--speed", "50", "--format", "jsonl"])
    out, err = capsys.readouterr()
    [row] = _jsonl(out)
    assert code == 1
    assert err.splitlines() == [f"seqrec: {bad}: {row['error']}"]
    assert row["path"] == str(bad)


class _Double(Stage):
    requires = ("x",)
    provides = ("y",)

    def process_batch(self, samples):
        if any(sample["x"] == 13 for sample in samples):
            raise TypeError("unlucky number")
        return [{**sample, "y": 2 * sample["x"]} for sample in samples]


def test_a_batch_that_raises_on_one_item_costs_that_item_alone():
    out = Pipeline([("double", _Double())]).run_batch([{"id": i, "x": x} for i, x in enumerate([1, 13, 3])])
    assert [sample.get("y") for sample in out] == [2, None, 6]
    assert out[1]["error"] == "unexpected TypeError: unlucky number"


def test_an_unexpected_error_on_one_input_is_its_row_saying_it_is_a_bug(bundled_model, monkeypatch, capsys):
    from seqrec.pipelines.speech.stages import SpectralFeatures

    real = SpectralFeatures.process_batch

    def fails_on_seven(self, samples):
        if any(sample["path"] == SEVEN for sample in samples):
            raise TypeError("a bug")
        return real(self, samples)

    monkeypatch.setattr(SpectralFeatures, "process_batch", fails_on_seven)
    code = main(["transcribe", THREE, SEVEN, ZERO])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.splitlines() == [f"seqrec: {SEVEN}: unexpected TypeError: a bug: {HOW_TO_REPORT}"]
    assert out.splitlines() == [f"{THREE}\tthree", f"{ZERO}\tzero"]


# -- 2. each result written as soon as its batch is done ------------------------------------------


@pytest.mark.parametrize("fmt", ["txt", "json", "jsonl"])
def test_each_result_is_written_before_the_next_batch_is_run(bundled_model, monkeypatch, fmt):
    from seqrec.pipelines.speech.transcriber import Transcriber

    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    written_before = []  # what stdout held when each result came out of the model
    real = Transcriber.transcribe_paths

    def spy(self, paths):
        for record in real(self, paths):
            written_before.append(stdout.getvalue())
            yield record

    monkeypatch.setattr(Transcriber, "transcribe_paths", spy)
    assert main(["transcribe", THREE, SEVEN, ZERO, "--format", fmt, "--batch-size", "1"]) == 0
    assert written_before[0] in ("", "[")
    assert "three" in written_before[1] and "seven" in written_before[2] and "zero" not in written_before[2]
    if fmt == "json":
        assert [r["text"] for r in json.loads(stdout.getvalue())] == ["three", "seven", "zero"]


def test_gestures_json_grows_an_element_per_file_as_each_is_done(monkeypatch):
    from seqrec.pipelines.hands.recognizer import GestureRecognizer

    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    written_before = []
    real = GestureRecognizer.recognize

    def spy(self, path, *args, **kwargs):
        written_before.append(stdout.getvalue())
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(GestureRecognizer, "recognize", spy)
    photo = str(HAND_PHOTO)
    assert main(["gestures", photo, photo, "--model", "sign-digits", "--format", "json"]) == 0
    assert written_before[0] == "["
    assert json.loads(written_before[1] + "\n]")[0]["path"] == photo
    assert len(json.loads(stdout.getvalue())) == 2


# -- 3. a bug is one line that says so; the traceback on request ----------------------------------


def _break_the_transcriber(monkeypatch):
    from seqrec.pipelines.speech.transcriber import Transcriber

    def broken(*args, **kwargs):
        raise TypeError("something the code did wrong")

    monkeypatch.setattr(Transcriber, "__init__", broken)


def test_a_bug_is_one_line_saying_how_to_report_it_and_exit_1(monkeypatch, capsys):
    _break_the_transcriber(monkeypatch)
    monkeypatch.delenv("SEQREC_DEBUG", raising=False)
    code = main(["transcribe", THREE])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"seqrec: internal error (TypeError: something the code did wrong): {HOW_TO_REPORT}"
    ]


@pytest.mark.parametrize("how", ["--debug first", "--debug after the command", "SEQREC_DEBUG=1"])
def test_debug_shows_the_traceback_of_a_bug(monkeypatch, capsys, how):
    _break_the_transcriber(monkeypatch)
    argv = ["transcribe", THREE]
    if how == "SEQREC_DEBUG=1":
        monkeypatch.setenv("SEQREC_DEBUG", "1")
    else:
        monkeypatch.delenv("SEQREC_DEBUG", raising=False)
        argv = ["--debug", *argv] if how == "--debug first" else [*argv, "--debug"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.splitlines()[-1].startswith("seqrec: internal error (TypeError: something the code did wrong)")


# -- 4. standard input, --output, odd paths, odd numbers ------------------------------------------


class _Stdin(io.TextIOWrapper):
    def __init__(self, data: bytes, tty: bool = False):
        super().__init__(io.BytesIO(data))
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_a_dash_reads_audio_from_standard_input(bundled_model, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(Path(THREE).read_bytes()))
    assert main(["transcribe", "-", SEVEN, "--format", "jsonl"]) == 0
    rows = _jsonl(capsys.readouterr().out)
    assert [(row["path"], row["text"]) for row in rows] == [("-", "three"), (SEVEN, "seven")]


def test_bad_bytes_on_standard_input_are_the_error_of_dash(bundled_model, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin(b"<html>404</html>"))
    code = main(["transcribe", THREE, "-"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.splitlines() == ["seqrec: -: not an audio file libsndfile or FFmpeg can read"]
    assert out.splitlines() == [f"{THREE}\tthree"]


def test_the_console_script_reads_a_pipe(bundled_model, tmp_path):
    with open(THREE, "rb") as audio:
        done = _seqrec("transcribe", "-", cwd=tmp_path, stdin=audio)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"three\n", b"")


@pytest.mark.parametrize(
    "argv, tty, message",
    [
        (["-"], True, "-: standard input is a terminal; pipe the audio in (seqrec transcribe - < x.wav)"),
        (["-", "-"], False, "- (standard input) can be given once"),
    ],
)
def test_standard_input_that_cannot_be_read_is_a_usage_error(monkeypatch, capsys, argv, tty, message):
    monkeypatch.setattr(sys, "stdin", _Stdin(b"", tty=tty))
    code = main(["transcribe", *argv])
    assert (code, *capsys.readouterr()) == (2, "", f"seqrec: {message}\n")


def test_txt_with_output_writes_a_text_file_per_input_mirroring_the_paths(
    bundled_model, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "clip.wav").write_bytes(Path(THREE).read_bytes())
    bad = _html_as_flac(tmp_path / "a")
    code = main(["transcribe", "a/clip.wav", "b/clip.wav", "a/download.flac", "--output", "out"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"seqrec: a/download.flac: {load_error(bad)}"]
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt"))
    assert written == ["a/clip.txt", "b/clip.txt"]
    assert (tmp_path / "out" / "a" / "clip.txt").read_text() == "three\n"


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as error:
        load_audio(path)
    return error.value.reason


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_with_output_writes_that_one_file(bundled_model, tmp_path, capsys, fmt):
    target = tmp_path / "results" / f"all.{fmt}"
    bad = _html_as_flac(tmp_path)
    code = main(["transcribe", THREE, str(bad), SEVEN, "--format", fmt, "--output", str(target)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and err.startswith(f"seqrec: {bad}: ")
    text = target.read_text()
    rows = json.loads(text) if fmt == "json" else _jsonl(text)
    assert [row.get("text", row.get("error")) for row in rows] == ["three", load_error(bad), "seven"]


@pytest.mark.parametrize(
    "fmt, target, message",
    [
        ("srt", "file", "--output {}: a file; --format srt writes a file per input into a folder"),
        ("vtt", "file", "--output {}: a file; --format vtt writes a file per input into a folder"),
        ("txt", "file", "--output {}: a file; --format txt writes a file per input into a folder"),
        ("json", "folder", "--output {}: a folder; --format json writes one file"),
        ("jsonl", "folder", "--output {}: a folder; --format jsonl writes one file"),
    ],
)
def test_an_output_of_the_wrong_kind_is_a_usage_error_that_writes_nothing(
    tmp_path, capsys, fmt, target, message
):
    output = tmp_path / "existing"
    if target == "file":
        output.write_text("keep me\n")
    else:
        output.mkdir()
    code = main(["transcribe", THREE, "--format", fmt, "--output", str(output)])
    assert (code, *capsys.readouterr()) == (2, "", f"seqrec: {message.format(output)}\n")
    assert (output.read_text() == "keep me\n") if target == "file" else list(output.iterdir()) == []


def test_newlines_and_tabs_in_paths_are_escaped_in_txt_and_on_stderr(bundled_model, tmp_path, capsys):
    odd = tmp_path / "two\nlines.wav"
    odd.write_bytes(Path(THREE).read_bytes())
    tabbed = tmp_path / "tab\there.wav"
    tabbed.write_bytes(b"<html>404</html>")
    code = main(["transcribe", str(odd), str(tabbed), SEVEN])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [f"{tmp_path}/two\\nlines.wav\tthree", f"{SEVEN}\tseven"]
    [line] = err.splitlines()
    assert line.startswith(f"seqrec: {tmp_path}/tab\\there.wav: ")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_language_model_weight_that_is_not_finite_is_a_usage_error(capsys, value):
    code = main(["transcribe", THREE, "--decoder", "beam", f"--lm-weight={value}"])
    assert (code, *capsys.readouterr()) == (
        2,
        "",
        f"seqrec: --lm-weight {float(value)}: give a finite number\n",
    )


# -- 5. a model of the wrong kind -----------------------------------------------------------------


def test_transcribe_with_a_hands_model_is_one_line_exit_2(capsys):
    code = main(["transcribe", THREE, "--model", "sign-digits"])
    assert (code, *capsys.readouterr()) == (2, "", "seqrec: sign-digits: a model for hands, not for speech\n")


def test_evaluate_of_a_speech_manifest_with_a_hands_model_is_one_line_exit_2(capsys):
    code = main(["evaluate", str(DATA / "manifest.jsonl"), "--model", "sign-digits"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("seqrec: ") and "audio_filepath" in line


def test_batch_features_with_a_hands_model_is_one_line_exit_2(tmp_path, capsys):
    code = main(
        ["batch", "features", "--input", THREE, "--output", str(tmp_path / "f"), "--model", "sign-digits"]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "seqrec: model sign-digits: a hands model; batch features computes audio features"
    ]
    assert not (tmp_path / "f").exists()


# -- 6. native libraries stay quiet ---------------------------------------------------------------


def test_evaluate_on_a_hands_model_prints_no_native_logs(tmp_path):
    manifest = tmp_path / "hands.jsonl"
    manifest.write_text(json.dumps({"image_filepath": str(HAND_PHOTO), "label": "1"}) + "\n")
    done = _seqrec("evaluate", str(manifest), "--model", "sign-digits", "--out", str(tmp_path / "eval"))
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["errors"] == 0


def test_batch_gestures_prints_only_its_own_lines(tmp_path):
    missing = tmp_path / "missing.jpg"
    listed = tmp_path / "inputs.jsonl"
    listed.write_text(
        "".join(json.dumps({"image_filepath": str(p), "label": "1"}) + "\n" for p in (HAND_PHOTO, missing))
    )
    out = tmp_path / "rows.jsonl"
    done = _seqrec("batch", "gestures", "--input", str(listed), "--output", str(out), "--workers", "1")
    assert done.returncode == 1
    assert not [line for line in done.stderr.splitlines() if line.startswith(NATIVE_NOISE)]
    assert done.stderr.startswith("seqrec: ")
    assert len(_jsonl(out.read_text())) == 2


def test_transcribing_damaged_mp3s_prints_no_decoder_notes(bundled_model, tmp_path):
    damaged = tmp_path / "damaged.mp3"
    data = bytearray(Path(THREE).read_bytes())
    damaged.write_bytes(b"ID3" + bytes(data[3:]))
    done = _seqrec("transcribe", str(damaged), SEVEN, cwd=tmp_path)
    assert done.returncode in (0, 1)
    assert not [line for line in done.stderr.splitlines() if not line.startswith("seqrec: ")]
    assert f"{SEVEN}\tseven" in done.stdout.splitlines()
