"""`seqrec gestures` and `seqrec record` on real photos and video (tests/data/hands, see its README).

Photos and the clip go through the bundled ``sign-digits`` model; the live path is fed the clip at
its own pace through the camera's code (``paced(FrameSource(...))``), and the window opens on a
virtual X display (Xvfb) when one is installed. The unusual and broken inputs are made at test
time from the real files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from seqrec.features import MIN_SIDE, FrameSource, HandLandmarker, InputError
from seqrec.features.vision import frames as frames_module
from seqrec.features.vision.frame_readers import NewestFrame, paced
from seqrec.models import bundled_model_names
from seqrec.pipelines.cli import main
from seqrec.pipelines.hands.data import load_hand_sequences
from seqrec.pipelines.hands.live import LiveGestures
from seqrec.pipelines.hands.media import expand_media_inputs, recognize_file
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.overlay import draw_overlay
from seqrec.pipelines.hands.stream import GestureStream

HANDS_DIR = Path(__file__).parent / "data" / "hands"
CLIP = HANDS_DIR / "hand_clip.mp4"  # 38 frames at 25 fps (0.00-1.48 s), a right hand in every one
CLIP_SECONDS = 38 / 25
NO_HAND = HANDS_DIR / "no_hand_ceiling.png"
# What sign-digits says about each digit photo: all four right (checked by eye against the folders
# of the dataset they come from).
DIGIT_PHOTOS = {
    "sign_digit_0_IMG_1322.JPG": "0",
    "sign_digit_1_IMG_1119.JPG": "1",
    "sign_digit_4_IMG_1295.JPG": "4",
    "sign_digit_5_IMG_1123.JPG": "5",
}
FIVE = HANDS_DIR / "sign_digit_5_IMG_1123.JPG"  # found at once, 0.97 sure, and in grayscale too
MODEL = "sign-digits"
DIGITS = {str(d) for d in range(10)}
HAND_GESTURES = "hand-gestures"
needs_hand_gestures = pytest.mark.skipif(
    HAND_GESTURES not in bundled_model_names(), reason="the hand-gestures bundle is not built yet"
)


@pytest.fixture(scope="module")
def model() -> GestureModel:
    return GestureModel(MODEL, "cpu")


@pytest.fixture(scope="module")
def landmarks() -> HandLandmarker:
    with HandLandmarker() as finder:
        yield finder


def run_cli(capsys, *args: str) -> tuple[int, str, list[str]]:
    """``seqrec ARGS`` in this process: exit code, stdout, stderr lines."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# -- photos and videos -----------------------------------------------------------------------------


def test_digit_photos_and_a_photo_without_hands_as_jsonl_rows(capsys, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in [*DIGIT_PHOTOS, NO_HAND.name]:
        shutil.copyfile(HANDS_DIR / name, folder / name)
    code, out, err = run_cli(capsys, "gestures", folder, "--model", MODEL, "--format", "jsonl")
    assert code == 0 and err == []
    rows = {Path(row["path"]).name: row for row in jsonl(out)}
    assert list(rows) == sorted(rows), "a folder's files in order"
    for name, digit in DIGIT_PHOTOS.items():
        assert set(rows[name]) == {"path", "label", "score", "hands"}
        assert rows[name]["label"] == digit and rows[name]["hands"] == 1 and 0.5 < rows[name]["score"] <= 1
    assert rows[NO_HAND.name] == {
        "path": str(folder / NO_HAND.name),
        "label": "none",
        "score": 0.0,
        "hands": 0,
    }


def test_video_gives_segments_within_its_duration(model, landmarks):
    record = recognize_file(model, landmarks, str(CLIP))
    assert record["frames"] == 38 and record["duration"] == pytest.approx(CLIP_SECONDS)
    assert record["segments"], "the raised hand reads as a digit"
    for segment in record["segments"]:
        assert segment["head"] == "digit" and segment["label"] in DIGITS
        assert 0 <= segment["start"] < segment["end"] <= record["duration"] and 0 < segment["score"] <= 1


def test_video_windows_batched_give_the_live_stream_s_events(model, landmarks):
    """A file's windows go through the model in batches; the events are those of the live stream
    fed frame by frame, batch boundaries included."""
    with FrameSource(CLIP) as source:
        hands = list(landmarks.track(source))
    live = GestureStream(model)
    one_by_one = [(live.push(frame), live.classified, live.labels) for frame in hands]
    batched = GestureStream(model)
    in_batches = [
        (events, batched.classified, batched.labels) for _, events in batched.push_many(hands, batch_size=3)
    ]
    assert [(e, c) for e, c, _ in in_batches] == [(e, c) for e, c, _ in one_by_one]
    for (_, _, a), (_, _, b) in zip(one_by_one, in_batches, strict=False):
        assert a.keys() == b.keys() and all(
            a[k][0] == b[k][0] and a[k][1] == pytest.approx(b[k][1], abs=1e-5) for k in a
        )
    assert any(events for events, _, _ in one_by_one), "the clip changes the label at least once"


def test_txt_is_one_line_per_input_and_json_one_array(capsys):
    photo, no_hand = HANDS_DIR / "sign_digit_1_IMG_1119.JPG", NO_HAND
    code, out_one, _ = run_cli(capsys, "gestures", photo, "--model", MODEL)
    out = out_one
    assert code == 0 and re.fullmatch(r"1 \((0\.9\d|1\.00)\)\n", out), "one input: the result alone"
    code, out, _ = run_cli(capsys, "gestures", photo, no_hand, CLIP, "--model", MODEL)
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"{photo}\t{out_one.strip()}" and lines[1] == f"{no_hand}\tnone"
    assert re.fullmatch(re.escape(f"{CLIP}\t") + r"\S+ \d+\.\d+-\d+\.\d+ s \(0\.\d\d\)", lines[2]), (
        "a segment: label, start-end, score"
    )
    code, out, _ = run_cli(
        capsys, "gestures", photo, HANDS_DIR / "missing.png", "--model", MODEL, "--format", "json"
    )
    rows = json.loads(out)
    assert 0.9 < rows[0].pop("score") <= 1.0
    assert code == 1 and rows == [
        {"path": str(photo), "label": "1", "hands": 1},
        {"path": str(HANDS_DIR / "missing.png"), "error": "no such file"},
    ]


# -- bad and unusual inputs ------------------------------------------------------------------------


def _truncated_jpeg(folder: Path) -> Path:
    data = FIVE.read_bytes()
    (folder / "cut_short.jpg").write_bytes(data[: len(data) // 2])
    return folder / "cut_short.jpg"


def _zeroed_video(folder: Path) -> Path:
    """The clip's container intact and its picture data zeroed: it opens, and no frame decodes."""
    data = bytearray(CLIP.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4
    data[start:end] = bytes(end - start)
    (folder / "zeroed.mp4").write_bytes(bytes(data))
    return folder / "zeroed.mp4"


def _write(folder: Path, name: str, text: str = "", data: bytes | None = None) -> Path:
    path = folder / name
    path.write_bytes(data if data is not None else text.encode())
    return path


def _tiny(folder: Path) -> Path:
    path = folder / "tiny.png"
    cv2.imwrite(str(path), cv2.resize(cv2.imread(str(FIVE)), (20, 20), interpolation=cv2.INTER_AREA))
    return path


BAD_INPUTS = {
    "missing": (lambda folder: folder / "missing.jpg", "no such file"),
    "empty": (lambda folder: _write(folder, "empty.png", data=b""), "empty file (0 bytes)"),
    "text named .jpg": (
        lambda folder: _write(folder, "notes.jpg", "meeting notes\n"),
        "not an image (no format OpenCV reads)",
    ),
    "text named .txt": (
        lambda folder: _write(folder, "notes.txt", "meeting notes\n"),
        "not an image or a video OpenCV can read",
    ),
    "text named .mp4": (
        lambda folder: _write(folder, "notes.mp4", "meeting notes\n"),
        "not a video OpenCV can read",
    ),
    "truncated jpeg": (_truncated_jpeg, "corrupt JPEG: the data ends early (truncated file)"),
    "corrupt video": (_zeroed_video, "no video frames (empty or corrupt video)"),
    "tiny": (_tiny, f"image is 20x20 px; hands need at least {MIN_SIDE} px on each side"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_an_error_row_with_its_reason(model, landmarks, tmp_path, case):
    make, reason = BAD_INPUTS[case]
    path = str(make(tmp_path))
    assert recognize_file(model, landmarks, path) == {"path": path, "error": reason}


def test_folder_without_images_or_videos_is_one_error_and_the_rest_still_run(capsys, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("no pictures here\n")
    assert expand_media_inputs([str(notes)]) == [(str(notes), "no images or videos in this folder")]
    code, out, err = run_cli(
        capsys, "gestures", notes, FIVE, tmp_path / "gone.png", "--model", MODEL, "--format", "jsonl"
    )
    assert code == 1
    rows = jsonl(out)
    assert 0.9 < rows[1].pop("score") <= 1.0
    assert rows == [
        {"path": str(notes), "error": "no images or videos in this folder"},
        {"path": str(FIVE), "label": "5", "hands": 1},
        {"path": str(tmp_path / "gone.png"), "error": "no such file"},
    ]
    assert err == [
        f"seqrec: {notes}: no images or videos in this folder",
        f"seqrec: {tmp_path / 'gone.png'}: no such file",
    ]


def _save(folder: Path, name: str, image: np.ndarray) -> str:
    path = folder / name
    assert cv2.imwrite(str(path), image)
    return str(path)


def test_grayscale_rgba_16_bit_and_huge_photos_read_as_the_photo(model, landmarks, tmp_path):
    bgr = cv2.imread(str(FIVE))
    gray = _save(tmp_path, "gray.png", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    rgba = _save(tmp_path, "rgba.png", cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA))
    deep = _save(tmp_path, "deep.png", bgr.astype(np.uint16) * 257)
    huge = _save(tmp_path, "huge.png", cv2.resize(bgr, (3000, 3000), interpolation=cv2.INTER_LINEAR))
    assert (
        cv2.imread(gray, cv2.IMREAD_UNCHANGED).ndim == 2
        and cv2.imread(rgba, cv2.IMREAD_UNCHANGED).shape[2] == 4
    )
    assert cv2.imread(deep, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    for path in (gray, rgba, deep, huge):
        record = recognize_file(model, landmarks, path)
        assert (record["label"], record["hands"]) == ("5", 1), path
    assert (
        recognize_file(model, landmarks, deep)["score"]
        == recognize_file(model, landmarks, str(FIVE))["score"]
    )


def test_photo_without_a_hand_is_none_not_an_error(model, landmarks):
    assert recognize_file(model, landmarks, str(NO_HAND)) == {
        "path": str(NO_HAND),
        "label": "none",
        "score": 0.0,
        "hands": 0,
    }


def test_two_hands_are_both_seen(model, landmarks, tmp_path):
    bgr = cv2.imread(str(FIVE))
    both = _save(
        tmp_path, "two_hands.png", np.hstack([bgr, bgr[:, ::-1]])
    )  # a right hand, and beside it a left one
    record = recognize_file(model, landmarks, both)
    assert record["hands"] == 2 and record["label"] in DIGITS


def test_left_hand_is_seen_as_one_hand(model, landmarks, tmp_path):
    left = _save(tmp_path, "left.png", cv2.imread(str(FIVE))[:, ::-1])
    assert recognize_file(model, landmarks, left)["hands"] == 1
    assert recognize_file(model, landmarks, str(FIVE), flip=True)["hands"] == 1


def test_left_hand_reads_as_the_same_digit(model, landmarks, tmp_path):
    """sign-digits trains with mirrored pictures (a left-handed signer), so a lone left hand reads too."""
    left = _save(tmp_path, "left.png", cv2.imread(str(FIVE))[:, ::-1])
    assert recognize_file(model, landmarks, left)["label"] == "5"


def test_command_prints_one_stderr_line_per_bad_input_and_no_native_logs(tmp_path):
    """The installed command in its own process: MediaPipe's start-up chatter stays off stderr."""
    missing = tmp_path / "missing.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqrec.pipelines.cli",
            "gestures",
            str(NO_HAND),
            str(missing),
            "--model",
            MODEL,
            "--format",
            "jsonl",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == f"seqrec: {missing}: no such file\n"
    assert [row.get("label", row.get("error")) for row in jsonl(result.stdout)] == ["none", "no such file"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "gestures: give PATH..., --camera N or --stream-file FILE (one of them)"),
        ([FIVE, "--camera", "0"], "gestures: give PATH..., --camera N or --stream-file FILE (one of them)"),
        (["--camera", "-1"], "--camera -1: a camera index is 0 or more"),
        (
            ["--camera", "0", "--format", "json"],
            "--format json: live gestures print txt or jsonl, a line per label change",
        ),
        ([FIVE, "--no-window"], "--window and --no-window go with --camera or --stream-file"),
        (
            ["--camera", "0", "--window"],
            "--window: no display to open it on (DISPLAY is not set); use --no-window",
        ),
        ([HANDS_DIR, "--overlay-png", "out.png"], "--overlay-png takes one PATH, a video (or a photo)"),
        ([FIVE, "--model", "digits-commands"], "digits-commands: a model for speech, not for hands"),
    ],
    ids=[
        "nothing",
        "two sources",
        "negative camera",
        "json live",
        "window for files",
        "window without display",
        "overlay of a folder",
        "speech model",
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, monkeypatch, args, message):
    monkeypatch.delenv("DISPLAY", raising=False)
    code, out, err = run_cli(capsys, "gestures", *args, *([] if "--model" in args else ["--model", MODEL]))
    assert (code, out, err) == (2, "", [f"seqrec: {message}"])


# -- live: the camera's code path ------------------------------------------------------------------


def test_camera_path_fed_by_a_video_keeps_up_and_reports_label_changes(model, landmarks):
    events: list[dict] = []
    with FrameSource(CLIP) as source:
        stats = LiveGestures(model, landmarks).run(paced(source), on_event=events.append)
    assert stats.read == 38 and stats.processed + stats.dropped == 38
    assert stats.processed >= 19, "an idle machine processes nearly all; at least half even when busy"
    assert stats.seconds == pytest.approx(CLIP_SECONDS, abs=0.6), "played at the camera's pace"
    assert events and all(set(e) == {"time", "head", "label", "score"} for e in events)
    assert all(
        e["head"] == "digit" and e["label"] in DIGITS | {"none"} and 0 <= e["time"] <= 1.48 for e in events
    )


def test_slow_consumer_drops_frames_and_never_falls_behind():
    """A consumer taking 0.2 s per frame of a 25 fps stream: it gets the newest frame every time."""
    taken: list[tuple[float, float]] = []  # (frame time, wall time since the stream began)
    with FrameSource(CLIP) as source:
        reader = NewestFrame(paced(source))
        with reader:
            started = time.monotonic()
            for seconds, _ in reader:
                taken.append((seconds, time.monotonic() - started))
                time.sleep(0.2)
        elapsed = time.monotonic() - started
    assert reader.read == 38 and reader.dropped == 38 - len(taken) and reader.dropped >= 25
    # No backlog: each frame taken is at most one consumer step (plus a frame) older than the clock.
    assert all(wall - seconds < 0.2 + 0.1 for seconds, wall in taken)
    assert taken[-1][0] >= 1.2 and elapsed < CLIP_SECONDS + 0.5


def test_slow_window_shows_the_dropped_count(model, landmarks):
    pictures = []

    def slow_show(picture: np.ndarray) -> bool:
        pictures.append(picture)
        time.sleep(0.15)
        return True

    with FrameSource(CLIP) as source:
        stats = LiveGestures(model, landmarks).run(paced(source), show=slow_show)
    assert stats.dropped > 10 and stats.processed == len(pictures) == 38 - stats.dropped
    assert stats.seconds < CLIP_SECONDS + 0.6


def test_source_error_comes_after_the_frame_read_before_it():
    def three_frames_then_lost():
        for index in range(3):
            yield index * 0.04, np.full((40, 40, 3), index, np.uint8)
        raise InputError("camera 0", "the camera stopped delivering frames")

    taken = []
    with (
        NewestFrame(three_frames_then_lost()) as reader,
        pytest.raises(InputError, match="stopped delivering"),
    ):
        for _seconds, frame in reader:
            taken.append(int(frame[0, 0, 0]))
    assert taken[-1] == 2 and reader.read == 3 and reader.dropped == 3 - len(taken)


def test_no_camera_at_index_99_is_one_line(capsys):
    code, out, err = run_cli(capsys, "gestures", "--camera", "99", "--no-window", "--model", MODEL)
    message = "no camera at this index, or another program is using it"
    assert (code, err) == (1, [f"seqrec: camera 99: {message}"])
    assert jsonl(out) == [{"path": "camera 99", "error": message}]


def test_camera_lost_mid_stream_is_one_line_after_its_events(capsys, monkeypatch):
    """The clip through OpenCV's camera code: frames timed by the clock, and its end is a camera lost."""
    monkeypatch.setattr(frames_module, "_open_capture", lambda source: cv2.VideoCapture(str(CLIP)))
    code, out, err = run_cli(capsys, "gestures", "--camera", "0", "--no-window", "--model", MODEL)
    message = "the camera stopped delivering frames (2 s without one): unplugged or taken by another program?"
    assert (code, err) == (1, [f"seqrec: camera 0: {message}"])
    rows = jsonl(out)
    assert rows[-1] == {"path": "camera 0", "error": message}
    assert all(set(row) == {"time", "head", "label", "score"} for row in rows[:-1])


def test_stream_file_reports_frames_processed_and_dropped(capsys):
    code, out, err = run_cli(
        capsys, "gestures", "--stream-file", CLIP, "--no-window", "--model", MODEL, "--format", "txt"
    )
    assert code == 0 and len(err) == 1
    assert err[0].startswith(f"seqrec: {CLIP}: ") and err[0].endswith(" of 38 dropped to keep up")
    assert all(line.split("\t")[1].split(" ")[0] in DIGITS | {"none"} for line in out.splitlines())


# -- the window and its overlay --------------------------------------------------------------------


@pytest.fixture
def virtual_display(tmp_path):
    """A virtual X display on a free number (Xvfb picks it), black, whose screen is a file we can read."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    width, height = 700, 400
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-br",
            "-nolisten",
            "tcp",
            "-fbdir",
            str(tmp_path),
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as number:
        display = number.readline().strip()
    try:
        assert display, "Xvfb did not start"
        yield f":{display}", tmp_path / "Xvfb_screen0", (width, height)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_window_shows_the_clip_under_xvfb(virtual_display):
    display, screen_file, (width, height) = virtual_display

    def lit_fraction() -> float:
        """The share of the screen not black: the window, since the root window is black (-br)."""
        pixels = np.frombuffer(screen_file.read_bytes()[-width * height * 4 :], np.uint8).reshape(-1, 4)
        return float(pixels[:, :3].any(axis=1).mean())

    assert lit_fraction() == 0.0
    # The clip three times over (4.6 s): a busy machine still gets the window painted while it plays.
    clip = cv2.VideoCapture(str(CLIP))
    frames = []
    while (frame := clip.read())[0]:
        frames.append(frame[1])
    longer = screen_file.parent / "clip_three_times.mp4"
    writer = cv2.VideoWriter(
        str(longer),
        cv2.VideoWriter_fourcc(*"mp4v"),
        clip.get(cv2.CAP_PROP_FPS),
        (frames[0].shape[1], frames[0].shape[0]),
    )
    for frame in frames * 3:
        writer.write(frame)
    writer.release()
    command = [
        sys.executable,
        "-m",
        "seqrec.pipelines.cli",
        "gestures",
        "--stream-file",
        str(longer),
        "--window",
        "--model",
        MODEL,
    ]
    process = subprocess.Popen(
        command,
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lit = 0.0
    while process.poll() is None:
        lit = max(lit, lit_fraction())
        time.sleep(0.05)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    # The 640x360 frame filled 82% of the 700x400 screen while it played (measured 0.90 with the
    # overlay's panel), and the window is gone once q, Esc or the clip's end closes it.
    assert lit > 0.75 and lit_fraction() == 0.0
    assert err.startswith(f"seqrec: {longer}: ") and f" of {3 * len(frames)} dropped to keep up" in err
    assert all(set(row) == {"time", "head", "label", "score"} for row in jsonl(out))


def test_overlay_draws_the_skeleton_and_leaves_the_frame_alone(landmarks):
    frame = cv2.imread(str(FIVE))
    hands = landmarks.detect(FIVE)
    original = frame.copy()
    drawn = draw_overlay(
        frame,
        hands,
        {"digit": ("5", 0.97)},
        [{"time": 0.5, "head": "digit", "label": "5", "score": 0.97}],
        fps=24.0,
        dropped=3,
    )
    np.testing.assert_array_equal(frame, original)
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    tip = np.round(hands.landmarks[0, 8, :2] * (frame.shape[1], frame.shape[0])).astype(
        int
    )  # index fingertip
    assert (drawn[tip[1], tip[0]] != frame[tip[1], tip[0]]).any(), "a joint is drawn where MediaPipe put it"
    assert np.array_equal(draw_overlay(frame), frame), "nothing to show: the frame as it was"


def test_overlay_png_of_a_video_frame(capsys, tmp_path):
    out = tmp_path / "docs" / "overlay.png"
    code, printed, err = run_cli(
        capsys, "gestures", CLIP, "--overlay-png", out, "--overlay-at", "1.0", "--model", MODEL
    )
    assert (code, printed, err) == (0, f"{out}\n", [])
    picture = cv2.imread(str(out))
    assert picture.shape == (360, 640, 3)
    with FrameSource(CLIP) as source:
        frame = next(f for t, f in source if t >= 1.0)[..., ::-1]
    changed = (np.abs(picture.astype(int) - frame.astype(int)).max(axis=2) > 40).mean()
    assert 0.01 < changed < 0.5, "the skeleton and the labels are drawn on the frame, which still shows"


# -- record ----------------------------------------------------------------------------------------


def test_two_recordings_build_one_dataset(capsys, tmp_path):
    dataset = tmp_path / "my-gestures"
    code, out, err = run_cli(capsys, "record", "Open", "--video", CLIP, "--seconds", "1", "--out", dataset)
    assert code == 0 and err == []
    assert out.startswith(f"{dataset / 'landmarks' / '000000.npz'}\tOpen\t")
    code, out, _ = run_cli(capsys, "record", "Close", "--video", CLIP, "--seconds", "0.5", "--out", dataset)
    assert code == 0 and out.startswith(f"{dataset / 'landmarks' / '000001.npz'}\tClose\t")
    rows = jsonl((dataset / "manifest.jsonl").read_text())
    assert [row["label"] for row in rows] == ["Open", "Close"]
    assert [row["features_filepath"] for row in rows] == ["landmarks/000000.npz", "landmarks/000001.npz"], (
        "relative to the manifest"
    )
    sequences = load_hand_sequences([dataset], tmp_path / "cache")
    assert [s.labels for s in sequences] == [{"": "Open"}, {"": "Close"}]
    for sequence, seconds in zip(sequences, (1.0, 0.5), strict=False):
        assert sequence.landmarks.shape[1:] == (2, 21, 3) and sequence.present[:, 0].mean() > 0.9
        assert (
            sequence.timestamps[0] == 0.0
            and sequence.timestamps[-1] < seconds
            and np.all(np.diff(sequence.timestamps) > 0)
        )
    assert len(sequences[0]) >= 12, "at the clip's pace, most of its 25 frames"


def test_recording_without_a_hand_writes_nothing(capsys, tmp_path):
    video = tmp_path / "ceiling.mp4"
    ceiling = cv2.resize(cv2.imread(str(NO_HAND)), (320, 176))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 176))
    for _ in range(10):
        writer.write(ceiling)
    writer.release()
    code, out, err = run_cli(
        capsys, "record", "Open", "--video", video, "--seconds", "2", "--out", tmp_path / "data"
    )
    assert (code, out) == (1, "") and len(err) == 1
    assert err[0].startswith(f"seqrec: {video}: no hand in view in ") and err[0].endswith(
        " frames; 'Open' not recorded"
    )
    assert not (tmp_path / "data").exists()


def test_one_run_records_a_take_per_label_after_a_pause_each(capsys, tmp_path):
    """Enrolment: a prompt, a pause to get ready, then the take, label after label, from one
    source (the clip, 1.5 s long: two 0.3 s takes with 0.1 s pauses fit)."""
    code, _, err = run_cli(
        capsys, "record", "A", "B", "--video", CLIP, "--seconds", "0.3", "--pause", "0.1", "--out", tmp_path
    )
    assert code == 0
    assert err == [
        "seqrec: A: get ready (0.1 s)",
        f"seqrec: A: recording 0.3 s from {CLIP}",
        "seqrec: B: get ready (0.1 s)",
        f"seqrec: B: recording 0.3 s from {CLIP}",
    ]
    sequences = load_hand_sequences([tmp_path], tmp_path / "cache")
    assert [s.label for s in sequences] == ["A", "B"]
    assert all(s.timestamps[-1] < 0.3 and s.present[:, 0].mean() > 0.9 for s in sequences)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (
            ["none", "--video", CLIP, "--seconds", "1"],
            2,
            "record: the label 'none' is what models say when no hand is in view; choose another",
        ),
        (["Open", "--video", CLIP, "--seconds", "0"], 2, "--seconds 0: give a positive duration"),
        (
            ["Open", "--camera", "99", "--seconds", "1"],
            1,
            "camera 99: no camera at this index, or another program is using it; nothing recorded",
        ),
        (
            ["Open", "--video", HANDS_DIR / "missing.mp4", "--seconds", "1"],
            1,
            f"{HANDS_DIR / 'missing.mp4'}: no such file; nothing recorded",
        ),
    ],
    ids=["reserved label", "no duration", "no camera", "missing video"],
)
def test_record_refusals_are_one_line(capsys, tmp_path, args, code, message):
    assert run_cli(capsys, "record", *args, "--out", tmp_path / "data") == (code, "", [f"seqrec: {message}"])
    assert not (tmp_path / "data").exists()


# -- the hand-gestures model (once built) ----------------------------------------------------------


@needs_hand_gestures
def test_hand_gestures_labels_photos_and_videos_per_head(capsys):
    code, out, err = run_cli(capsys, "gestures", FIVE, CLIP, "--format", "jsonl")
    assert code == 0 and err == []
    photo, video = jsonl(out)
    assert set(photo["labels"]) == {"shape", "motion"} and photo["label"] == photo["labels"]["shape"]["label"]
    assert {segment["head"] for segment in video["segments"]} <= {"shape", "motion"}
    assert all(0 <= s["start"] < s["end"] <= video["duration"] for s in video["segments"])


# -- record, train, recognise ----------------------------------------------------------------------

TINY_RECIPE = """\
name: tiny-hands
modality: hands
output_dir: runs/tiny-hands
data: {train: [takes], dev: [takes]}
heads:
  hand: {kind: classifier}
model: {n_hidden: 16, n_layers: 1, stack: 1, dropout: 0.0}
train: {epochs: 2, batch_frames: 256, lr: 0.02, warmup_steps: 1, loader_workers: 0}
augment: null
window: {frames: 8, hop: 2}
"""


def test_recorded_takes_train_a_model_that_gestures_loads(capsys, tmp_path, monkeypatch):
    """The plumbing from a camera to a model of one's own: two takes (the clip, and the clip
    mirrored: a left hand), a recipe naming the folder, training, and the bundle recognising."""
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "record", "Right", "--video", CLIP, "--seconds", "0.6", "--out", "takes")[0] == 0
    assert (
        run_cli(capsys, "record", "Left", "--video", CLIP, "--seconds", "0.6", "--flip", "--out", "takes")[0]
        == 0
    )
    Path("tiny.yaml").write_text(TINY_RECIPE)
    code, out, _ = run_cli(capsys, "train", "tiny.yaml", "--max-steps", "10")
    assert code == 0 and out.splitlines()[-1] == str(Path("runs/tiny-hands/best"))
    code, out, err = run_cli(
        capsys, "gestures", FIVE, CLIP, "--model", "runs/tiny-hands/best", "--format", "jsonl"
    )
    assert code == 0 and err == []
    photo, video = jsonl(out)
    assert photo["label"] in {"Left", "Right"} and photo["hands"] == 1
    assert video["frames"] == 38 and all(
        s["head"] == "hand" and s["label"] in {"Left", "Right"} for s in video["segments"]
    )
