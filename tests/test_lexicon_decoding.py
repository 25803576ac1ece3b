import numpy as np
import pytest

from seqrec.models import CharTokenizer, DecodeOptions, LexiconBeamDecoder, word_bigram

pytest.importorskip("flashlight.lib.text", reason="beam search is the [lm] extra")

VOCABULARY = ["three", "tree", "go", "no"]
TOKENIZER = CharTokenizer.from_texts(VOCABULARY)


def _emissions(path: str, sharp: float = 0.8) -> np.ndarray:
    """Log-probabilities whose best path spells ``path`` ('_' = blank, one character per step)."""
    n = len(TOKENIZER)
    probs = np.full((len(path), n), (1 - sharp) / (n - 1))
    for step, char in enumerate(path):
        probs[
            step, 0 if char == "_" else TOKENIZER.encode(char)[0] if char != " " else TOKENIZER.separator_id
        ] = sharp
    return np.log(probs)


def _decode(path: str, **options) -> list[str]:
    decoder = LexiconBeamDecoder(
        TOKENIZER, VOCABULARY, DecodeOptions(method="beam", **options), word_bigram([], VOCABULARY)
    )
    return [w["word"] for w in decoder.decode_words(_emissions(path), 0.03)]


def test_beam_search_spells_only_vocabulary_words():
    assert _decode("_thre_e_") == ["three"]
    assert _decode("_th_re__") == ["three"]  # greedy would say "thre"
    assert _decode("_g_o__ __n_o_") == ["go", "no"]


def test_the_last_word_needs_no_separator_after_it_and_words_need_none_between():
    # A model trained on "go no" emits no separator after "no", and sometimes none between words.
    assert _decode("_g_o_n_o_") == ["go", "no"]
    assert _decode("__t_r_e_e") == ["tree"]


def test_beam_words_carry_times_and_scores_like_greedy_words():
    [go, no] = LexiconBeamDecoder(TOKENIZER, VOCABULARY, DecodeOptions(method="beam")).decode_words(
        _emissions("_g_o__ __n_o_"), 0.1, duration=1.25
    )
    assert (go["start"], go["end"]) == (0.1, 0.4) and no["start"] == 0.9 and no["end"] <= 1.25
    assert go["score"] == pytest.approx(0.8, abs=1e-3) and no["score"] == pytest.approx(0.8, abs=1e-3)


def test_a_negative_word_score_discourages_insertions():
    assert _decode("_g_o_n_o_") == ["go", "no"]
    assert len(_decode("_g_o_n_o_", word_score=-10.0)) < 2


def test_word_bigram_rows_are_distributions_over_next_words():
    table = np.exp(np.array(word_bigram(["go no", "go go", "no"], VOCABULARY)))
    assert table.shape == (5, 5)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-3)
    assert table[2, 3] > table[2, 0]  # "no" follows "go" in the texts; "three" never does


def test_the_bigram_breaks_an_acoustic_tie():
    ambiguous = np.log(np.full((6, len(TOKENIZER)), 1e-3))
    for step, (a, b) in enumerate(zip("_g_o__", "_n_o__", strict=True)):
        for char in {a, b}:
            ambiguous[step, 0 if char == "_" else TOKENIZER.encode(char)[0]] = np.log(0.45)
    prefers_no = word_bigram(["no"] * 20, VOCABULARY)
    decoder = LexiconBeamDecoder(
        TOKENIZER, VOCABULARY, DecodeOptions(method="beam", lm_weight=2.0), prefers_no
    )
    assert [w["word"] for w in decoder.decode_words(ambiguous, 0.03)] == ["no"]


def test_a_bundle_asking_for_beam_search_decodes_greedily_without_flashlight(monkeypatch):
    import sys

    import torch

    from seqrec.models import EncoderDims, HeadDims, InferenceModel, ModelDims, SequenceModel
    from seqrec.pipelines.speech.stages import CTCRecognize

    model = SequenceModel(
        ModelDims(EncoderDims(n_input=39, n_hidden=8, n_layers=1), {"ctc": HeadDims("ctc", len(TOKENIZER))})
    )
    config = {
        "features": {"sample_rate": 8000},
        "tokenizer": {"symbols": TOKENIZER.symbols},
        "vocabulary": VOCABULARY,
        "decode": {"method": "beam"},
    }
    bundle = InferenceModel.from_torch(None, config, model.eval(), TOKENIZER)
    monkeypatch.setitem(sys.modules, "flashlight.lib.text", None)  # as if the [lm] extra were not installed
    with pytest.warns(UserWarning, match="decoding greedily instead"):
        recognize = CTCRecognize(bundle)
    assert recognize.process_batch([{"features": torch.randn(20, 39).numpy()}])[0]["text"] in {
        "",
        *VOCABULARY,
    }
    with pytest.raises(ImportError, match=r"seqrec\[lm\]"):
        CTCRecognize(bundle, decode=DecodeOptions(method="beam"))


def test_the_same_emissions_decode_the_same_way_every_time():
    """A word's last letter leaves two hypotheses of equal score, the word completed and its letters
    still in the trie; flashlight's beam kept one or the other by where they lay in memory, so
    this utterance (digits-commands' log-probabilities for the end of a Speech Commands "six" and
    the quiet after it, cut from the long-file benchmark; tests/data/README.md) came out as "on"
    in about half of the decodes and as nothing in the others."""
    from pathlib import Path

    from seqrec.models import load_bundle

    bundle = load_bundle("digits-commands")
    emissions = np.load(Path(__file__).parent / "data" / "tied_beam_emissions.npy", allow_pickle=False)
    assert emissions.shape[1] == len(bundle.tokenizer)
    decoder = LexiconBeamDecoder(
        bundle.tokenizer, bundle.config["vocabulary"], DecodeOptions(method="beam", beam_size=8)
    )
    # A fresh copy each time: the outcome followed the memory the decoder's hypotheses got.
    outcomes = {tuple(w["word"] for w in decoder.decode_words(emissions.copy(), 0.03)) for _ in range(40)}
    assert len(outcomes) == 1


def test_a_filler_score_below_0_gives_a_stretch_to_a_word_rather_than_to_other_speech():
    """The filler ("#", other speech) and "go" both fit the stretch, the filler a little better:
    the filler's own score moves that choice, and the words' common score does not."""
    words = [*VOCABULARY, "#"]
    tokenizer = CharTokenizer.from_texts(words)
    probs = np.full((6, len(tokenizer)), 1e-3)
    probs[:, 0] = 0.9  # blank
    probs[1, [0, tokenizer.encode("#")[0], tokenizer.encode("g")[0]]] = (0.04, 0.6, 0.35)
    probs[3, [0, tokenizer.encode("o")[0]]] = (0.55, 0.4)

    def decode(**options) -> list[str]:
        decoder = LexiconBeamDecoder(tokenizer, words, DecodeOptions(method="beam", **options), filler="#")
        return [w["word"] for w in decoder.decode_words(np.log(probs), 0.03)]

    assert decode() == ["#"]
    assert decode(word_score=2.0) == ["#"]
    assert decode(filler_score=-3.0) == ["go"]
