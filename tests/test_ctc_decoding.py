import numpy as np

from seqrec.models import CharTokenizer, greedy_decode, spans_to_words


def _log_probs(best_path, n_tokens, confidence=0.9):
    probs = np.full((len(best_path), n_tokens), (1 - confidence) / (n_tokens - 1))
    probs[np.arange(len(best_path)), best_path] = confidence
    return np.log(probs)


def test_greedy_merges_repeats_and_drops_blanks_with_spans():
    spans = greedy_decode(_log_probs([0, 2, 2, 0, 2, 3, 0], 4))
    assert [(s.token, s.start, s.end) for s in spans] == [(2, 1, 3), (2, 4, 5), (3, 5, 6)]
    assert all(abs(s.score - 0.9) < 1e-6 for s in spans)


def test_words_are_split_at_the_separator_with_times_in_seconds():
    tokenizer = CharTokenizer.from_texts(["go up"])
    ids = {c: tokenizer.encode(c)[0] for c in "goup"} | {" ": tokenizer.separator_id}
    path = [0, ids["g"], ids["o"], 0, ids[" "], 0, 0, ids["u"], ids["p"], ids["p"], 0]
    words = spans_to_words(greedy_decode(_log_probs(path, len(tokenizer))), tokenizer, step_seconds=0.03)
    assert [w["word"] for w in words] == ["go", "up"]
    assert words[0]["start"] == 0.03 and words[0]["end"] == 0.09
    assert words[1]["start"] == 0.21 and words[1]["end"] == 0.3
    assert 0 <= words[1]["score"] <= 1


def test_all_blank_decodes_to_nothing():
    assert greedy_decode(_log_probs([0, 0, 0], 3)) == []
    assert greedy_decode(np.zeros((0, 3))) == []


def test_tokenizer_refuses_characters_outside_its_vocabulary():
    tokenizer = CharTokenizer.from_texts(["yes no"])
    assert tokenizer.decode(tokenizer.encode("Yes  NO")) == "yes no"
    try:
        tokenizer.encode("maybe")
    except ValueError as error:
        assert "outside the vocabulary" in str(error)
    else:
        raise AssertionError("encode accepted unknown characters")
