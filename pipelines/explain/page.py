"""An ``Explanation`` drawn as one self-contained HTML page: every picture a PNG inside the file,
so the page can be mailed or opened offline.

Every picture over time has the same width and margins and the same time limits, so that the
input, the gates, the saliency and the heads' outputs line up down the page on one time axis.
Drawn with matplotlib's object API (no pyplot: no global state, no display needed).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import numpy as np

from seqrec.pipelines.core.files import replaced_atomically
from seqrec.pipelines.explain.inside import Explanation

WIDTH = 12.0  # inches, every picture
LEFT, RIGHT = 0.09, 0.94  # the time axis's margins, the same in every picture over time (the
# right one leaves room for each heatmap's range)
DPI = 80
# What each recurrent cell's pictures show, in order (the cell candidate and the hidden state of an
# LSTM follow from these; a GRU's and an RNN's hidden state is all the memory they have).
SHOWN = {
    "lstm": ("input_gate", "forget_gate", "output_gate", "cell"),
    "gru": ("reset_gate", "update_gate", "hidden"),
    "rnn": ("hidden",),
}
WHAT_IT_DOES = {
    "input_gate": "how much of the new candidate enters the cell (0 to 1)",
    "forget_gate": "how much of the cell is kept from the step before (0 to 1)",
    "output_gate": "how much of the cell is shown as the hidden state (0 to 1)",
    "cell": "the cell state: what the unit remembers",
    "reset_gate": "how much of the last hidden state the candidate reads (0 to 1)",
    "update_gate": "how much of the last hidden state is kept (0 to 1)",
    "hidden": "the hidden state",
}
FINGER_NAMES = ("thumb", "index", "middle", "ring", "little")  # hand_layout.FINGERS' order
CTC_SYMBOLS_SHOWN = 40  # a CTC head with more symbols shows the ones its best path uses and the most likely


def write_page(explanation: Explanation, path: str | os.PathLike) -> Path:
    """Write the page to ``path`` (atomically) and return it."""
    path = Path(path)
    sections = [_input_section(explanation), _encoder_section(explanation), _heads_section(explanation)]
    result = _result_text(explanation.result)
    title = f"seqrec explain: {Path(explanation.path).name}"
    body = "\n".join(sections)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: {WIDTH * DPI + 40:.0f}px; margin: 1em auto; color: #222; }}
h2 {{ border-bottom: 1px solid #ccc; margin-top: 1.6em; }}
img {{ width: 100%; display: block; }}
pre {{ background: #f4f4f4; padding: 0.6em; overflow-x: auto; }}
.note {{ color: #555; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Model <b>{html.escape(explanation.model)}</b> ({explanation.modality}, a bidirectional
{explanation.cell.upper()} of {len(explanation.layers)} layers); every picture over time shares one
time axis, in seconds from the input's start.</p>
<h2>Result</h2>
<p class="note">As <code>seqrec {"transcribe" if explanation.modality == "speech" else "gestures"}</code>
prints it.</p>
<pre>{html.escape(result)}</pre>
{body}
</body></html>
"""
    with replaced_atomically(path) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return path


def _result_text(result: dict) -> str:
    """The record as JSON, a line per field and per item of a list of records (words, segments)."""
    lines = []
    for key, value in result.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            items = ",\n".join(f"    {json.dumps(item)}" for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _input_section(e: Explanation) -> str:
    parts = ["<h2>The input</h2>"]
    if e.waveform is not None:
        figure, (wave, features) = _figure(2, heights=(1, 2))
        times = np.arange(len(e.waveform)) / e.sample_rate
        wave.plot(times, e.waveform, linewidth=0.5, color="#246")
        wave.set_ylabel("waveform")
        _heatmap(features, e.features.T, e.feature_times, e.duration, cmap="magma")
        features.set_ylabel(f"MFCCs + deltas\n({e.features.shape[1]} rows)")
        _shared_time(figure, e)
        parts.append(_image(figure))
    else:
        if e.thumbnails:
            parts.append(_image(_thumbnail_strip(e.thumbnails)))
        parts.append(
            '<p class="note">Landmark trajectories: the wrist and the five fingertips, x and y in the '
            "picture (0 to 1), per hand found.</p>"
        )
        parts.append(_image(_trajectories(e)))
    parts.append(
        '<p class="note">The network\'s input, frame by frame: '
        f"{e.features.shape[0]} frames of {e.features.shape[1]} features."
        + (
            " The encoder's pictures below read the whole video as one sequence; the recogniser "
            "classifies windows of it (the heads' pictures at the bottom)."
            if e.modality == "hands" and len(e.features) > 1
            else ""
        )
        + "</p>"
    )
    return "\n".join(parts)


def _encoder_section(e: Explanation) -> str:
    shown = SHOWN[e.cell]
    parts = [
        "<h2>What the encoder does</h2>",
        '<p class="note">Read from the trained weights: the recurrence replayed step by step '
        "(<code>seqrec.models.recurrent_steps</code>, the same numbers as torch's). Each heatmap is units "
        "(rows) over time; the line below it is the mean over units. "
        + "; ".join(f"<b>{name.replace('_', ' ')}</b>: {WHAT_IT_DOES[name]}" for name in shown)
        + ".</p>",
    ]
    for index, layer in enumerate(e.layers):
        for direction, trace in layer.items():
            parts.append(f"<h3>Layer {index + 1}, {direction}</h3>")
            parts.append(_image(_gates_figure(e, trace, shown)))
    parts.append("<h3>Which moments the output depends on</h3>")
    parts.append(
        f'<p class="note">Saliency: the gradient of {html.escape(e.saliency_target)} with respect to '
        "each input feature, times the feature (gradient × input); the line is the sum of its size "
        "over the features of each frame.</p>"
    )
    parts.append(_image(_saliency_figure(e)))
    return "\n".join(parts)


def _heads_section(e: Explanation) -> str:
    parts = ["<h2>What the heads say</h2>"]
    for name, head in e.ctc.items():
        parts.append(
            f'<p class="note">CTC head <b>{html.escape(name)}</b>: each symbol\'s probability per step '
            "(the blank first); dots mark the best path's symbols."
            + (" Below, the words with their times." if e.result.get("words") else "")
            + "</p>"
        )
        parts.append(_image(_ctc_figure(e, head)))
    for name, head in e.classifier.items():
        parts.append(
            f'<p class="note">Classifier head <b>{html.escape(name)}</b>: the probability of each label '
            "(the five most likely anywhere) for each window the recogniser classifies, at the window's "
            "last frame; gaps are windows with no hand in view.</p>"
        )
        parts.append(_image(_classifier_figure(e, head)))
    return "\n".join(parts)


def _figure(rows: int, heights=None, row_inches: float = 1.3):
    from matplotlib.figure import Figure

    heights = heights or (1,) * rows
    figure = Figure(figsize=(WIDTH, 0.5 + row_inches * sum(heights)), dpi=DPI)
    axes = figure.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    figure.subplots_adjust(left=LEFT, right=RIGHT, top=0.97, bottom=0.5 / (0.5 + row_inches * sum(heights)))
    return figure, list(axes)


def _shared_time(figure, e: Explanation) -> None:
    for axis in figure.axes:
        if axis.get_label() == "<colorbar>":
            continue
        axis.set_xlim(0, e.duration)
    figure.axes[-1].set_xlabel("time (s)")


def _step_edges(times: np.ndarray, end: float) -> np.ndarray:
    """Edges of the time bins that start at ``times`` (the last ends at ``end``)."""
    return np.append(times, max(end, times[-1] + 1e-3))


def _heatmap(axis, values: np.ndarray, times: np.ndarray, end: float, cmap="viridis", limits=None):
    """``values`` [rows, len(times)] as coloured bins over time."""
    low, high = limits if limits else (np.nanmin(values), np.nanmax(values))
    axis.pcolormesh(
        _step_edges(times, end),
        np.arange(values.shape[0] + 1),
        values,
        cmap=cmap,
        vmin=low,
        vmax=high,
        shading="flat",
        rasterized=True,
    )
    axis.set_yticks([])
    axis.text(
        1.002, 0.5, f"{low:.2g}\nto\n{high:.2g}", transform=axis.transAxes, fontsize=7, va="center", ha="left"
    )


def _gates_figure(e: Explanation, trace: dict[str, np.ndarray], shown) -> object:
    figure, axes = _figure(2 * len(shown), heights=[2, 1] * len(shown), row_inches=0.55)
    for k, name in enumerate(shown):
        values = trace[name]
        gate = name.endswith("_gate")
        if gate:
            _heatmap(axes[2 * k], values.T, e.step_times, e.duration, "viridis", (0, 1))
        else:  # a state, around 0: blue below, red above, white at 0; a few extreme units saturate
            largest = _robust_largest(values)
            _heatmap(axes[2 * k], values.T, e.step_times, e.duration, "RdBu_r", (-largest, largest))
        axes[2 * k].set_ylabel(f"{name.replace('_', ' ')}\n({values.shape[1]} units)", fontsize=8)
        axes[2 * k + 1].step(e.step_times, values.mean(axis=1), where="post", color="#a33", linewidth=1)
        axes[2 * k + 1].set_ylabel("mean", fontsize=8)
        if gate:
            axes[2 * k + 1].set_ylim(0, 1)
    _shared_time(figure, e)
    return figure


def _robust_largest(values: np.ndarray) -> float:
    """The 99th percentile of the sizes: a colour scale that a few extreme cells do not wash out."""
    return float(np.percentile(np.abs(values), 99)) or float(np.abs(values).max()) or 1.0


def _saliency_figure(e: Explanation):
    figure, (heat, line) = _figure(2, heights=(2, 1))
    size = np.abs(e.saliency)
    _heatmap(heat, size.T, e.feature_times, e.duration, "inferno", (0, _robust_largest(size)))
    heat.set_ylabel(f"|gradient × input|\n({size.shape[1]} features)", fontsize=8)
    line.step(e.feature_times, size.sum(axis=1), where="post", color="#a33", linewidth=1)
    line.set_ylabel("per frame", fontsize=8)
    _shared_time(figure, e)
    return figure


def _ctc_figure(e: Explanation, head: dict):
    posteriors, symbols, best = head["posteriors"], head["symbols"], head["best_path"]
    rows = list(range(len(symbols)))
    if len(rows) > CTC_SYMBOLS_SHOWN:
        used = set(best.tolist()) | {0}
        likely = np.argsort(-posteriors.max(axis=0)).tolist()
        rows = sorted(used | set(likely[: max(0, CTC_SYMBOLS_SHOWN - len(used))]))
    words = e.result.get("words") or e.result.get("symbols") or []
    figure, axes = _figure(2 if words else 1, heights=(4, 1) if words else (4,))
    heat = axes[0]
    _heatmap(heat, posteriors[:, rows].T, e.step_times, e.duration, "Greys", (0, 1))
    heat.set_yticks(np.arange(len(rows)) + 0.5)
    heat.set_yticklabels([_symbol_name(symbols[r]) for r in rows], fontsize=7)
    steps = np.flatnonzero(best > 0)
    centres = _step_edges(e.step_times, e.duration)
    centres = (centres[:-1] + centres[1:]) / 2
    row_of = {symbol: i for i, symbol in enumerate(rows)}
    heat.scatter(centres[steps], [row_of[b] + 0.5 for b in best[steps]], s=14, color="#e33", zorder=3)
    heat.set_ylabel("symbol", fontsize=8)
    if words:
        timeline = axes[1]
        for word in words:
            start, end = word["start"], word["end"]
            timeline.axvspan(start, end, color="#8ac", alpha=0.6)
            label = word.get("word", word.get("symbol", ""))
            timeline.text((start + end) / 2, 0.5, f"{label}\n{word['score']:.2f}", ha="center", va="center")
        timeline.set_yticks([])
        timeline.set_ylabel("words", fontsize=8)
    _shared_time(figure, e)
    return figure


def _symbol_name(symbol: str) -> str:
    return {"<blank>": "blank", " ": "space"}.get(symbol, symbol)


def _classifier_figure(e: Explanation, head: dict):
    probabilities, labels, times = head["probabilities"], head["labels"], head["times"]
    top = np.argsort(-np.nan_to_num(probabilities).max(axis=0))[:5]
    if len(times) == 1:  # a photo: one window, drawn as bars
        from matplotlib.figure import Figure

        figure = Figure(figsize=(WIDTH, 2.6), dpi=DPI)
        axis = figure.subplots()
        figure.subplots_adjust(left=LEFT, right=RIGHT, bottom=0.3)
        order = np.argsort(-probabilities[0])[:12]
        axis.bar([labels[i] for i in order], probabilities[0][order], color="#468")
        axis.set_ylim(0, 1)
        axis.set_ylabel("probability")
        return figure
    figure, (axis,) = _figure(1, row_inches=2.2)
    for i in top:
        axis.step(times, probabilities[:, i], where="post", label=labels[i], linewidth=1.4)
    axis.set_ylim(0, 1.02)
    axis.set_ylabel("probability")
    axis.legend(loc="upper left", fontsize=8, ncol=5)
    _shared_time(figure, e)
    return figure


def _trajectories(e: Explanation):
    from seqrec.features.vision.hand_layout import FINGERS, WRIST

    fingertips = {f"{name} tip": finger[-1] for name, finger in zip(FINGER_NAMES, FINGERS, strict=True)}
    points = {"wrist": WRIST, **fingertips}
    hands = [slot for slot in range(e.present.shape[1]) if e.present[:, slot].any()]
    figure, axes = _figure(2 * len(hands), row_inches=1.1)
    for k, slot in enumerate(hands):
        seen = e.present[:, slot]
        side = ("right", "left")[slot]
        for c, coordinate in enumerate("xy"):
            axis = axes[2 * k + c]
            for name, index in points.items():
                values = np.where(seen, e.landmarks[:, slot, index, c], np.nan)
                if len(values) == 1:
                    axis.plot(e.feature_times, values, "o", label=name)
                else:
                    axis.plot(e.feature_times, values, linewidth=1, label=name)
            axis.set_ylabel(f"{side} hand\n{coordinate}", fontsize=8)
            if coordinate == "y":
                axis.invert_yaxis()  # y grows downwards in a picture
    axes[0].legend(loc="upper left", fontsize=7, ncol=6)
    _shared_time(figure, e)
    return figure


def _thumbnail_strip(thumbnails):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, 2.4), dpi=DPI)
    axes = figure.subplots(1, len(thumbnails), squeeze=False)[0]
    figure.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.02, wspace=0.03)
    for axis, (time, picture) in zip(axes, thumbnails, strict=True):
        axis.imshow(picture)
        axis.set_title(f"{time:.2f} s", fontsize=9)
        axis.axis("off")
    return figure


def _image(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{encoded}">'
