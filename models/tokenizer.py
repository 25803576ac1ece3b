"""Characters to token ids and back, with the CTC blank at index 0."""

from __future__ import annotations

from collections.abc import Iterable

BLANK = "<blank>"
WORD_SEPARATOR = " "


class CharTokenizer:
    """A character vocabulary; id 0 is the CTC blank, and the space separates words."""

    def __init__(self, symbols: Iterable[str]):
        symbols = list(symbols)
        if symbols[:1] != [BLANK]:
            symbols = [BLANK, *symbols]
        if len(set(symbols)) != len(symbols):
            raise ValueError("tokenizer symbols must be unique")
        self.symbols = symbols
        self._ids = {symbol: i for i, symbol in enumerate(symbols)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        chars = {char for text in texts for char in normalize_text(text)}
        chars.add(WORD_SEPARATOR)
        return cls(sorted(chars))

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def separator_id(self) -> int:
        return self._ids[WORD_SEPARATOR]

    def encode(self, text: str) -> list[int]:
        text = normalize_text(text)
        unknown = sorted({char for char in text if char not in self._ids})
        if unknown:
            raise ValueError(f"text {text!r} has characters outside the vocabulary: {unknown}")
        return [self._ids[char] for char in text]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.symbols[i] for i in ids if i != 0)


def normalize_text(text: str) -> str:
    """Lower case, single spaces: the form transcripts are trained and scored in."""
    return " ".join(text.lower().split())
