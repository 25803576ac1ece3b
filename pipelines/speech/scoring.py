"""How well speech was recognised beyond WER: the references a closed-vocabulary model is scored
against, and where recognised words start against where they were said."""

from __future__ import annotations

import jiwer
import numpy as np


def keep_vocabulary(text: str, vocabulary: tuple[str, ...], filler: str = "") -> str:
    """The transcript a closed-vocabulary model learns: other words are dropped (trained to blank),
    or, with a ``filler``, each run of them becomes that one symbol."""
    kept = []
    for word in text.split():
        if word in vocabulary:
            kept.append(word)
        elif filler and kept[-1:] != [filler]:
            kept.append(filler)
    return " ".join(kept)


def word_start_error(pairs: list[tuple[list[dict], list[dict]]]) -> dict:
    """Mean and 90th percentile of |hypothesis start - reference start| over words aligned as equal."""
    errors = []
    for reference, hypothesis in pairs:
        ref_words = " ".join(w["word"] for w in reference)
        hyp_words = " ".join(w["word"] for w in hypothesis)
        if not hyp_words:
            continue
        for chunk in jiwer.process_words(ref_words, hyp_words).alignments[0]:
            if chunk.type == "equal":
                for offset in range(chunk.ref_end_idx - chunk.ref_start_idx):
                    ref, hyp = (
                        reference[chunk.ref_start_idx + offset],
                        hypothesis[chunk.hyp_start_idx + offset],
                    )
                    errors.append(abs(hyp["start"] - ref["start"]))
    if not errors:
        return {"timed_words": 0}
    return {
        "timed_words": len(errors),
        "word_start_error": round(float(np.mean(errors)), 4),
        "word_start_error_p90": round(float(np.percentile(errors, 90)), 4),
    }
