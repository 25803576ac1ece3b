"""Spelled words from a CTC hands model: its symbols decoded into words of a list (``--words``),
through the vocabulary beam search speech uses (flashlight-text, ``models.lexicon_decoding``).

A model that spells (``sign-letters-ctc``) reads a word letter by letter; greedy decoding keeps
every misread letter, while a word list lets only the list's words through, each as the list
spells it ("cat" for the symbols C, A, T).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqrec.models.decode_options import DecodeOptions
from seqrec.models.tokenizer import BLANK, WORD_SEPARATOR

# Added per word by the beam search: at 0 it reads a long word as two short ones ("INDUCTS" as
# "inn ducts") as readily as one. Chosen on words composed from the letters' dev blocks
# (benchmarks/spelled_words.py --blocks dev, 200 words, sign-letters-ctc and wamerican): words
# right 144, 182, 193, 194, 193 of 200 at 0, -1, -3, -5, -8.
WORD_SCORE = -5.0


class HeadSymbols:
    """A CTC head's symbols as the lexicon decoder spells with them: the blank first, a word
    separator among them, and a word's characters matched to the symbols whatever their case (a
    list of lower-case English words spells with the letters model's A-Z)."""

    def __init__(self, symbols: Sequence[str]):
        self.symbols = list(symbols)
        if self.symbols[:1] != [BLANK] or WORD_SEPARATOR not in self.symbols:
            raise ValueError("this model's CTC head has no word separator: it cannot decode with a word list")
        self._ids = {symbol: i for i, symbol in enumerate(self.symbols) if i}

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def separator_id(self) -> int:
        return self._ids[WORD_SEPARATOR]

    def encode(self, word: str) -> list[int]:
        ids = []
        for char in word:
            found = next((self._ids[c] for c in (char, char.upper(), char.lower()) if c in self._ids), None)
            if found is None or found == self.separator_id:
                raise ValueError(f"the word {word!r}: {char!r} is not one of the model's symbols")
            ids.append(found)
        return ids


def checked_words(words: Sequence[str], symbols: Sequence[str]) -> list[str]:
    """The list without repeats, in its order, each word spellable with ``symbols`` (a
    ``ValueError`` names the first that is not)."""
    spelling = HeadSymbols(symbols)
    unique = list(dict.fromkeys(w.strip() for w in words if w.strip()))
    if not unique:
        raise ValueError("the word list is empty")
    for word in unique:
        spelling.encode(word)
    return unique


class WordSpeller:
    """Reads a CTC head's log-probabilities as words of ``words`` only.

    Parameters
    ----------
    symbols : the head's symbols, blank first, with a word separator
    words : the words that may come out (checked with ``checked_words``)
    options : the beam search's settings (beam size, word score)
    """

    def __init__(self, symbols: Sequence[str], words: Sequence[str], options: DecodeOptions | None = None):
        from seqrec.models.lexicon_decoding import LexiconBeamDecoder

        self.words = checked_words(words, symbols)
        self._decoder = LexiconBeamDecoder(
            HeadSymbols(symbols), self.words, options or DecodeOptions(method="beam", word_score=WORD_SCORE)
        )

    def read(self, log_probs: np.ndarray, times: np.ndarray, stack: int) -> dict:
        """``text`` (the words, space-separated) and ``words`` ``{"word", "start", "end", "score"}``,
        times in seconds from ``times``, each output step covering ``stack`` frames."""
        words = []
        for word in self._decoder.decode_words(log_probs, step_seconds=1.0):
            first = int(word["start"]) * stack
            last = min(int(word["end"]) * stack, len(times)) - 1
            words.append(
                {
                    "word": word["word"],
                    "start": round(float(times[first]), 3),
                    "end": round(float(times[last]), 3),
                    "score": word["score"],
                }
            )
        return {"text": " ".join(w["word"] for w in words), "words": words}
