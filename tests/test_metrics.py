"""Scoring a closed-vocabulary model: WER over speech it knows, false accepts over the rest."""

import pytest

from seqrec.pipelines.core.metrics import closed_vocabulary_rates


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
