"""A confusion matrix drawn as a PNG with OpenCV (already a dependency; no plotting library)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CELL = 56  # pixels per matrix cell
MARGIN = 150  # room for the label names left of and above the matrix


def confusion_png(
    confusion: dict[str, dict[str, int]], labels: Sequence[str], path: str | os.PathLike, title: str = ""
) -> Path:
    """Draw ``confusion`` ({truth: {predicted: count}}) with rows = truth and columns = prediction.

    Predictions outside ``labels`` (such as "none", no hand found) get their own last column.
    Cells are shaded by the share of their row, and show the count.
    """
    import cv2

    columns = list(labels) + sorted({p for row in confusion.values() for p in row} - set(labels))
    counts = np.array([[confusion.get(t, {}).get(p, 0) for p in columns] for t in labels], float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    height, width = MARGIN + CELL * len(labels) + 20, MARGIN + CELL * len(columns) + 20
    image = np.full((height, width, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for r, truth in enumerate(labels):
        for c in range(len(columns)):
            x, y = MARGIN + c * CELL, MARGIN + r * CELL
            # Any count at all gets a visible tint: a single confusion is what a reader looks for.
            shade = int(255 - (55 + 145 * shares[r, c])) if counts[r, c] else 255
            colour = (255, shade, shade) if c == r else (shade, shade, 255)
            cv2.rectangle(image, (x, y), (x + CELL, y + CELL), colour, -1)
            cv2.rectangle(image, (x, y), (x + CELL, y + CELL), (180, 180, 180), 1)
            if counts[r, c]:
                text = str(int(counts[r, c]))
                size = cv2.getTextSize(text, font, 0.45, 1)[0]
                cv2.putText(
                    image,
                    text,
                    (x + (CELL - size[0]) // 2, y + (CELL + size[1]) // 2),
                    font,
                    0.45,
                    (0, 0, 0),
                    1,
                    cv2.LINE_AA,
                )
        cv2.putText(
            image, truth[:16], (8, MARGIN + r * CELL + CELL // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
    for c, predicted in enumerate(columns):
        # Column names written upwards, so long labels fit above narrow cells.
        label = np.full((CELL, MARGIN - 30, 3), 255, np.uint8)
        cv2.putText(label, predicted[:16], (4, CELL // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        image[20 : MARGIN - 10, MARGIN + c * CELL : MARGIN + (c + 1) * CELL] = np.rot90(label)
    cv2.putText(
        image, title or "rows: truth, columns: predicted", (8, 16), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"{path}: could not write the PNG")
    return path
