"""Speech corpus readers: WUW Corpus II's transcripts and its split by session."""

from __future__ import annotations

import json

import pytest

from seqrec.pipelines.speech.corpora import clean_wuw_transcript, split_wuw_sessions, wuw_rows


@pytest.mark.parametrize(
    "text, clean",
    [
        ("[click] Onword", "onword"),  # real lines of transcripts.csv
        ("{breath} Voyager", "voyager"),
        (
            "this is a blah blah blah and then I am invoking a uh service by saying Operator [prices paid]",
            "this is a blah blah blah and then i am invoking a uh service by saying operator",
        ),
        ("well i'm +gonna use the second word", "well i'm gonna use the second word"),
        ("((maybe)) ^Bob _t_ wor- say, Wildfire. {breath", "maybe bob t say wildfire"),
    ],
)
def test_wuw_transcripts_become_plain_words(text, clean):
    assert clean_wuw_transcript(text) == clean


def test_wuw_rows_and_a_session_split_that_is_kept(tmp_path):
    header = "file,session,utterance_type,gender,dialect,phone,keyword_start,keyword_end,text\n"
    lines = [
        f"clips/{s:05d}/WUWII{s:05d}_{t:03d}.wav,{s:05d},{t:03d},male,native,cellphone,0.5,1.0,"
        + ("Operator" if t <= 5 else "hi [click] one two Operator")
        for s in range(20)
        for t in (1, 6)
    ]
    (tmp_path / "transcripts.csv").write_text(header + "\n".join(lines) + "\n")
    rows = wuw_rows(tmp_path)
    assert [r["kind"] for r in rows[:2]] == ["wake word", "sentence"]
    assert rows[1]["text"] == "hi one two operator" and rows[1]["phone"] == "cellphone"
    assert rows[0]["audio_filepath"] == str(tmp_path / "clips/00000/WUWII00000_001.wav")

    split_file = tmp_path / "split.json"
    first = split_wuw_sessions(rows, split_file)
    sessions = {}
    for row in first:
        sessions.setdefault(row["session"], set()).add(row["split"])
    assert all(len(splits) == 1 for splits in sessions.values()), "a session is never in two splits"
    assert {name: len(v) for name, v in json.loads(split_file.read_text()).items()} == {
        "train": 14,
        "dev": 3,
        "test": 3,
    }
    assert split_wuw_sessions(rows, split_file) == first, "the split is read back, not redrawn"
