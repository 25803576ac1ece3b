"""A bundle's network written as an ONNX graph, from its dims and weights (numpy arrays).

The graph is the network ``SequenceModel`` runs, node by node: frame stacking, the projection with
its exact (erf) GELU, each recurrent layer as ONNX's own LSTM / GRU / RNN operator, then the heads.
The recurrent operators take each item's length (``sequence_lens``), as packing does in torch: the
backward direction of an item starts at its own last step, so an item's output does not depend on
the others in its batch. Inputs and outputs:

- ``features`` float32 [batch, frames, n_input] and ``lengths`` int64 [batch] (valid frames);
- one output per head, named as the head: a CTC head's log-probabilities [batch, steps, n_symbols],
  a classifier's [batch, n_labels]; and ``output_lengths`` int64 [batch], valid steps per item.

Written with ``onnx.helper`` rather than traced: tracing sees one batch, without lengths.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

OPSET = 17  # Erf, LSTM with sequence_lens, LogSoftmax on the last axis: all here; runs on old runtimes too
IR_VERSION = 8  # the IR that goes with opset 17
FEATURES_INPUT = "features"
LENGTHS_INPUT = "lengths"
LENGTHS_OUTPUT = "output_lengths"
# Torch stacks the gates of a recurrent layer in one order and ONNX in another: the blocks of
# torch's weights (in units of the hidden size) taken in ONNX's order.
GATE_ORDER = {
    "lstm": (0, 3, 1, 2),  # torch i, f, g, o -> ONNX i, o, f, c
    "gru": (1, 0, 2),  # torch r, z, n -> ONNX z, r, h
    "rnn": (0,),
}
ONNX_OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def build_graph(dims: Mapping, weights: Mapping[str, np.ndarray], name: str = "seqrec"):
    """An ``onnx.ModelProto`` for a model of ``dims`` (``config.json["dims"]``) with ``weights`` (its
    state dict as numpy arrays, torch's names)."""
    import onnx
    from onnx import TensorProto, helper

    encoder = dims["encoder"]
    cell = encoder.get("cell", "lstm")
    hidden, stack, n_input = encoder["n_hidden"], encoder["stack"], encoder["n_input"]
    builder = _GraphBuilder(weights)
    stacked, out_lengths = builder.stack_frames(n_input, stack)
    projected = builder.gelu(builder.linear(stacked, "encoder.projection.0"))
    steps = builder.node("Transpose", [projected], perm=[1, 0, 2])  # [steps, batch, hidden]
    sequence_lens = builder.node("Cast", [out_lengths], to=TensorProto.INT32)
    for layer in range(encoder["n_layers"]):
        steps = builder.recurrent_layer(steps, sequence_lens, cell, layer, hidden)
    encoded = builder.node("Transpose", [steps], perm=[1, 0, 2])  # [batch, steps, 2 * hidden]
    outputs = []
    for head_name, head in dims["heads"].items():
        prefix = f"heads.{head_name}"
        if head["kind"] == "ctc":
            log_probs = builder.node("LogSoftmax", [builder.linear(encoded, f"{prefix}.linear")], axis=-1)
            shape = ["batch", "steps", head["n_outputs"]]
        else:
            pooled = builder.attention_pool(encoded, out_lengths, f"{prefix}.attention")
            log_probs = builder.node("LogSoftmax", [builder.linear(pooled, f"{prefix}.linear")], axis=-1)
            shape = ["batch", head["n_outputs"]]
        builder.nodes.append(helper.make_node("Identity", [log_probs], [head_name]))
        outputs.append(helper.make_tensor_value_info(head_name, TensorProto.FLOAT, shape))
    builder.nodes.append(helper.make_node("Identity", [out_lengths], [LENGTHS_OUTPUT]))
    outputs.append(helper.make_tensor_value_info(LENGTHS_OUTPUT, TensorProto.INT64, ["batch"]))
    inputs = [
        helper.make_tensor_value_info(FEATURES_INPUT, TensorProto.FLOAT, ["batch", "frames", n_input]),
        helper.make_tensor_value_info(LENGTHS_INPUT, TensorProto.INT64, ["batch"]),
    ]
    graph = helper.make_graph(builder.nodes, name, inputs, outputs, initializer=builder.initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="seqrec", ir_version=IR_VERSION
    )
    onnx.checker.check_model(model, full_check=True)
    return model


class _GraphBuilder:
    """Nodes and initialisers, with a fresh name for every intermediate value."""

    def __init__(self, weights: Mapping[str, np.ndarray]):
        self.weights = weights
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, value, stem: str = "const") -> str:
        from onnx import numpy_helper

        name = self._name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attributes) -> str:
        from onnx import helper

        output = self._name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def stack_frames(self, n_input: int, stack: int) -> tuple[str, str]:
        """``stack`` frames per step (the last step padded with zero frames) and the steps per item."""
        frames = self.node("Gather", [self.node("Shape", [FEATURES_INPUT]), self.constant(np.int64(1))])
        stack_const = self.constant(np.int64(stack))
        pad = self.node(
            "Mod", [self.node("Sub", [stack_const, self.node("Mod", [frames, stack_const])]), stack_const]
        )
        zeros = self.constant(np.zeros(4, np.int64))
        pads = self.node(
            "Concat",
            [
                zeros,
                self.node("Unsqueeze", [pad, self.constant(np.array([0], np.int64))]),
                self.constant(np.zeros(1, np.int64)),
            ],
            axis=0,
        )
        padded = self.node("Pad", [FEATURES_INPUT, pads])
        stacked = self.node("Reshape", [padded, self.constant(np.array([0, -1, n_input * stack], np.int64))])
        rounded_up = self.node("Add", [LENGTHS_INPUT, self.constant(np.int64(stack - 1))])
        return stacked, self.node("Div", [rounded_up, stack_const])

    def linear(self, x: str, prefix: str) -> str:
        weight = self.constant(np.ascontiguousarray(self.weights[f"{prefix}.weight"].T, np.float32), "weight")
        bias = self.constant(np.asarray(self.weights[f"{prefix}.bias"], np.float32), "bias")
        return self.node("Add", [self.node("MatMul", [x, weight]), bias])

    def gelu(self, x: str) -> str:
        """torch's default GELU: x * (1 + erf(x / sqrt 2)) / 2."""
        erf = self.node("Erf", [self.node("Mul", [x, self.constant(np.float32(1 / np.sqrt(2)))])])
        half_x = self.node("Mul", [x, self.constant(np.float32(0.5))])
        return self.node("Mul", [half_x, self.node("Add", [erf, self.constant(np.float32(1.0))])])

    def recurrent_layer(self, steps: str, sequence_lens: str, cell: str, layer: int, hidden: int) -> str:
        """One bidirectional layer: [steps, batch, n_in] -> [steps, batch, 2 * hidden]."""
        w, r, b = ([], [], [])
        for suffix in ("", "_reverse"):
            key = f"encoder.lstm.{{}}_l{layer}{suffix}"
            w.append(_onnx_gates(self.weights[key.format("weight_ih")], cell, hidden))
            r.append(_onnx_gates(self.weights[key.format("weight_hh")], cell, hidden))
            b.append(
                np.concatenate(
                    [
                        _onnx_gates(self.weights[key.format("bias_ih")], cell, hidden),
                        _onnx_gates(self.weights[key.format("bias_hh")], cell, hidden),
                    ]
                )
            )
        inputs = [steps, self.constant(np.stack(w)), self.constant(np.stack(r)), self.constant(np.stack(b))]
        attributes = {"hidden_size": hidden, "direction": "bidirectional"}
        if cell == "gru":
            attributes["linear_before_reset"] = 1  # torch applies the reset to W_hn h + b_hn
        output = self.node(
            ONNX_OPS[cell], [*inputs, sequence_lens], **attributes
        )  # [steps, 2, batch, hidden]
        by_step = self.node("Transpose", [output], perm=[0, 2, 1, 3])
        return self.node("Reshape", [by_step, self.constant(np.array([0, 0, 2 * hidden], np.int64))])

    def attention_pool(self, encoded: str, lengths: str, prefix: str) -> str:
        """The classifier's pooling: a softmax over the valid steps weights their average."""
        scores = self.node("Squeeze", [self.linear(encoded, prefix), self.constant(np.array([2], np.int64))])
        n_steps = self.node("Gather", [self.node("Shape", [encoded]), self.constant(np.int64(1))])
        step_index = self.node("Range", [self.constant(np.int64(0)), n_steps, self.constant(np.int64(1))])
        valid = self.node(
            "Less",
            [
                self.node("Unsqueeze", [step_index, self.constant(np.array([0], np.int64))]),
                self.node("Unsqueeze", [lengths, self.constant(np.array([1], np.int64))]),
            ],
        )
        masked = self.node("Where", [valid, scores, self.constant(np.float32(-np.inf))])
        weights = self.node("Softmax", [masked], axis=1)
        row = self.node("Unsqueeze", [weights, self.constant(np.array([1], np.int64))])  # [batch, 1, steps]
        pooled = self.node("MatMul", [row, encoded])  # [batch, 1, 2 * hidden]
        return self.node("Squeeze", [pooled, self.constant(np.array([1], np.int64))])


def _onnx_gates(values: np.ndarray, cell: str, hidden: int) -> np.ndarray:
    blocks = [values[k * hidden : (k + 1) * hidden] for k in GATE_ORDER[cell]]
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
