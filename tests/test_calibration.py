"""Word scores as probabilities: the Platt fit, the decode options that apply it, ``seqrec calibrate``."""

import dataclasses
import json

import numpy as np
import pytest

from seqrec.models import DecodeOptions, read_bundle_config
from seqrec.pipelines.cli import main
from seqrec.pipelines.core.operating_curve import ScoredClip, fit_calibration, reliability

# Real clips with their spoken words: `commands`' words, other words (bird, tree, ten, meters) and a
# "no" the model hears as "go", so that with no threshold some decoded words are right and some wrong.
CLIPS = {
    "sc_yes_03401e93_nohash_0.flac": "yes",
    "sc_left_189cbabe_nohash_0.flac": "left",
    "sc_stop_0fa1e7a9_nohash_0.flac": "stop",
    "sc_bird_0fa1e7a9_nohash_0.flac": "bird",
    "sc_tree_0fa1e7a9_nohash_1.flac": "tree",
    "3_jackson_0.wav": "three",
    "7_theo_1.wav": "seven",
    "samples/pocketsphinx_goforward.wav": "go forward ten meters",
    "samples/speech_recognition_english.wav": "one two three",
    "samples/tflite_micro_no_1000ms.wav": "no",
}


def _clips_of(scores: np.ndarray, right: np.ndarray) -> list[ScoredClip]:
    return [
        ScoredClip("yes" if r else "", (("yes", float(s)),), 1.0) for s, r in zip(scores, right, strict=True)
    ]


def test_the_fit_finds_the_slope_and_offset_the_words_were_drawn_with():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.02, 0.98, 20000)
    truth = 1 / (1 + np.exp(-(2.0 * np.log(scores / (1 - scores)) - 1.0)))
    clips = _clips_of(scores, rng.random(scores.size) < truth)
    slope, offset = fit_calibration(clips)
    assert slope == pytest.approx(2.0, abs=0.1) and offset == pytest.approx(-1.0, abs=0.1)
    options = DecodeOptions(calibration_slope=slope, calibration_offset=offset)
    calibrated = [
        ScoredClip(c.reference, (("yes", options.word_probability(c.words[0][1])),), 1.0) for c in clips
    ]
    assert reliability(calibrated)["ece"] < 0.02 < reliability(clips)["ece"]


def test_nothing_to_fit_when_every_word_is_right():
    with pytest.raises(ValueError, match="both right and wrong: 3 of 3"):
        fit_calibration(_clips_of(np.array([0.2, 0.5, 0.9]), np.array([True, True, True])))


def test_decode_options_keep_raw_scores_until_calibrated_and_keep_their_order():
    assert DecodeOptions().word_probability(0.37) == 0.37
    options = DecodeOptions(calibration_slope=1.5, calibration_offset=-2.0)
    probabilities = [options.word_probability(s) for s in (0.0, 0.3, 0.6, 0.9, 1.0)]
    assert probabilities == sorted(probabilities) and 0 <= probabilities[0] < probabilities[-1] <= 1
    with pytest.raises(ValueError, match="calibration_slope must be a finite number"):
        DecodeOptions(calibration_slope=float("nan"))


def _manifest(path, data_dir, clips):
    path.write_text(
        "".join(
            json.dumps({"audio_filepath": str(data_dir / name), "text": text}) + "\n" for name, text in clips
        )
    )
    return path


def test_calibrate_writes_a_copy_whose_scores_are_the_fitted_probabilities(tmp_path, data_dir, capsys):
    from seqrec.pipelines.speech.transcriber import Transcriber

    manifest = _manifest(tmp_path / "dev.jsonl", data_dir, CLIPS.items())
    out = tmp_path / "calibrated"
    shipped = read_bundle_config("commands")["decode"]
    assert (
        main(["calibrate", str(manifest), "--model", "commands", "--out", str(out), "--threshold", "0.4"])
        == 0
    )
    fit = json.loads(capsys.readouterr().out)
    assert fit["clips"] == len(CLIPS) and fit["words"] >= len(CLIPS)
    config = read_bundle_config(out)
    decode = DecodeOptions(**config["decode"])
    assert (decode.calibration_slope, decode.calibration_offset) == (fit["slope"], fit["offset"])
    assert decode.rejection_threshold == 0.4 and config["calibration"]["ece_after"] == fit["ece_after"]
    assert read_bundle_config("commands")["decode"] == shipped, "the shipped model is untouched"

    # The copy's words carry the fitted probability of the raw score, and those under 0.4 are dropped.
    raw = dataclasses.replace(decode, calibration_slope=1.0, calibration_offset=0.0, rejection_threshold=0.0)
    paths = [str(data_dir / name) for name in CLIPS]
    plain = Transcriber("commands", decode=raw)
    for before, after in zip(
        plain.transcribe_paths(paths), Transcriber(out).transcribe_paths(paths), strict=True
    ):
        expected = [(w["word"], decode.word_probability(w["score"])) for w in before["words"]]
        assert [(w["word"], w["score"]) for w in after["words"]] == [(w, p) for w, p in expected if p >= 0.4]


def test_calibrate_needs_both_kinds_and_a_folder_of_its_own(tmp_path, data_dir, capsys):
    only_words = _manifest(tmp_path / "words.jsonl", data_dir, list(CLIPS.items())[:3])
    assert main(["calibrate", str(only_words), "--model", "commands", "--out", str(tmp_path / "c")]) == 2
    assert "needs clips of the model's words and of other speech" in capsys.readouterr().err
    manifest = _manifest(tmp_path / "dev.jsonl", data_dir, CLIPS.items())
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["calibrate", str(manifest), "--model", "commands", "--out", str(tmp_path / "busy")]) == 2
    assert "not empty and not a model folder" in capsys.readouterr().err
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    assert main(["calibrate", str(manifest), "--threshold", "1.5", "--out", str(tmp_path / "c")]) == 2
    assert "a probability, from 0 to 1" in capsys.readouterr().err
