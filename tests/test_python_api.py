"""The Python entry points a user reaches first: ``seqrec.pipelines.transcribe`` and the package layout."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from seqrec.pipelines import transcribe


def test_transcribe_a_path_returns_the_cli_record(data_dir):
    record = transcribe(data_dir / "3_jackson_0.wav")
    assert set(record) == {"path", "text", "score", "duration", "words"}
    assert record["text"] == "three" and record["path"] == str(data_dir / "3_jackson_0.wav")


def test_transcribe_an_array_at_any_rate_with_path_none(data_dir):
    audio, rate = soundfile.read(str(data_dir / "3_jackson_0.wav"), dtype="float32")
    stereo_44k = np.repeat(
        np.interp(np.arange(0, len(audio), rate / 44_100), np.arange(len(audio)), audio)[:, None], 2, axis=1
    )
    record = transcribe(stereo_44k.astype(np.float32), sample_rate=44_100)
    assert record["path"] is None and record["text"] == "three"
    with pytest.raises(ValueError, match="sample_rate"):
        transcribe(audio)


def test_a_bad_path_is_an_error_record_not_an_exception(tmp_path):
    assert transcribe(tmp_path / "missing.wav") == {
        "path": str(tmp_path / "missing.wav"),
        "error": "no such file",
    }


def test_only_the_seqrec_package_is_installed_not_bare_folders(tmp_path):
    bare = subprocess.run(
        [sys.executable, "-c", "import models"], check=False, cwd=tmp_path, capture_output=True, text=True
    )
    assert bare.returncode != 0 and "No module named 'models'" in bare.stderr
    ok = subprocess.run(
        [sys.executable, "-c", "import seqrec.models, seqrec.features, seqrec.pipelines"],
        check=False,
        cwd=tmp_path,
    )
    assert ok.returncode == 0
