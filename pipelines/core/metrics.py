"""Word and character error rates (jiwer), in one vocabulary across training and evaluation, and
the confidence interval of a rate."""

from __future__ import annotations

import math

import jiwer


def wilson_interval(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of the rate ``hits / total`` (95% by default), rounded to 4
    places; NaNs for no trials. Unlike the normal approximation it stays inside 0-1 and is honest
    at 0 or ``total`` hits, which small test sets often have."""
    if total == 0:
        return (math.nan, math.nan)
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (round(centre - half, 4), round(centre + half, 4))


def error_rates(references: list[str], hypotheses: list[str]) -> dict:
    """WER, CER and their parts over whole corpora (not averaged per utterance)."""
    if not references:
        return {"wer": 0.0, "cer": 0.0, "words": 0, "utterances": 0}
    words = jiwer.process_words(references, hypotheses)
    chars = jiwer.process_characters(references, hypotheses)
    return {
        "wer": words.wer,
        "cer": chars.cer,
        "words": sum(len(r.split()) for r in references),
        "substitutions": words.substitutions,
        "deletions": words.deletions,
        "insertions": words.insertions,
        "utterances": len(references),
        "utterance_accuracy": sum(r == h for r, h in zip(references, hypotheses, strict=False))
        / len(references),
    }


def closed_vocabulary_rates(references: list[str], hypotheses: list[str]) -> dict:
    """``error_rates`` over the references with words. An empty reference (for a closed-vocabulary
    model, speech outside its vocabulary, or no speech) should come out empty:
    ``out_of_vocabulary_utterances`` counts those, and ``false_accept_rate`` is the share that did
    not (both absent when there are none)."""
    speech = [
        (reference, hypothesis)
        for reference, hypothesis in zip(references, hypotheses, strict=False)
        if reference
    ]
    no_target = [
        hypothesis for reference, hypothesis in zip(references, hypotheses, strict=False) if not reference
    ]
    rates = error_rates([reference for reference, _ in speech], [hypothesis for _, hypothesis in speech])
    if no_target:
        rates["out_of_vocabulary_utterances"] = len(no_target)
        rates["false_accept_rate"] = sum(bool(hypothesis) for hypothesis in no_target) / len(no_target)
    return rates
