import numpy as np

from seqrec.pipelines.speech.word_timing import align_words_to_speech

RATE = 8000


def _bursts(spans, seconds=2.0, seed=0):
    """Low room noise with loud noise bursts at the given (start, end) seconds."""
    rng = np.random.default_rng(seed)
    audio = 1e-4 * rng.standard_normal(int(seconds * RATE))
    for start, end in spans:
        audio[int(start * RATE) : int(end * RATE)] += 0.3 * rng.standard_normal(
            int(end * RATE) - int(start * RATE)
        )
    return audio.astype(np.float32)


def _words(*names):
    return [{"word": name, "start": 0.0, "end": 0.05, "score": 0.9} for name in names]


def test_each_word_takes_its_stretch_of_speech_in_order():
    timed = align_words_to_speech(_words("go", "left"), _bursts([(0.3, 0.6), (1.0, 1.4)]), RATE)
    assert [w["word"] for w in timed] == ["go", "left"]
    assert abs(timed[0]["start"] - 0.3) < 0.03 and abs(timed[1]["start"] - 1.0) < 0.03
    assert abs(timed[1]["end"] - 1.4) < 0.05


def test_a_word_broken_by_a_short_pause_is_one_word():
    timed = align_words_to_speech(_words("six", "go"), _bursts([(0.3, 0.45), (0.55, 0.7), (1.2, 1.5)]), RATE)
    assert abs(timed[0]["start"] - 0.3) < 0.03 and abs(timed[0]["end"] - 0.7) < 0.05
    assert abs(timed[1]["start"] - 1.2) < 0.03


def test_words_run_together_split_one_stretch():
    timed = align_words_to_speech(_words("rear", "left"), _bursts([(0.3, 1.3)]), RATE)
    assert abs(timed[0]["start"] - 0.3) < 0.03
    assert timed[0]["end"] == timed[1]["start"] and 0.3 < timed[1]["start"] < 1.3


def test_without_speech_the_ctc_times_stay():
    words = _words("go")
    assert align_words_to_speech(words, np.zeros(RATE, np.float32), RATE) == words


def test_a_rejected_word_keeps_its_stretch_from_the_next_word():
    from seqrec.pipelines.speech.stages import AlignWordTimes

    decoded = [{**w, "kept": kept} for w, kept in zip(_words("#", "go"), (False, True), strict=False)]
    sample = {
        "audio": _bursts([(0.3, 0.6), (1.0, 1.4)]),
        "sample_rate": RATE,
        "words": _words("go"),
        "decoded_words": decoded,
    }
    (go,) = AlignWordTimes().process(sample)["words"]
    assert go["word"] == "go" and "kept" not in go
    assert abs(go["start"] - 1.0) < 0.03, "the filler's stretch (0.3-0.6 s) is not the kept word's"
