import torch

from seqrec.models import BiLSTMEncoder, EncoderDims, HeadDims, ModelDims, SequenceModel


def _model(stack=3):
    torch.manual_seed(0)
    dims = ModelDims(
        EncoderDims(n_input=5, n_hidden=8, n_layers=2, stack=stack, dropout=0.0), {"ctc": HeadDims("ctc", 4)}
    )
    return SequenceModel(dims).eval()


def test_padding_never_changes_an_items_output():
    model = _model()
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
