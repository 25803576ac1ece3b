"""Spelled words: a letters CTC head read through a word list (``--words``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqrec.models import bundled_model_names
from seqrec.models.tokenizer import BLANK
from seqrec.pipelines.cli import main
from seqrec.pipelines.hands.composition import ComposeConfig, compose_word
from seqrec.pipelines.hands.corpora import ASL_LETTERS_ASPECT
from seqrec.pipelines.hands.data import save_landmarks
from seqrec.pipelines.hands.model import GestureModel
from seqrec.pipelines.hands.sequence import UNNAMED_HEAD, HandSequence, empty_hands
from seqrec.pipelines.hands.spelling import HeadSymbols, WordSpeller, checked_words

pytest.importorskip("flashlight.lib.text", reason="beam search is the [lm] extra")

PHOTO = Path(__file__).parent / "data" / "hands" / "sign_digit_1_IMG_1119.JPG"
LETTERS = [BLANK, " ", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def _emissions(path: str, second: str = "", sharp: float = 0.7) -> np.ndarray:
    """Log-probabilities whose best path spells ``path`` ('_' = blank, one symbol per step); where
    ``second`` has a letter, that letter is the runner-up of its step."""
    probs = np.full((len(path), len(LETTERS)), 0.01)
    for step, symbol in enumerate(path):
        probs[step, 0 if symbol == "_" else LETTERS.index(symbol)] = sharp
        if step < len(second) and second[step] not in "_ ":
            probs[step, LETTERS.index(second[step])] = sharp * 0.8
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def test_a_word_list_turns_a_misread_letter_into_the_listed_word_with_its_times():
    speller = WordSpeller(LETTERS, ["cat", "dog", "car"])
    times = np.arange(14) / 10.0  # 14 frames at 10 fps, 2 per output step
    reading = speller.read(_emissions("_C_A_X_", "_____T_"), times, stack=2)
    assert reading["text"] == "cat"  # greedy: "CAX"; "car" has no R on the path
    [word] = reading["words"]
    assert word["word"] == "cat" and word["start"] == 0.2 and word["end"] == 1.1  # steps 1-5, frames 2-11
    assert 0 < word["score"] < 1


def test_a_doubled_letter_needs_the_blank_between_and_words_follow_without_a_gap():
    speller = WordSpeller(LETTERS, ["hello", "helo", "no"])
    assert speller.read(_emissions("_HEL_LO_NO"), np.arange(10.0), 1)["text"] == "hello no"
    assert speller.read(_emissions("_HELLO_NO"), np.arange(9.0), 1)["text"] == "helo no"


def test_words_match_the_symbols_whatever_their_case_and_repeats_are_dropped():
    assert HeadSymbols(LETTERS).encode("Cat") == [LETTERS.index(c) for c in "CAT"]
    assert checked_words([" yes", "YES", "no", ""], LETTERS) == ["yes", "YES", "no"]
    assert checked_words(["yes", "yes"], LETTERS) == ["yes"]


@pytest.mark.parametrize(
    "words, message",
    [
        (["cat", "cat's"], r"the word \"cat's\": \"'\" is not one of the model's symbols"),
        (["two words"], r"the word 'two words': ' ' is not one of the model's symbols"),
        ([" ", ""], "the word list is empty"),
    ],
)
def test_a_word_the_model_cannot_spell_is_refused_by_name(words, message):
    with pytest.raises(ValueError, match=message):
        checked_words(words, LETTERS)


def test_a_head_without_a_word_separator_cannot_take_a_word_list():
    with pytest.raises(ValueError, match="no word separator"):
        WordSpeller([BLANK, *"0123456789"], ["12"])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    return err


def test_words_on_a_model_that_does_not_spell_is_a_usage_error(capsys, tmp_path):
    assert main(["gestures", str(PHOTO), "--model", "sign-digits", "--words", "cat"]) == 2
    assert "a word list needs a model with a CTC head" in _one_line(capsys)
    assert main(["gestures", str(PHOTO), "--words", f"@{tmp_path / 'missing.txt'}"]) == 2
    line = _one_line(capsys)
    assert "missing.txt: cannot read the word list (No such file or directory)" in line
    assert main(["gestures", str(PHOTO), "--words", " , "]) == 2
    assert "no words in it" in _one_line(capsys)


# -- the shipped letter models, on the first signer's held-out frames -------------------------------

LETTER_FRAMES = PHOTO.parent / "asl_letters_catdog.npz"  # C A T D O G from the test blocks


def _letter_poses() -> dict[str, HandSequence]:
    with np.load(LETTER_FRAMES, allow_pickle=False) as data:
        poses = {}
        for points, label in zip(data["landmarks"], data["label"], strict=True):
            hands, present = empty_hands(1)
            hands[0, 1], present[0, 1] = points, True  # as asl_letter_sets places them
            poses[str(label)] = HandSequence(
                hands, present, ASL_LETTERS_ASPECT, labels={UNNAMED_HEAD: str(label)}
            )
    return poses


@pytest.mark.skipif("sign-letters" not in bundled_model_names(), reason="sign-letters is not built yet")
def test_sign_letters_reads_held_out_letters_of_its_signer():
    poses = _letter_poses()
    readings = GestureModel("sign-letters").classify(list(poses.values()))
    assert [r["letter"][0] for r in readings] == list(poses)


@pytest.mark.skipif(
    "sign-letters-ctc" not in bundled_model_names(), reason="sign-letters-ctc is not built yet"
)
def test_a_spelled_word_reads_as_the_listed_word(tmp_path):
    """C, A, T signed one after another (held, moved between, placed as the recipe composes), saved
    as a landmark file, read with a word list of near misses, as `seqrec gestures --words` reads."""
    from seqrec.pipelines.hands.recognizer import GestureRecognizer

    poses = {label: [pose] for label, pose in _letter_poses().items()}
    words = ["cat", "act", "cot", "dog", "god", "cog", "do", "at"]
    with GestureRecognizer("sign-letters-ctc", words=words) as recognizer:
        for word in ("CAT", "DOG"):
            sequence = compose_word(word, poses, ComposeConfig(), np.random.default_rng(0))
            record = recognizer.recognize_landmark_file(save_landmarks(tmp_path / f"{word}.npz", sequence))
            assert record["text"] == word.lower(), record
            [spelled] = record["words"]
            assert spelled["word"] == word.lower() and 0 <= spelled["start"] < spelled["end"]
