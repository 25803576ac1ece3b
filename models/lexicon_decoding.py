"""CTC beam search constrained to a vocabulary (a lexicon), with an optional word bigram, through
flashlight-text (the ``[lm]`` extra). Its output is the same word records ``spans_to_words`` makes
of greedy decoding: the same times and scores, from the chosen path."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from seqrec.models.ctc_decoding import path_spans
from seqrec.models.decode_options import DecodeOptions
from seqrec.models.tokenizer import CharTokenizer, normalize_text


def lexicon_words(vocabulary, filler: str = "") -> list[str]:
    """The words beam search may spell: the vocabulary, and the filler that stands for other speech
    when the model was trained with one (it is dropped from the output afterwards)."""
    return [*vocabulary, filler] if filler else list(vocabulary)


def word_bigram(texts: Iterable[str], vocabulary: list[str], smoothing: float = 1.0) -> list[list[float]]:
    """Add-``smoothing`` word bigram log-probabilities over the vocabulary.

    Row ``i`` is the history (``vocabulary[i]``, or the start of an utterance for the last row),
    column ``j`` the next word (``vocabulary[j]``, or the end of the utterance for the last column).
    Words outside the vocabulary are skipped.
    """
    index = {word: i for i, word in enumerate(vocabulary)}
    boundary = len(vocabulary)
    counts = Counter()
    for text in texts:
        words = [index[w] for w in normalize_text(text).split() if w in index]
        for history, word in zip([boundary, *words], [*words, boundary], strict=True):
            counts[history, word] += 1
    table = np.full((boundary + 1, boundary + 1), smoothing)
    for (history, word), count in counts.items():
        table[history, word] += count
    return np.log(table / table.sum(axis=1, keepdims=True)).round(4).tolist()


# flashlight keeps the best ``beam_size`` hypotheses of each step, and among equal scores which it
# keeps depends on where they lie in memory. A word's last letter makes two hypotheses on one path:
# the word completed and the same letters still inside the trie (a longer word may follow), and
# with no word score and no LM they score exactly the same: the same audio then decoded
# differently from run to run (measured: 18 of 40 decodes of one utterance kept a word, the rest
# did not). A word score far below any real difference makes the completed word win those ties.
WORD_TIE_BREAK = 1e-6


class LexiconBeamDecoder:
    """Beam search over CTC log-probabilities where only vocabulary words can be spelled.

    Parameters
    ----------
    tokenizer : the model's characters; its word separator marks word ends
    vocabulary : the words that may be output
    options : beam size, word score, LM weight, filler score
    bigram : ``word_bigram`` table, used when ``options.lm_weight`` > 0
    filler : the word among ``vocabulary`` that stands for other speech, which
        ``options.filler_score`` is added to
    """

    def __init__(
        self,
        tokenizer: CharTokenizer,
        vocabulary: list[str],
        options: DecodeOptions,
        bigram=None,
        filler: str = "",
    ):
        try:
            from flashlight.lib.text import decoder as fl
        except ImportError:
            raise ImportError("beam search needs flashlight-text: pip install 'seqrec[lm]'") from None
        self.tokenizer = tokenizer
        self.words = list(vocabulary)
        self.separator = separator = tokenizer.separator_id
        # What a word adds to a hypothesis beside the acoustics, by the word before it (the last row
        # and column: an utterance's start and end): the weighted bigram, and the filler's score
        # whatever came before it. flashlight scales what the LM says by its lm_weight, so 1 below.
        n = len(self.words)
        use_bigram = bigram is not None and options.lm_weight
        table = np.asarray(bigram, float) * options.lm_weight if use_bigram else np.zeros((n + 1, n + 1))
        if options.filler_score and filler in self.words:
            table[:, self.words.index(filler)] += options.filler_score
        self.language_model = _bigram_lm(fl, table) if table.any() else fl.ZeroLM()
        start = self.language_model.start(False)
        trie = fl.Trie(len(tokenizer), separator)
        for word_index, word in enumerate(vocabulary):
            _, score = self.language_model.score(start, word_index)
            # No trailing separator: training targets have none after an utterance's last word,
            # and between words the decoder takes the separator as silence at the trie's root.
            trie.insert(tokenizer.encode(word), word_index, score)
        trie.smear(fl.SmearingMode.MAX)
        settings = fl.LexiconDecoderOptions(
            beam_size=options.beam_size,
            beam_size_token=len(tokenizer),
            beam_threshold=options.beam_threshold,
            lm_weight=1.0,
            word_score=options.word_score + WORD_TIE_BREAK,
            unk_score=-math.inf,
            sil_score=0.0,
            log_add=False,
            criterion_type=fl.CriterionType.CTC,
        )
        self._decoder = fl.LexiconDecoder(settings, trie, self.language_model, separator, 0, -1, [], False)
        self._trie = trie  # the decoder holds a reference only on the C++ side

    def decode_words(
        self, log_probs: np.ndarray, step_seconds: float, duration: float | None = None
    ) -> list[dict]:
        """[T, V] log-probabilities -> the best in-vocabulary word sequence, as ``spans_to_words``
        gives it: {"word", "start", "end", "score"}, times in seconds (clipped to ``duration``),
        score the mean probability of the word's characters on the chosen path.

        Words are spelled without a trailing separator (a model never emits one after the last
        word), and the decoder says where it completed each word: a word spans the steps from the
        previous word's end to its own. Its text is the lexicon's, never re-read from the path,
        where CTC merges a doubled letter that the decoder took on adjacent steps.
        """
        if len(log_probs) == 0:
            return []
        emissions = np.ascontiguousarray(log_probs, dtype=np.float32)
        best = self._decoder.decode(emissions.ctypes.data, *emissions.shape)[0]
        path = np.asarray(best.tokens[1:-1])  # the decoder pads the path with a separator each side
        emitted = np.asarray(best.words[1:-1])
        limit = float("inf") if duration is None else duration
        words, first_step = [], 0
        for end_step in np.flatnonzero(emitted >= 0):
            steps = np.arange(first_step, end_step + 1)
            tokens = path[first_step : end_step + 1]
            characters = [
                span for span in path_spans(tokens, emissions[steps, tokens]) if span.token != self.separator
            ]
            start = first_step + (characters[0].start if characters else len(steps) - 1)
            words.append(
                {
                    "word": self.words[emitted[end_step]],
                    "start": round(min(start * step_seconds, limit), 3),
                    "end": round(min((end_step + 1) * step_seconds, limit), 3),
                    "score": round(
                        float(np.mean([span.score for span in characters])) if characters else 0.0, 4
                    ),
                }
            )
            first_step = end_step + 1
        return words


def _bigram_lm(fl, table: np.ndarray):
    """A word bigram as a flashlight LM (defined here: flashlight-text is an optional import)."""
    boundary = len(table) - 1

    class BigramLM(fl.LM):
        def __init__(self):
            fl.LM.__init__(self)
            self.last_word = {}  # LMState -> the word that led to it

        def start(self, start_with_nothing):
            state = fl.LMState()
            self.last_word = {state: boundary}
            return state

        def score(self, state, word):
            child = state.child(word)
            self.last_word.setdefault(child, word)
            return child, float(table[self.last_word[state], word])

        def finish(self, state):
            return state, float(table[self.last_word[state], boundary])

    return BigramLM()
