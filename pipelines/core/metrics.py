"""Word and character error rates (jiwer), in one vocabulary across training and evaluation."""

from __future__ import annotations

import jiwer


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
