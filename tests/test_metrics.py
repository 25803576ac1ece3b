"""Scoring a closed-vocabulary model: WER over speech it knows, false accepts over the rest."""

import pytest

from seqrec.pipelines.core.metrics import closed_vocabulary_rates, wilson_interval


def test_empty_references_count_as_false_accepts_not_as_insertions():
    rates = closed_vocabulary_rates(["yes", "go left", "", "", ""], ["yes", "go", "", "no", "up up"])
    assert rates["utterances"] == 2 and rates["words"] == 3
    assert rates["wer"] == pytest.approx(1 / 3) and rates["insertions"] == 0
    assert rates["out_of_vocabulary_utterances"] == 3
    assert rates["false_accept_rate"] == pytest.approx(2 / 3)


def test_no_false_accept_rate_without_out_of_vocabulary_references():
    rates = closed_vocabulary_rates(["one two"], ["one"])
    assert rates["wer"] == pytest.approx(0.5)
    assert "false_accept_rate" not in rates and "out_of_vocabulary_utterances" not in rates


def test_wilson_interval_holds_the_rate_and_stays_inside_zero_to_one():
    low, high = wilson_interval(10, 406)
    assert low < 10 / 406 < high and (low, high) == (0.0134, 0.0447)
    assert wilson_interval(0, 235) == (0.0, 0.0161)  # no hits: still an upper bound above 0
    assert wilson_interval(5, 5)[1] == 1.0 and wilson_interval(5, 5)[0] < 1.0
