"""Greedy CTC decoding with frame alignments, and words with times and scores from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqrec.models.tokenizer import CharTokenizer


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
    return path_spans(best, log_probs[np.arange(len(best)), best])


def path_spans(path: np.ndarray, path_log_probs: np.ndarray) -> list[TokenSpan]:
    """A CTC path's tokens as spans: runs of one token merged, blanks (id 0) removed, each span
    scored by its most probable step.

    Parameters
    ----------
    path : [T] int, the token at each step
    path_log_probs : [T] float, each step's log-probability of its token
    """
    if len(path) == 0:
        return []
    run_starts = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])
    run_ends = np.r_[run_starts[1:], len(path)]
    return [
        TokenSpan(int(path[start]), int(start), int(end), float(np.exp(path_log_probs[start:end].max())))
        for start, end in zip(run_starts, run_ends, strict=True)
        if path[start] != 0
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
