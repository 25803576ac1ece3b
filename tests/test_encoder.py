import pytest
import torch

from seqrec.models import BiLSTMEncoder, EncoderDims, HeadDims, ModelDims, SequenceModel


def _model(stack=3, cell="lstm"):
    torch.manual_seed(0)
    dims = ModelDims(
        EncoderDims(n_input=5, n_hidden=8, n_layers=2, stack=stack, dropout=0.0, cell=cell),
        {"ctc": HeadDims("ctc", 4)},
    )
    return SequenceModel(dims).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_padding_never_changes_an_items_output(cell):
    model = _model(cell=cell)
    lengths = [7, 13, 4]
    items = [torch.randn(n, 5) for n in lengths]
    batch = torch.zeros(3, max(lengths), 5)
    for row, item in enumerate(items):
        batch[row, : len(item)] = item
    with torch.inference_mode():
        batched, out_lengths = model(batch, torch.tensor(lengths))
        for row, item in enumerate(items):
            alone, alone_length = model(item[None], torch.tensor([len(item)]))
            n = int(out_lengths[row])
            assert n == int(alone_length[0])
            torch.testing.assert_close(batched["ctc"][row, :n], alone["ctc"][0, :n], atol=1e-5, rtol=1e-5)


def test_frame_stacking_divides_steps_rounding_up():
    encoder = BiLSTMEncoder(EncoderDims(n_input=5, n_hidden=8, n_layers=1, stack=3, dropout=0.0))
    encoded, out_lengths = encoder(torch.randn(2, 10, 5), torch.tensor([10, 6]))
    assert encoded.shape == (2, 4, 16)
    assert out_lengths.tolist() == [4, 2]


def test_ctc_head_gives_normalised_log_probabilities():
    outputs, _ = _model()(torch.randn(1, 9, 5), torch.tensor([9]))
    torch.testing.assert_close(outputs["ctc"].exp().sum(-1), torch.ones(1, 3))


def test_dims_round_trip_through_a_dict():
    dims = _model().dims
    assert ModelDims.from_dict(dims.to_dict()) == dims


def test_dims_saved_before_the_cell_existed_load_as_an_lstm():
    old = _model().dims.to_dict()
    del old["encoder"]["cell"]
    dims = ModelDims.from_dict(old)
    assert dims.encoder.cell == "lstm"
    assert isinstance(SequenceModel(dims).encoder.lstm, torch.nn.LSTM)


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_the_cell_picks_the_recurrent_module_and_round_trips(cell):
    model = _model(cell=cell)
    assert type(model.encoder.lstm) is {"gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    assert model.encoder.lstm.bidirectional and model.encoder.lstm.num_layers == 2
    assert ModelDims.from_dict(model.dims.to_dict()) == model.dims


def test_the_plain_rnn_cell_is_tanh():
    assert _model(cell="rnn").encoder.lstm.nonlinearity == "tanh"


def test_an_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell must be one of"):
        BiLSTMEncoder(EncoderDims(n_input=5, cell="transformer"))
