"""Run-time word lists for speech (``--words``, ``Transcriber(words=...)``): only the listed words
come out, the model's other words are rejected, an unknown word is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqrec.pipelines.cli import main
from seqrec.pipelines.speech.stages import listed_words
from seqrec.pipelines.speech.transcriber import Transcriber

DATA = Path(__file__).parent / "data"
YES = DATA / "sc_yes_03401e93_nohash_0.flac"
STOP = DATA / "sc_stop_0fa1e7a9_nohash_0.flac"
THREE = DATA / "3_jackson_0.wav"


def test_a_word_list_keeps_its_words_and_rejects_the_models_others():
    plain = [r["text"] for r in Transcriber().transcribe_paths([YES, STOP, THREE])]
    assert plain == ["yes", "stop", "three"], "the default model knows all three"
    listed = list(Transcriber(words=["yes", "no"]).transcribe_paths([YES, STOP, THREE]))
    assert [r["text"] for r in listed] == ["yes", "", ""]
    assert [w["word"] for w in listed[0]["words"]] == ["yes"] and listed[1]["words"] == []


def test_the_command_takes_a_list_or_a_file_and_refuses_an_unknown_word(tmp_path, capsys):
    words = tmp_path / "words.txt"
    words.write_text("Three\n\nstop\n")
    assert (
        main(["transcribe", str(YES), str(STOP), str(THREE), "--words", f"@{words}", "--format", "jsonl"])
        == 0
    )
    assert [json.loads(line)["text"] for line in capsys.readouterr().out.splitlines()] == [
        "",
        "stop",
        "three",
    ]
    assert main(["transcribe", str(YES), "--words", "yes,banana"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqrec: --words: the word 'banana' is not in this model's vocabulary (zero, one")
    assert "\n" not in err


@pytest.mark.parametrize(
    "words, message",
    [([" ", ""], "the word list is empty"), (["Yes", "YES"], None)],
)
def test_listed_words_are_normalised_and_checked(words, message):
    if message:
        with pytest.raises(ValueError, match=message):
            listed_words(words, ["yes", "no"])
    else:
        assert listed_words(words, ["yes", "no"]) == ["yes"]
    with pytest.raises(ValueError, match="no vocabulary"):
        listed_words(["yes"], [])


def test_the_live_path_takes_the_word_list_too(capsys):
    assert main(["transcribe", "--stream-file", str(STOP), "--speed", "10", "--words", "stopp"]) == 2
    assert "the word 'stopp' is not in this model's vocabulary" in capsys.readouterr().err
    assert main(["transcribe", "--stream-file", str(STOP), "--speed", "10", "--words", "yes"]) == 0
    assert capsys.readouterr().out == "", "stop is heard and rejected"
    assert main(["transcribe", "--stream-file", str(STOP), "--speed", "10", "--words", "stop,yes"]) == 0
    assert capsys.readouterr().out.split() == ["stop"]
