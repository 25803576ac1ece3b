"""Greedy CTC decoding with frame alignments, and words with times and scores from them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tokenizer import CharTokenizer


@dataclass(frozen=True)
class TokenSpan:
    """One emitted token: encoder steps [start, end) where it is the best path, and its probability."""

    token: int
    start: int
    end: int
    score: float


def greedy_decode(log_probs: np.ndarray) -> list[TokenSpan]:
    """Best path per step, repeats merged, blanks (id 0) removed.

    Parameters
    ----------
    log_probs : np.ndarray, shape [T, V], one utterance without padding

    Returns
    -------
    list of TokenSpan, in time order
    """
    if len(log_probs) == 0:
        return []
    best = log_probs.argmax(axis=-1)
    best_log_prob = log_probs[np.arange(len(best)), best]
    run_starts = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    run_ends = np.r_[run_starts[1:], len(best)]
    return [
        TokenSpan(int(best[start]), int(start), int(end), float(np.exp(best_log_prob[start:end].max())))
        for start, end in zip(run_starts, run_ends)
        if best[start] != 0
    ]


def spans_to_words(
    spans: list[TokenSpan], tokenizer: CharTokenizer, step_seconds: float, duration: float | None = None
) -> list[dict]:
    """Group character spans into words split at the separator.

    Times are clipped to ``duration`` when given: the last encoder step can reach past the audio.

    Returns
    -------
    list of {"word", "start", "end", "score"}: times in seconds, score the mean character probability.
    """
    limit = float("inf") if duration is None else duration
    words, current = [], []
    for span in [*spans, None]:
        if span is None or span.token == tokenizer.separator_id:
            if current:
                words.append(
                    {
                        "word": tokenizer.decode(s.token for s in current),
                        "start": round(min(current[0].start * step_seconds, limit), 3),
                        "end": round(min(current[-1].end * step_seconds, limit), 3),
                        "score": round(float(np.mean([s.score for s in current])), 4),
                    }
                )
            current = []
        else:
            current.append(span)
    return words
