"""``seqrec batch``: resuming after kill -9, error rows, usage errors, input readers, features, Ray.

Inputs are the real clips of tests/data (and folders, trees and manifests built from them under
``tmp_path``); the model is the bundled one. Jobs run in-process through ``cli.main`` (their
workers are real processes), and the kill test runs the installed console script.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from seqrec.pipelines.batch.inputs import BatchItem, read_inputs
from seqrec.pipelines.batch.job import run_local
from seqrec.pipelines.batch.tasks import TaskOptions
from seqrec.pipelines.cli import main
from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.feature_shards import FeatureShards, load_features
from seqrec.pipelines.core.result_log import ResultLog

# Clips of tests/data and the word each says (the bundled model gets all five right).
WORDS = {
    "3_jackson_0.wav": "three",
    "7_theo_1.wav": "seven",
    "0_nicolas_2.wav": "zero",
    "sc_yes_03401e93_nohash_0.flac": "yes",
    "sc_stop_0fa1e7a9_nohash_0.flac": "stop",
}
CLIPS = list(WORDS)
SEQREC = Path(sys.executable).with_name("seqrec")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _repeated_manifest(path: Path, data_dir: Path, repeats: int) -> list[str]:
    """A manifest naming each clip ``repeats`` times under distinct ids; returns the ids."""
    rows = [
        {"id": f"{k}/{clip}", "audio_filepath": str(data_dir / clip)}
        for k in range(repeats)
        for clip in CLIPS
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [row["id"] for row in rows]


def _batch(*args: str) -> int:
    return main(["batch", *args, "--workers", "1", "--quiet"])


# -- resuming ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the job's processes in /proc")
def test_kill_9_part_way_then_rerun_writes_every_input_exactly_once(data_dir, tmp_path):
    manifest, out = tmp_path / "jobs.jsonl", tmp_path / "out.jsonl"
    ids = _repeated_manifest(manifest, data_dir, repeats=200)
    command = [str(SEQREC), "batch", "transcribe", "--input", str(manifest), "--output", str(out)]
    command += ["--workers", "1", "--batch-size", "4", "--quiet"]
    job = subprocess.Popen(
        command, stderr=subprocess.DEVNULL, start_new_session=True
    )  # its own process group
    try:
        deadline = time.monotonic() + 60
        while (
            (not out.is_file() or out.read_text().count("\n") < 40)
            and time.monotonic() < deadline
            and job.poll() is None
        ):
            time.sleep(0.02)
        os.kill(job.pid, signal.SIGKILL)  # the job alone: its workers must notice and stop by themselves
        job.wait()
        deadline = time.monotonic() + 10
        while _running_in_group(job.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running_in_group(job.pid), "the workers outlived their killed job"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.pid, signal.SIGKILL)
    written = out.read_text().count("\n")
    assert 40 <= written < len(ids), "the job should have been killed part way"
    with out.open("a") as torn:  # a row cut short, as a kill in the middle of a write leaves it
        torn.write('{"id": "199/3_jackson_0.wav", "path": "/da')

    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    rows = _rows(out)  # every line is whole JSON again
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert all(row["text"] == WORDS[Path(row["path"]).name] for row in rows)
    summary = json.loads(out.with_name("out.jsonl.summary.json").read_text())
    assert summary["repaired_torn_line"] is True
    assert summary["done_before"] == written and summary["processed"] == len(ids) - written
    assert (summary["items"], summary["succeeded"], summary["failed"]) == (len(ids), len(ids), 0)


def _running_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies waiting to be reaped are not)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            pid, rest = stat.read_text().split(" (", 1)
            state, _, pgrp = rest.rsplit(") ", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                running.append(int(pid))
    return running


def test_result_log_cuts_a_torn_last_line_and_refuses_a_second_writer(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": "a", "path": "a.wav", "text": "one"}\n{"id": "b", "pa')
    with ResultLog(path) as log:
        assert log.repaired and list(log.rows) == ["a"]
        with pytest.raises(ConfigError, match="another job is writing to it"):
            ResultLog(path)
        log.write({"id": "b", "path": "b.wav", "text": "two"})
    assert [row["id"] for row in _rows(path)] == ["a", "b"]


# -- failures -----------------------------------------------------------------------------------------


def test_broken_inputs_are_error_rows_and_retry_errors_runs_only_them_again(data_dir, tmp_path, capsys):
    folder, out = tmp_path / "clips", tmp_path / "out.jsonl"
    folder.mkdir()
    shutil.copyfile(data_dir / "3_jackson_0.wav", folder / "good.wav")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.wav").write_text("meeting notes, not a recording\n")

    assert _batch("transcribe", "--input", str(folder), "--output", str(out)) == 1
    rows = {row["id"]: row for row in _rows(out)}
    assert rows["good.wav"]["text"] == "three"
    assert rows["empty.wav"]["error"] == "empty file (0 bytes)"
    assert set(rows["notes.wav"]) == {"id", "path", "error"}
    # Rerun: nothing left to do, the failures still count.
    assert _batch("transcribe", "--input", str(folder), "--output", str(out)) == 1
    assert len(_rows(out)) == 3
    # The empty file is fixed; --retry-errors runs the two failed inputs again, and only them.
    shutil.copyfile(data_dir / "0_nicolas_2.wav", folder / "empty.wav")
    assert _batch("transcribe", "--input", str(folder), "--output", str(out), "--retry-errors") == 1
    rows = _rows(out)
    assert sorted(row["id"] for row in rows) == ["empty.wav", "good.wav", "notes.wav"]
    assert {row["id"]: row.get("text") for row in rows} == {
        "good.wav": "three",
        "empty.wav": "zero",
        "notes.wav": None,
    }
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert (summary["done_before"], summary["processed"], summary["failed"]) == (1, 2, 1)
    assert "seqrec batch transcribe: 3 inputs, 2 ok, 1 failed" in capsys.readouterr().err


CRASHING_TASK = """
import os
from seqrec.pipelines.batch.tasks import BatchTask, no_preparation

def load(options):
    def run(items):
        if any(item.path == "crash" for item in items):
            os._exit(1)  # a decoder's segfault, as far as the pool can tell
        return [{"text": item.path} for item in items]
    return run

TASK = BatchTask("crashing", ("audio",), load, no_preparation)
"""


def test_an_input_that_kills_its_worker_is_an_error_row_and_the_rest_are_done(tmp_path, monkeypatch):
    (tmp_path / "crashing_task.py").write_text(textwrap.dedent(CRASHING_TASK))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(
        "PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    )  # for the workers
    from crashing_task import TASK

    items = [BatchItem(str(i), path, "audio") for i, path in enumerate(["a", "b", "crash", "c", "d"])]
    rows = [row for rows in run_local(TASK, TaskOptions(), items, workers=2, batch_size=2) for row in rows]

    assert sorted(row["id"] for row in rows) == ["0", "1", "2", "3", "4"]
    by_path = {row["path"]: row for row in rows}
    assert by_path["crash"]["error"] == "the worker process died while reading this input"
    assert all(by_path[path]["text"] == path for path in "abcd")


# -- usage errors: nothing done ------------------------------------------------------------------------


def test_a_malformed_manifest_line_is_a_usage_error_naming_its_number(data_dir, tmp_path, capsys):
    manifest, out = tmp_path / "m.jsonl", tmp_path / "out.jsonl"
    manifest.write_text(json.dumps({"audio_filepath": str(data_dir / CLIPS[0])}) + "\n{not json\n")
    assert _batch("transcribe", "--input", str(manifest), "--output", str(out)) == 2
    assert capsys.readouterr().err.startswith(f"seqrec: {manifest}:2: not a JSON object")
    assert not out.exists()


def test_an_unwritable_output_fails_before_any_work(data_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder\n")
    code = _batch(
        "transcribe",
        "--input",
        str(data_dir / "manifest.jsonl"),
        "--output",
        str(tmp_path / "file" / "out.jsonl"),
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(
        f"seqrec: {tmp_path / 'file' / 'out.jsonl'}: cannot write results here ("
    )
    assert (
        _batch("transcribe", "--input", str(data_dir / "manifest.jsonl"), "--output", str(tmp_path)) == 2
    )  # a folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no summary: the job never started


def test_gestures_label_photos_videos_and_kaggle_landmarks_and_score_them(data_dir, tmp_path):
    hands = data_dir / "hands"
    rows = [
        {"image_filepath": str(hands / f"sign_digit_{d}_IMG_{n}.JPG"), "label": d}
        for d, n in (("0", 1322), ("5", 1123))
    ]
    rows += [
        {"image_filepath": str(hands / "no_hand_ceiling.png"), "label": "none"},
        {"video_filepath": str(hands / "hand_clip.mp4")},
        {"image_filepath": str(tmp_path / "gone.jpg")},
    ]
    manifest = tmp_path / "photos.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    assert _batch("gestures", "--input", str(manifest), "--output", str(out), "--model", "sign-digits") == 1
    by_path = {Path(row["path"]).name: row for row in _rows(out)}
    assert [by_path[f"sign_digit_{d}_IMG_{n}.JPG"]["label"] for d, n in (("0", 1322), ("5", 1123))] == [
        "0",
        "5",
    ]
    assert (by_path["no_hand_ceiling.png"]["label"], by_path["no_hand_ceiling.png"]["hands"]) == ("none", 0)
    assert by_path["hand_clip.mp4"]["frames"] == 38 and by_path["hand_clip.mp4"]["segments"]
    assert by_path["gone.jpg"]["error"] == "no such file"
    summary = json.loads(out.with_name(out.name + ".summary.json").read_text())
    assert summary["metrics"]["accuracy"] == 1.0 and summary["metrics"]["references"] == 3

    pytest.importorskip("pyarrow")
    for name in ("A_1015", "B_1050"):
        shutil.copyfile(hands / f"{name}.parquet", tmp_path / f"{name}.parquet")
    islr = tmp_path / "train.csv"
    islr.write_text(
        "path,participant_id,sequence_id,sign\nA_1015.parquet,1,1015,A\nB_1050.parquet,1,1050,B\n"
    )
    assert (
        _batch(
            "gestures",
            "--input",
            str(islr),
            "--output",
            str(tmp_path / "islr.jsonl"),
            "--model",
            "sign-digits",
        )
        == 0
    )
    islr_rows = _rows(tmp_path / "islr.jsonl")
    assert [row["id"] for row in islr_rows] == ["1015", "1050"] and all(
        row["frames"] == 1 and row["label"] for row in islr_rows
    )


# -- inputs ------------------------------------------------------------------------------------------------


def test_ids_are_the_manifest_id_else_the_path_relative_to_the_input_root(data_dir, tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copyfile(data_dir / CLIPS[0], tmp_path / "a" / "x.wav")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"audio_filepath": "a/x.wav", "text": "three"})
        + "\n"
        + json.dumps({"id": "utt-7", "audio_filepath": str(data_dir / CLIPS[1]), "text": "seven"})
        + "\n"
        + json.dumps({"video_filepath": "a/clip.mp4", "label": 5})
        + "\n"
    )
    items = read_inputs(manifest, ("audio",))
    assert [(i.id, i.media, i.reference) for i in items] == [
        ("a/x.wav", "audio", "three"),
        ("utt-7", "audio", "seven"),
        ("a/clip.mp4", "video", "5"),
    ]
    assert items[0].path == str(
        tmp_path / "a" / "x.wav"
    )  # relative paths resolve against the manifest's folder
    assert [i.id for i in read_inputs(tmp_path, ("audio",))] == ["a/x.wav"]
    manifest.write_text(
        manifest.read_text() + json.dumps({"id": "utt-7", "audio_filepath": "a/x.wav"}) + "\n"
    )
    with pytest.raises(ConfigError, match="'utt-7' appears more than once"):
        read_inputs(manifest, ("audio",))


def test_fsdd_names_and_kaggle_csvs_give_references(data_dir, tmp_path):
    fsdd = [i.reference for i in read_inputs(data_dir, ("audio",)) if i.id in CLIPS]
    assert fsdd == [None] * 5  # tests/data mixes FSDD names with others: no references guessed
    (tmp_path / "fsdd").mkdir()
    shutil.copyfile(data_dir / "7_theo_1.wav", tmp_path / "fsdd" / "7_theo_1.wav")
    assert read_inputs(tmp_path / "fsdd", ("audio",))[0].reference == "seven"
    islr = tmp_path / "train.csv"
    islr.write_text(
        "path,participant_id,sequence_id,sign\ntrain_landmark_files/26734/1000035562.parquet,26734,1000035562,blow\n"
    )
    [item] = read_inputs(islr, ("landmarks",))
    assert (item.id, item.media, item.reference, item.sequence_id) == (
        "1000035562",
        "landmarks",
        "blow",
        "1000035562",
    )
    assert item.path == str(tmp_path / "train_landmark_files/26734/1000035562.parquet")


def test_a_librispeech_tree_is_read_with_its_transcripts_and_scored(data_dir, tmp_path):
    chapter = tmp_path / "LibriSpeech" / "test-clean" / "19" / "198"
    chapter.mkdir(parents=True)
    for utterance, clip in (
        ("19-198-0000", "3_jackson_0.wav"),
        ("19-198-0001", "sc_stop_0fa1e7a9_nohash_0.flac"),
    ):
        audio, rate = soundfile.read(str(data_dir / clip))
        soundfile.write(str(chapter / f"{utterance}.flac"), audio, rate)
    (chapter / "19-198.trans.txt").write_text("19-198-0000 THREE\n19-198-0001 STOP\n19-198-0002 GONE\n")
    out = tmp_path / "out.jsonl"

    assert _batch("transcribe", "--input", str(tmp_path / "LibriSpeech"), "--output", str(out)) == 1

    rows = {row["id"]: row for row in _rows(out)}
    assert (rows["19-198-0000"]["text"], rows["19-198-0000"]["reference"]) == ("three", "THREE")
    assert rows["19-198-0001"]["text"] == "stop"
    assert rows["19-198-0002"]["error"] == "no such file"
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert (summary["metrics"]["wer"], summary["metrics"]["utterances"]) == (0.0, 2)


# -- features ---------------------------------------------------------------------------------------------


def test_features_are_sharded_float16_with_an_index_manifest(data_dir, tmp_path):
    from seqrec.features import SpectralConfig, load_audio, spectral_features
    from seqrec.models import read_bundle_config
    from seqrec.pipelines.core.manifest import read_manifest

    out = tmp_path / "feats"
    assert _batch("features", "--input", str(data_dir / "manifest.jsonl"), "--output", str(out)) == 0

    rows = list(read_manifest(out / "index.jsonl"))
    assert [row["text"] for row in rows] == ["three", "seven", "zero", "yes", "left", "stop"]
    config = SpectralConfig(**read_bundle_config("digits-commands")["features"])
    for row in rows:
        expected = spectral_features(load_audio(row["path"], config.sample_rate), config)
        features = load_features(row)
        assert features.shape == (row["frames"], config.dim)
        np.testing.assert_allclose(features, expected, atol=2e-3 * np.abs(expected).max())  # float16
    # Other feature settings into the same folder would mix two kinds: refused.
    recipe = tmp_path / "logmel.yaml"
    recipe.write_text(
        "name: logmel\ndata: {train: [x.jsonl], dev: [x.jsonl]}\n"
        "features: {kind: logmel, sample_rate: 8000}\n"
    )
    assert (
        _batch(
            "features",
            "--input",
            str(data_dir / "manifest.jsonl"),
            "--output",
            str(out),
            "--recipe",
            str(recipe),
        )
        == 2
    )


def test_feature_shards_resume_after_a_shard_no_index_row_names(tmp_path):
    settings = {"kind": "mfcc"}
    arrays = {str(i): np.full((i + 1, 3), i, np.float16) for i in range(5)}
    with FeatureShards(tmp_path, settings, items_per_shard=2) as shards:
        for key, array in arrays.items():
            shards.write(
                {"id": key, "path": f"{key}.wav", "features": array, "frames": len(array), "seconds": 0.1}
            )
    np.savez(
        tmp_path / "shards" / "000003.npz", orphan=np.zeros(1)
    )  # a shard whose rows never reached the index

    with FeatureShards(tmp_path, settings, items_per_shard=2) as shards:
        assert sorted(shards.rows) == sorted(arrays)
        shards.write(
            {"id": "5", "path": "5.wav", "features": np.ones((2, 3), np.float16), "frames": 2, "seconds": 0.1}
        )

    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [
        "000000.npz",
        "000001.npz",
        "000002.npz",
        "000003.npz",
    ]
    from seqrec.pipelines.core.manifest import read_manifest

    loaded = {row["id"]: load_features(row) for row in read_manifest(tmp_path / "index.jsonl")}
    assert all(np.array_equal(loaded[key], arrays[key]) for key in arrays) and loaded["5"].shape == (2, 3)
    with pytest.raises(ConfigError, match="other settings"):
        FeatureShards(tmp_path, {"kind": "logmel"})


def test_batch_features_output_is_training_data(data_dir, tmp_path):
    from seqrec.features import SpectralConfig
    from seqrec.models import read_bundle_config
    from seqrec.pipelines.speech.data import load_corpus

    out = tmp_path / "feats"
    assert _batch("features", "--input", str(data_dir / "manifest.jsonl"), "--output", str(out)) == 0
    config = SpectralConfig(**read_bundle_config("digits-commands")["features"])
    corpus = load_corpus((str(out / "index.jsonl"),), config, tmp_path / "cache", log=lambda *_: None)
    assert corpus.texts == ["three", "seven", "zero", "yes", "left", "stop"]
    assert [len(a) for a in corpus.arrays] == [row["frames"] for row in _rows(out / "index.jsonl")]
    with pytest.raises(ValueError, match="other settings"):  # features made for another recipe
        load_corpus(
            (str(out / "index.jsonl"),),
            SpectralConfig(kind="logmel"),
            tmp_path / "cache",
            log=lambda *_: None,
        )
    # A recipe names the index as its data, and trains.
    recipe = tmp_path / "tiny.yaml"
    data = json.dumps({"train": [str(out / "index.jsonl")], "dev": [str(out / "index.jsonl")]})
    recipe.write_text(
        f"name: tiny\ndata: {data}\nfeatures: {json.dumps(config.to_dict())}\n"
        "model: {n_hidden: 16, n_layers: 1}\n"
        f"train: {{epochs: 1, warmup_steps: 1}}\noutput_dir: {tmp_path / 'run'}\n"
    )
    assert main(["train", str(recipe), "--max-steps", "2"]) == 0
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()


# -- Ray -----------------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own, from inside its DataContext
def test_ray_engine_rows_equal_the_local_engines(data_dir, tmp_path):
    pytest.importorskip("ray.data")
    local, ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    manifest = data_dir / "manifest.jsonl"
    common = [
        "batch",
        "transcribe",
        "--input",
        str(manifest),
        "--workers",
        "2",
        "--batch-size",
        "2",
        "--quiet",
    ]
    assert main([*common, "--output", str(local)]) == 0
    assert main([*common, "--output", str(ray), "--engine", "ray"]) == 0

    local_rows = {row["id"]: row for row in _rows(local)}
    ray_rows = {row["id"]: row for row in _rows(ray)}
    assert sorted(ray_rows) == sorted(local_rows) and len(ray_rows) == 6
    for key, row in local_rows.items():
        assert ray_rows[key]["text"] == row["text"]
        assert ray_rows[key]["score"] == pytest.approx(row["score"], abs=1e-6)
        assert [w["word"] for w in ray_rows[key]["words"]] == [w["word"] for w in row["words"]]
    assert json.loads((tmp_path / "ray.jsonl.summary.json").read_text())["engine"] == "ray"
