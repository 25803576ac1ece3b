"""How well speech was recognised beyond WER: where recognised words start against where they
were said."""

from __future__ import annotations

import jiwer
import numpy as np


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
