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
        "utterance_accuracy": sum(r == h for r, h in zip(references, hypotheses)) / len(references),
    }
