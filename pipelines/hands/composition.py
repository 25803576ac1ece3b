"""Signed sequences composed from single real handshapes: the CTC training data for reading a
video of someone signing symbols one after another, when only photos of each symbol exist.

A sequence is: no hand for a moment, then each handshape held for a while (drifting a little as a
held hand does), a transition to the next (shape and position blended, as fingers move from one
shape to the next), a small dip of the hand between two equal symbols (as signers do to repeat
one), and no hand again at the end. The hand's size and place in the picture vary per sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqrec.features import MIDDLE_MCP, WRIST
from seqrec.pipelines.hands.data import HandSequence, empty_hands

VIDEO_ASPECT = 16 / 9  # the composed sequences are placed in a 16:9 picture


@dataclass(frozen=True)
class ComposeConfig:
    """CTC training sequences composed from one-frame poses (photos): a signer showing
    ``min_symbols``…``max_symbols`` of them one after another, each held for ``hold_frames``
    frames, moving between them in ``transition_frames``, drifting across the picture."""

    min_symbols: int = 1
    max_symbols: int = 5
    hold_frames: tuple[int, int] = (6, 20)
    transition_frames: tuple[int, int] = (3, 8)
    lead_frames: tuple[int, int] = (0, 8)  # no hand in view before the first symbol and after the last
    train_sequences: int = 4000  # composed anew every epoch
    dev_sequences: int = 300  # composed once, from the dev poses, with the recipe's seed

    def __post_init__(self):
        if not 1 <= self.min_symbols <= self.max_symbols:
            raise ValueError("compose needs 1 <= min_symbols <= max_symbols")


def as_right_slot(pose: HandSequence) -> tuple[np.ndarray, float] | None:
    """A one-hand pose as wrist-relative points in the units of x, palm size 1, in the right-hand
    geometry (a left hand mirrored), and its palm size in picture widths; None without a hand."""
    present = pose.present[0]
    if not present.any():
        return None
    slot = 0 if present[0] else 1
    points = pose.landmarks[0, slot].astype(np.float64).copy()
    points[:, 1] /= pose.aspect
    relative = points - points[WRIST]
    palm = float(np.linalg.norm(relative[MIDDLE_MCP, :2]))
    if palm <= 1e-6:
        return None
    relative /= palm
    if slot == 1:
        relative[:, 0] = -relative[:, 0]
    return relative.astype(np.float32), palm


def compose_sequence(
    poses: Sequence[HandSequence], config: ComposeConfig, rng: np.random.Generator
) -> HandSequence:
    """One composed sequence; ``text`` is the symbols (each pose's ``label``) in order.

    ``poses`` are one-frame sequences with a hand found.
    """
    n_symbols = int(rng.integers(config.min_symbols, config.max_symbols + 1))
    return compose_poses([poses[i] for i in rng.integers(len(poses), size=n_symbols)], config, rng)


def compose_word(
    word: str,
    poses_by_label: dict[str, Sequence[HandSequence]],
    config: ComposeConfig,
    rng: np.random.Generator,
) -> HandSequence:
    """``word`` spelled symbol by symbol, each a pose of that label drawn from ``poses_by_label``
    (one-frame sequences with a hand found); a doubled letter is two draws with a dip between."""
    chosen = []
    for symbol in word:
        if not poses_by_label.get(symbol):
            raise ValueError(f"compose_word: no pose of {symbol!r} to spell {word!r} with")
        choices = poses_by_label[symbol]
        chosen.append(choices[int(rng.integers(len(choices)))])
    return compose_poses(chosen, config, rng)


def compose_poses(
    chosen: Sequence[HandSequence], config: ComposeConfig, rng: np.random.Generator
) -> HandSequence:
    """The poses ``chosen`` signed in this order (``compose_sequence`` without the drawing)."""
    shapes = [as_right_slot(p) for p in chosen]
    if any(s is None for s in shapes):
        raise ValueError("compose_sequence needs poses with a hand found")
    palm = rng.uniform(0.05, 0.16)  # palm size in picture widths: near the camera to across a room
    # The wrist's resting place, in the units of x (y in picture heights divided by the aspect).
    anchor = np.array([rng.uniform(0.3, 0.7), rng.uniform(0.5, 0.8) / VIDEO_ASPECT], np.float32)
    tracks: list[np.ndarray] = []  # frames of (wrist-relative shape [21, 3], wrist [3]) as [22, 3]

    def frame(shape: np.ndarray, wrist: np.ndarray) -> np.ndarray:
        return np.vstack([shape, wrist[None]])

    wrist = np.array([*anchor, 0.0], np.float32)
    for i, (shape, _) in enumerate(shapes):
        if i:
            previous = shapes[i - 1][0]
            n_move = int(rng.integers(config.transition_frames[0], config.transition_frames[1] + 1))
            target = np.array([*anchor, 0.0], np.float32) + _offset(rng, palm)
            repeat = chosen[i].label == chosen[i - 1].label
            for step in range(1, n_move + 1):
                blend = step / (n_move + 1)
                moved = wrist + (target - wrist) * blend
                if repeat:  # a dip of about a palm and back
                    moved = moved + np.array([0.0, palm * np.sin(np.pi * blend), 0.0], np.float32)
                tracks.append(frame(previous + (shape - previous) * blend, moved))
            wrist = target
        n_hold = int(rng.integers(config.hold_frames[0], config.hold_frames[1] + 1))
        for _ in range(n_hold):
            wrist = wrist + rng.normal(0.0, palm * 0.03, 3).astype(np.float32) * np.array(
                [1, 1, 0], np.float32
            )
            tracks.append(frame(shape, wrist))
    track = np.stack(tracks)  # [T, 22, 3]
    landmarks_right = track[:, :21] * palm + track[:, 21:22]
    landmarks_right[..., 1] *= VIDEO_ASPECT  # back to y in picture heights
    before, after = (int(rng.integers(config.lead_frames[0], config.lead_frames[1] + 1)) for _ in range(2))
    landmarks, present = empty_hands(before + len(track) + after)
    landmarks[before : before + len(track), 0] = landmarks_right
    present[before : before + len(track), 0] = True
    text = "".join(p.label for p in chosen)
    return HandSequence(landmarks, present, VIDEO_ASPECT, text=text, path="composed")


def _offset(rng: np.random.Generator, palm: float) -> np.ndarray:
    """Where the hand moves to for the next symbol: within about a palm of the anchor."""
    return np.array([*rng.normal(0.0, palm * 0.5, 2), 0.0], np.float32)


def compose_set(
    poses: Sequence[HandSequence], config: ComposeConfig, count: int, seed: int
) -> list[HandSequence]:
    """``count`` sequences, a pure function of the poses and ``seed`` (dev and test sets)."""
    rng = np.random.default_rng(seed)
    found = [p for p in poses if p.found]
    return [compose_sequence(found, config, rng) for _ in range(count)]
