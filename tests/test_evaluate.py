"""``seqrec evaluate``: one front door for speech and hands, with the same files and exit codes."""

import json

import pytest

from seqrec.pipelines.cli import main


def _photo_manifest(path, data_dir, missing: bool = False):
    rows = [
        {"image_filepath": str(data_dir / "hands" / f"sign_digit_{digit}_{name}.JPG"), "label": digit}
        for digit, name in (("1", "IMG_1119"), ("5", "IMG_1123"), ("0", "IMG_1322"))
    ]
    if missing:
        rows.append({"image_filepath": str(path.parent / "no-such-photo.jpg"), "label": "3"})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_speech_and_hands_write_the_same_files(tmp_path, data_dir, capsys):
    speech_out, hands_out = tmp_path / "speech", tmp_path / "hands"
    assert main(["evaluate", str(data_dir / "manifest.jsonl"), "--out", str(speech_out)]) == 0
    photos = _photo_manifest(tmp_path / "photos.jsonl", data_dir)
    assert main(["evaluate", str(photos), "--model", "sign-digits", "--out", str(hands_out)]) == 0
    for out in (speech_out, hands_out):
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["errors"] == 0 and metrics["manifest"]
        assert (out / "results.jsonl").read_text().count("\n") == (3 if out == hands_out else 6)
    hands = json.loads((hands_out / "metrics.json").read_text())
    assert hands["digit_accuracy"] == 1.0
    assert (hands_out / "confusion-digit.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()


@pytest.mark.parametrize("model", ["digits-commands", "sign-digits"])
def test_an_item_that_cannot_be_read_is_counted_and_exits_1(tmp_path, data_dir, model, capsys):
    if model == "sign-digits":
        manifest = _photo_manifest(tmp_path / "photos.jsonl", data_dir, missing=True)
    else:
        manifest = tmp_path / "speech.jsonl"
        rows = [
            {"audio_filepath": str(data_dir / "3_jackson_0.wav"), "text": "three"},
            {"audio_filepath": str(tmp_path / "gone.wav"), "text": "one"},
        ]
        manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert main(["evaluate", str(manifest), "--model", model, "--out", str(tmp_path / "eval")]) == 1
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["errors"] == 1
    missing = "no-such-photo.jpg" if model == "sign-digits" else "gone.wav"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("seqrec:")]
    assert len(lines) == 1 and missing in lines[0], lines


def test_a_run_stopped_part_way_keeps_the_rows_it_scored(tmp_path, data_dir):
    from seqrec.pipelines.batch.evaluate import evaluate

    manifest = tmp_path / "m.jsonl"
    rows = [
        {"audio_filepath": str(data_dir / "3_jackson_0.wav"), "text": "three"},
        {"audio_filepath": str(tmp_path / "gone.wav"), "text": "one"},
        {"audio_filepath": str(data_dir / "7_theo_1.wav"), "text": "seven"},
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    def stop(path, reason):  # as a Ctrl-C at the second item would
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate("digits-commands", manifest, tmp_path / "eval", on_error=stop)
    written = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    assert [row.get("text", row.get("error")) for row in written] == ["three", "no such file"]


def test_its_words_and_other_speech_give_the_miss_false_accept_curve(tmp_path, data_dir):
    """Speech Commands clips of `commands`' words (yes, left, stop) and of others (bird, tree): the
    rows are scored at the bundle's threshold, as transcribe prints them, and the trade at every
    threshold is drawn, its operating point the same figures."""
    from seqrec.pipelines.batch.evaluate import evaluate
    from seqrec.pipelines.speech.transcriber import Transcriber

    names = ["sc_yes_03401e93_nohash_0", "sc_left_189cbabe_nohash_0", "sc_stop_0fa1e7a9_nohash_0"]
    names += ["sc_bird_0fa1e7a9_nohash_0", "sc_tree_0fa1e7a9_nohash_1"]
    manifest = tmp_path / "mixed.jsonl"
    manifest.write_text(
        "".join(
            json.dumps({"audio_filepath": str(data_dir / f"{n}.flac"), "text": n.split("_")[1]}) + "\n"
            for n in names
        )
    )
    metrics = evaluate("commands", manifest, tmp_path / "eval")
    rows = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    plain = [r["text"] for r in Transcriber("commands").transcribe_paths([r["path"] for r in rows])]
    assert [r["text"] for r in rows] == plain, "scored as transcribe decodes, threshold and all"
    curve = metrics["miss_false_accept"]
    assert (curve["wanted_clips"], curve["other_clips"]) == (3, 2)
    operating = curve["operating_point"]
    assert operating["false_accept_rate"] == metrics["false_accept_rate"]
    assert operating["miss_rate"] == round(1 - sum(r["text"] == r["reference"] for r in rows[:3]) / 3, 4)
    ends = curve["points"][0], curve["points"][-1]  # threshold 0: everything kept; 1: nothing
    assert ends[1]["miss_rate"] == 1.0 and ends[1]["false_accept_rate"] == 0.0
    assert ends[0]["false_accept_rate"] >= operating["false_accept_rate"]
    assert (tmp_path / "eval" / "miss-false-accept.png").stat().st_size > 5000
    assert metrics["calibration"]["words"] >= 3 and 0 <= metrics["calibration"]["ece"] <= 1
    assert (tmp_path / "eval" / "reliability.png").stat().st_size > 5000
