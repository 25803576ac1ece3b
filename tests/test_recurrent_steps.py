"""The numpy replay of the recurrence gives torch's own outputs, at every step, layer and direction."""

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqrec.models import load_bundle, load_model
from seqrec.models.encoder import RECURRENT_CELLS
from seqrec.models.recurrent_steps import STEP_NAMES, recurrent_steps
from seqrec.pipelines.speech.stages import speech_pipeline

DATA = Path(__file__).parent / "data"
TOLERANCE = 1e-5
LENGTHS = [7, 11, 4]


def _numpy_weights(module: nn.Module) -> dict[str, np.ndarray]:
    return {name: tensor.detach().numpy() for name, tensor in module.state_dict().items()}


def _torch_run(module: nn.Module, inputs: torch.Tensor, lengths: list[int]):
    """Torch's packed run: ([B, T, 2H] padded last-layer outputs, h_n [layers * 2, B, H], c_n or None)."""
    packed = pack_padded_sequence(inputs, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    with torch.inference_mode():
        outputs, final = module(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=inputs.shape[1])
    h_n, c_n = final if isinstance(final, tuple) else (final, None)
    return outputs.numpy(), h_n.numpy(), None if c_n is None else c_n.numpy()


def _largest_difference(module: nn.Module, cell: str, inputs: torch.Tensor, lengths: list[int]) -> float:
    """Compare every output torch gives: the last layer at every step, and each layer's final
    states per direction (the forward's at the sequence's last frame, the backward's at its first)."""
    outputs, h_n, c_n = _torch_run(module, inputs, lengths)
    layers = recurrent_steps(_numpy_weights(module), cell, inputs.numpy(), np.array(lengths))
    assert len(layers) == module.num_layers
    top = np.concatenate([layers[-1]["forward"]["hidden"], layers[-1]["backward"]["hidden"]], axis=-1)
    differences = [np.abs(top - outputs).max()]
    for layer, traces in enumerate(layers):
        for d, direction in enumerate(("forward", "backward")):
            trace = traces[direction]
            assert set(trace) == set(STEP_NAMES[cell])
            assert all(v.shape == (len(lengths), inputs.shape[1], module.hidden_size) for v in trace.values())
            final_step = [n - 1 if direction == "forward" else 0 for n in lengths]
            rows = np.arange(len(lengths))
            differences.append(np.abs(trace["hidden"][rows, final_step] - h_n[2 * layer + d]).max())
            if c_n is not None:
                differences.append(np.abs(trace["cell"][rows, final_step] - c_n[2 * layer + d]).max())
    return float(max(differences))


@pytest.mark.parametrize("cell", sorted(RECURRENT_CELLS))
def test_the_replay_matches_torch_on_a_padded_batch(cell):
    torch.manual_seed(3)
    module = RECURRENT_CELLS[cell](6, 5, num_layers=2, batch_first=True, bidirectional=True).eval()
    inputs = torch.randn(len(LENGTHS), max(LENGTHS), 6)
    for row, n in enumerate(LENGTHS):
        inputs[row, n:] = 100.0  # padding that would show at once if it ever leaked in
    assert _largest_difference(module, cell, inputs, LENGTHS) < TOLERANCE


def test_padding_gives_zeros_and_one_sequence_gives_t_by_h():
    torch.manual_seed(0)
    module = nn.GRU(3, 4, num_layers=1, batch_first=True, bidirectional=True)
    weights = _numpy_weights(module)
    batch = np.random.default_rng(0).normal(size=(2, 6, 3))
    [layer] = recurrent_steps(weights, "gru", batch, np.array([6, 2]))
    assert not layer["backward"]["reset_gate"][1, 2:].any()
    [alone] = recurrent_steps(weights, "gru", batch[1, :2])
    assert alone["backward"]["hidden"].shape == (2, 4)
    np.testing.assert_allclose(alone["backward"]["hidden"], layer["backward"]["hidden"][1, :2], atol=1e-12)


def test_lstm_gates_are_fractions_and_the_cell_follows_them():
    torch.manual_seed(1)
    module = nn.LSTM(3, 4, batch_first=True)
    [layer] = recurrent_steps(_numpy_weights(module), "lstm", np.random.default_rng(1).normal(size=(5, 3)))
    steps = layer["forward"]
    assert "backward" not in layer
    for gate in ("input_gate", "forget_gate", "output_gate"):
        assert ((steps[gate] > 0) & (steps[gate] < 1)).all()
    kept = steps["forget_gate"][1] * steps["cell"][0]
    added = steps["input_gate"][1] * steps["cell_candidate"][1]
    np.testing.assert_allclose(steps["cell"][1], kept + added)


def test_the_replay_matches_a_shipped_bundles_encoder_on_a_real_clip():
    bundle = load_bundle("digits-commands")
    encoder = bundle.model.encoder
    sample = speech_pipeline(load_model("digits-commands"))[:"features"](
        {"path": str(DATA / "3_jackson_0.wav")}
    )
    features = torch.as_tensor(sample["features"], dtype=torch.float32)[None]
    recurrence_inputs = []
    hook = encoder.lstm.register_forward_hook(lambda module, args, output: recurrence_inputs.append(args[0]))
    try:
        with torch.inference_mode():
            encoded, out_lengths = encoder(features, torch.tensor([features.shape[1]]))
    finally:
        hook.remove()
    steps, _ = pad_packed_sequence(recurrence_inputs[0], batch_first=True)
    layers = recurrent_steps(_numpy_weights(encoder.lstm), encoder.dims.cell, steps[0].numpy())
    assert len(layers) == encoder.dims.n_layers and len(layers[-1]["forward"]["hidden"]) == out_lengths[0]
    top = np.concatenate([layers[-1]["forward"]["hidden"], layers[-1]["backward"]["hidden"]], axis=-1)
    assert np.abs(top - encoded[0].numpy()).max() < TOLERANCE
    # and the inner layers: torch's final states of a packed single-sequence run
    _, h_n, c_n = _torch_run(encoder.lstm, steps, [steps.shape[1]])
    for layer, traces in enumerate(layers):
        for d, direction in enumerate(("forward", "backward")):
            final = -1 if direction == "forward" else 0
            assert np.abs(traces[direction]["hidden"][final] - h_n[2 * layer + d][0]).max() < TOLERANCE
            assert np.abs(traces[direction]["cell"][final] - c_n[2 * layer + d][0]).max() < TOLERANCE
