"""What a rejection threshold trades: misses of wanted words against false accepts of other speech,
over every threshold, and how well word scores match how often words are right.

Works on scored clips: each a reference (the model's words it holds; empty for other speech), its
duration, and every word decoded with no threshold, with its score. At threshold ``t`` a clip keeps
the words scoring at least ``t``; a clip of wanted words is a miss unless it keeps exactly its
reference, a clip of other speech a false accept when it keeps anything. Drawn as a PNG with
OpenCV (a dependency of both installs), like the confusion matrices.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIZE, MARGIN = 520, 70  # the plot's square and the room around it, in pixels


@dataclass(frozen=True)
class ScoredClip:
    reference: str  # the model's words the clip holds, space-separated; "" for other speech
    words: tuple[tuple[str, float], ...]  # every word decoded, with its score, in order
    seconds: float

    @classmethod
    def from_record(cls, reference: str, record: dict) -> ScoredClip:
        """A transcription record's words (decoded with no threshold) and duration, with ``reference``."""
        words = tuple((w["word"], w["score"]) for w in record.get("words", []))
        return cls(reference, words, record.get("duration", 0.0))


def kept_text(clip: ScoredClip, threshold: float) -> str:
    return " ".join(word for word, score in clip.words if score >= threshold)


def has_both_kinds(clips: Sequence[ScoredClip]) -> bool:
    return any(c.reference for c in clips) and any(not c.reference for c in clips)


def operating_curve(clips: Sequence[ScoredClip], threshold: float) -> dict:
    """Misses (share of wanted clips not kept exactly right) and false accepts (share of other
    clips keeping a word, and their count per hour of other speech) at thresholds 0, 0.01, ..., 1
    and at ``threshold`` (the operating point)."""
    wanted = [c for c in clips if c.reference]
    other = [c for c in clips if not c.reference]
    hours = sum(c.seconds for c in other) / 3600
    scores = sorted({threshold, *np.linspace(0.0, 1.0, 101).round(2).tolist()})

    def point(t: float) -> dict:
        misses = sum(kept_text(c, t) != c.reference for c in wanted)
        accepts = sum(bool(kept_text(c, t)) for c in other)
        return {
            "threshold": round(t, 4),
            "miss_rate": round(misses / len(wanted), 4),
            "false_accept_rate": round(accepts / len(other), 4),
            "false_accepts_per_hour": round(accepts / hours, 2) if hours else None,
        }

    return {
        "wanted_clips": len(wanted),
        "other_clips": len(other),
        "other_hours": round(hours, 4),
        "operating_point": point(threshold),
        "points": [point(t) for t in scores],
    }


def scored_words(clips: Sequence[ScoredClip]) -> list[tuple[float, bool]]:
    """Every decoded word's score, and whether it is right: its clip's reference holds it, as often
    as it was decoded."""
    scored = []
    for clip in clips:
        left = Counter(clip.reference.split())
        for word, score in clip.words:
            scored.append((score, left[word] > 0))
            left[word] -= 1
    return scored


def reliability(clips: Sequence[ScoredClip], bins: int = 10) -> dict:
    """How often a decoded word is right against its score: per score bin, the mean score and the
    share right (``scored_words``), and the expected calibration error (the bins' |accuracy - score|
    weighted by their words)."""
    scored = scored_words(clips)
    if not scored:
        return {"words": 0, "ece": None, "bins": []}
    scores = np.array([s for s, _ in scored])
    right = np.array([r for _, r in scored], float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean_score, accuracy = float(scores[inside].mean()), float(right[inside].mean())
        ece += inside.mean() * abs(accuracy - mean_score)
        table.append(
            {
                "from": round(float(edges[b]), 2),
                "to": round(float(edges[b + 1]), 2),
                "words": int(inside.sum()),
                "mean_score": round(mean_score, 4),
                "right": round(accuracy, 4),
            }
        )
    return {"words": len(scored), "ece": round(float(ece), 4), "bins": table}


def fit_calibration(clips: Sequence[ScoredClip], steps: int = 100) -> tuple[float, float]:
    """Platt scaling of raw word scores: the ``(slope, offset)`` of
    ``P(right) = sigmoid(slope * logit(score) + offset)`` that best predicts ``scored_words``: least
    log loss, by Newton's method, plus a pull toward the raw scores (slope 1, offset 0) worth about
    one word, so that a small set whose right and wrong words a score separates stays finite.

    Two parameters, so a few hundred dev words fit it without following their noise, and the order
    of words by score is kept: a threshold's trade is the same, only its number now means a
    probability. A ``ValueError`` when the words are all right or all wrong (nothing to fit).
    """
    scored = scored_words(clips)
    right = np.array([r for _, r in scored], float)
    if not scored or right.all() or not right.any():
        raise ValueError(
            f"calibration needs words both right and wrong: {int(right.sum())} of {len(scored)} "
            "decoded words are right (use a dev manifest holding the model's words and other speech)"
        )
    raw = np.clip([s for s, _ in scored], 1e-6, 1 - 1e-6)
    x = np.stack([np.log(raw / (1 - raw)), np.ones(len(raw))], axis=1)
    identity = np.array([1.0, 0.0])
    weights = identity.copy()
    for _ in range(steps):
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ weights)))  # the sigmoid, without overflow
        gradient = x.T @ (p - right) + (weights - identity)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-9:
            break
    return round(float(weights[0]), 6), round(float(weights[1]), 6)


def operating_curve_png(curve: dict, path: str | os.PathLike, title: str = "") -> Path:
    """Misses (y) against false accepts per clip of other speech (x), both 0-1, the operating point
    marked and written out with its rate per hour."""
    import cv2

    image, at = _unit_square(
        title,
        f"false accepts, share of {curve['other_clips']} clips of other speech",
        f"misses, share of {curve['wanted_clips']} clips of its words",
    )
    # In threshold order, 0 (everything kept, most false accepts) to 1 (nothing kept, all missed).
    points = [(p["false_accept_rate"], p["miss_rate"]) for p in curve["points"]]
    cv2.polylines(
        image, [np.array([at(x, y) for x, y in points], np.int32)], False, (200, 80, 0), 2, cv2.LINE_AA
    )
    operating = curve["operating_point"]
    cv2.circle(
        image, at(operating["false_accept_rate"], operating["miss_rate"]), 6, (0, 0, 220), -1, cv2.LINE_AA
    )
    per_hour = operating["false_accepts_per_hour"]
    note = (
        f"threshold {operating['threshold']:.2f}: misses {operating['miss_rate']:.1%}, false accepts "
        f"{operating['false_accept_rate']:.1%}" + (f" ({per_hour:g}/h)" if per_hour is not None else "")
    )
    cv2.putText(
        image, note, (MARGIN, MARGIN - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 220), 1, cv2.LINE_AA
    )
    return _write_png(image, path)


def reliability_png(table: dict, path: str | os.PathLike, title: str = "") -> Path:
    """The reliability diagram of ``reliability``'s table: per score bin, the share of its words
    that are right (y) at their mean score (x), a dot sized by the bin's words; calibrated scores
    lie on the diagonal."""
    import cv2

    image, at = _unit_square(title, f"word score (mean of its bin; {table['words']} words)", "share right")
    cv2.line(image, at(0, 0), at(1, 1), (160, 160, 160), 1, cv2.LINE_AA)
    largest = max((b["words"] for b in table["bins"]), default=1)
    centres = [at(b["mean_score"], b["right"]) for b in table["bins"]]
    if len(centres) > 1:
        cv2.polylines(image, [np.array(centres, np.int32)], False, (200, 80, 0), 2, cv2.LINE_AA)
    for b, centre in zip(table["bins"], centres, strict=True):
        cv2.circle(image, centre, 3 + round(9 * np.sqrt(b["words"] / largest)), (200, 80, 0), -1, cv2.LINE_AA)
    ece = "n/a" if table["ece"] is None else f"{table['ece']:.3f}"
    cv2.putText(
        image,
        f"expected calibration error {ece}",
        (MARGIN, MARGIN - 12),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (0, 0, 220),
        1,
        cv2.LINE_AA,
    )
    return _write_png(image, path)


def _unit_square(title: str, x_label: str, y_label: str):
    """A white image with the 0-1 square's grid, ticks and labels, and ``at(x, y)``: its pixel."""
    import cv2

    image = np.full((SIZE + 2 * MARGIN, SIZE + 2 * MARGIN, 3), 255, np.uint8)
    font, black, grey = cv2.FONT_HERSHEY_SIMPLEX, (0, 0, 0), (200, 200, 200)

    def at(x: float, y: float) -> tuple[int, int]:
        return (MARGIN + round(x * SIZE), MARGIN + SIZE - round(y * SIZE))

    for tick in np.linspace(0, 1, 6):
        cv2.line(image, at(tick, 0), at(tick, 1), grey, 1)
        cv2.line(image, at(0, tick), at(1, tick), grey, 1)
        cv2.putText(image, f"{tick:.1f}", (at(tick, 0)[0] - 10, MARGIN + SIZE + 18), font, 0.4, black, 1)
        cv2.putText(image, f"{tick:.1f}", (MARGIN - 32, at(0, tick)[1] + 4), font, 0.4, black, 1)
    cv2.rectangle(image, at(0, 1), at(1, 0), black, 1)
    cv2.putText(image, x_label, (MARGIN + 60, MARGIN + SIZE + 45), font, 0.45, black, 1, cv2.LINE_AA)
    label = np.full((30, SIZE, 3), 255, np.uint8)
    cv2.putText(label, y_label, (60, 20), font, 0.45, black, 1)
    image[MARGIN : MARGIN + SIZE, 2:32] = np.rot90(label)
    cv2.putText(image, title, (MARGIN, 22), font, 0.5, black, 1, cv2.LINE_AA)
    return image, at


def _write_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"{path}: could not write the PNG")
    return path
