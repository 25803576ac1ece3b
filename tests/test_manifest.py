"""Manifest paths: resolved against the manifest's folder, links followed, as ``Path.resolve`` does."""

import json
from pathlib import Path

import pytest

from seqrec.pipelines.core.errors import ConfigError
from seqrec.pipelines.core.manifest import read_manifest


def test_paths_resolve_as_path_resolve_does_through_links_and_dot_dots(tmp_path):
    real = tmp_path / "real"
    (real / "clips").mkdir(parents=True)
    (real / "clips" / "a.wav").write_bytes(b"")
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)  # a linked folder
    (real / "clips" / "b.wav").symlink_to(real / "clips" / "a.wav")  # a linked file
    manifests = tmp_path / "lists"
    manifests.mkdir()
    values = [
        "../linked/clips/a.wav",
        "../linked/clips/b.wav",
        "../linked/clips/../clips/./a.wav",
        "../real/clips//a.wav",
        "../linked/clips/missing.wav",
        "../linked/clips/",
        str(tmp_path / "linked" / "clips" / "a.wav"),
        "here.wav",
    ]
    manifest = manifests / "m.jsonl"
    manifest.write_text("".join(json.dumps({"audio_filepath": value}) + "\n" for value in values))

    found = [row["audio_filepath"] for row in read_manifest(manifest)]

    assert found == [str((manifests / value).resolve()) for value in values]
    assert found[1] == str(real / "clips" / "a.wav")  # the link itself is followed


def test_a_row_without_a_file_names_its_line(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio_filepath": "a.wav"}\n{"text": "go"}\n')
    with pytest.raises(ConfigError, match=r"m\.jsonl:2: a row needs one of"):
        list(read_manifest(Path(manifest)))
