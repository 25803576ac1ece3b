"""The encoder's recurrence recomputed step by step in numpy, to read its gates from trained weights.

Torch's fused ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` return only the hidden states; this module
replays the same equations with the same weights and keeps every gate along the way. It follows
torch exactly: the gate order in the stacked weights (LSTM: i, f, g, o; GRU: r, z, n), the GRU's
reset applied to ``W_hn h + b_hn``, each layer reading the concatenated directions of the one
below, and packing's handling of lengths (the backward direction of each sequence starts at its
own last frame). Inference only: the dropout between layers is not applied.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

DIRECTIONS = ("forward", "backward")
# What ``recurrent_steps`` returns per layer and direction, by cell.
STEP_NAMES = {
    "lstm": ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell", "hidden"),
    "gru": ("reset_gate", "update_gate", "candidate", "hidden"),
    "rnn": ("hidden",),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warning for large negative x


def _lstm_step(x_part, h, c, w_hh, b_hh):
    i, f, g, o = np.split(x_part + h @ w_hh.T + b_hh, 4, axis=-1)
    i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c, {"input_gate": i, "forget_gate": f, "cell_candidate": g, "output_gate": o, "cell": c}


def _gru_step(x_part, h, c, w_hh, b_hh):
    x_r, x_z, x_n = np.split(x_part, 3, axis=-1)
    h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    h = (1 - z) * n + z * h
    return h, c, {"reset_gate": r, "update_gate": z, "candidate": n}


def _rnn_step(x_part, h, c, w_hh, b_hh):
    return np.tanh(x_part + h @ w_hh.T + b_hh), c, {}


_STEPS = {"lstm": _lstm_step, "gru": _gru_step, "rnn": _rnn_step}


def _reverse_within_lengths(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """[B, T, ...] with each row's first ``lengths[b]`` steps reversed in place; padding stays put."""
    n_steps = values.shape[1]
    steps = np.arange(n_steps)[None, :]
    source = np.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return np.take_along_axis(values, source.reshape(*source.shape, *[1] * (values.ndim - 2)), axis=1)


def _run_direction(step, inputs, lengths, w_ih, w_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """One direction of one layer, forward in time, over [B, T, D] ``inputs``; every output is
    zero past a sequence's length and a finished sequence's state stops changing."""
    batch, n_steps, _ = inputs.shape
    n_hidden = w_hh.shape[1]
    x_parts = inputs @ w_ih.T + b_ih  # the input's share of every gate, for all steps at once
    h = np.zeros((batch, n_hidden))
    c = np.zeros((batch, n_hidden))
    trace: dict[str, list[np.ndarray]] = {}
    for t in range(n_steps):
        live = (t < lengths)[:, None]
        new_h, new_c, gates = step(x_parts[:, t], h, c, w_hh, b_hh)
        h, c = np.where(live, new_h, h), np.where(live, new_c, c)
        for name, value in {**gates, "hidden": h}.items():
            trace.setdefault(name, []).append(np.where(live, value, 0.0))
    return {name: np.stack(values, axis=1) for name, values in trace.items()}


def recurrent_steps(
    weights: Mapping[str, np.ndarray],
    cell: str,
    inputs: np.ndarray,
    lengths: np.ndarray | None = None,
) -> list[dict[str, dict[str, np.ndarray]]]:
    """Recompute a (bidirectional, multi-layer) recurrence step by step, keeping its gates.

    Parameters
    ----------
    weights : the recurrent module's ``state_dict()`` as arrays (``weight_ih_l0``, ``bias_hh_l1_reverse``…)
    cell : "lstm", "gru" or "rnn" (tanh)
    inputs : [T, D] one sequence, or [B, T, D] a padded batch
    lengths : [B] valid steps per sequence of a batch; all T when omitted

    Returns
    -------
    One dict per layer, bottom first: {direction: {name: array}}, directions "forward" and (when
    the weights have ``_reverse`` entries) "backward", names ``STEP_NAMES[cell]``, each array
    [T, H] or [B, T, H] like ``inputs``, zero past a sequence's length. The last layer's
    "hidden" of both directions, concatenated, is what the torch module outputs.
    """
    if cell not in _STEPS:
        raise ValueError(f"cell must be one of {sorted(_STEPS)}, not {cell!r}")
    weights = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    single = np.ndim(inputs) == 2
    layer_input = np.asarray(inputs, dtype=np.float64)[None] if single else np.asarray(inputs, np.float64)
    n_steps = layer_input.shape[1]
    lengths = np.full(len(layer_input), n_steps) if lengths is None else np.asarray(lengths, dtype=np.int64)
    if lengths.shape != (len(layer_input),) or lengths.min() < 1 or lengths.max() > n_steps:
        raise ValueError(f"lengths must be {len(layer_input)} values in [1, {n_steps}], not {lengths}")
    directions = DIRECTIONS if "weight_ih_l0_reverse" in weights else DIRECTIONS[:1]
    layers = []
    for layer in range(sum(name.startswith("weight_ih_l") for name in weights) // len(directions)):
        traces = {}
        for direction in directions:
            suffix = f"l{layer}" + ("_reverse" if direction == "backward" else "")
            w_ih, w_hh = weights[f"weight_ih_{suffix}"], weights[f"weight_hh_{suffix}"]
            zeros = np.zeros(len(w_hh))
            b_ih, b_hh = weights.get(f"bias_ih_{suffix}", zeros), weights.get(f"bias_hh_{suffix}", zeros)
            if direction == "forward":
                traces[direction] = _run_direction(_STEPS[cell], layer_input, lengths, w_ih, w_hh, b_ih, b_hh)
            else:
                reversed_input = _reverse_within_lengths(layer_input, lengths)
                trace = _run_direction(_STEPS[cell], reversed_input, lengths, w_ih, w_hh, b_ih, b_hh)
                traces[direction] = {k: _reverse_within_lengths(v, lengths) for k, v in trace.items()}
        layers.append(traces)
        layer_input = np.concatenate([traces[d]["hidden"] for d in directions], axis=-1)
    if single:
        return [{d: {k: v[0] for k, v in trace.items()} for d, trace in layer.items()} for layer in layers]
    return layers
