import pytest

from seqrec.features import InputError
from seqrec.pipelines import PASSTHROUGH, MissingFieldError, Pipeline, Stage


class Double(Stage):
    requires = ("x",)
    provides = ("y",)

    def process(self, sample):
        if sample["x"] < 0:
            raise InputError(sample["id"], "negative")
        return {**sample, "y": 2 * sample["x"]}


class AddOne(Stage):
    requires = ("y",)
    provides = ("z",)

    def process(self, sample):
        return {**sample, "z": sample["y"] + 1}


def test_runs_named_stages_in_order_on_one_item_and_a_batch():
    pipe = Pipeline([("double", Double()), ("add", AddOne())])
    assert pipe({"id": "a", "x": 3})["z"] == 7
    assert [s["z"] for s in pipe.run_batch([{"id": i, "x": i} for i in range(3)])] == [1, 3, 5]
    assert pipe.inputs == {"x"}


def test_a_failed_item_carries_its_error_and_the_rest_go_on():
    out = Pipeline([("double", Double()), ("add", AddOne())]).run_batch(
        [{"id": "bad", "x": -1}, {"id": "ok", "x": 1}]
    )
    assert out[0]["error"] == "negative" and "z" not in out[0]
    assert out[1]["z"] == 3


def test_a_missing_field_names_the_stage_and_the_field():
    with pytest.raises(MissingFieldError, match="'add' needs field 'y'"):
        Pipeline([("add", AddOne())])({"id": "a", "x": 1})


def test_slicing_by_name_and_passthrough():
    pipe = Pipeline([("double", Double()), ("skip", PASSTHROUGH), ("add", AddOne())])
    head = pipe[:"double"]
    assert len(head) == 1 and "z" not in head({"id": "a", "x": 1})
    assert pipe["add"].__class__ is AddOne
    assert pipe({"id": "a", "x": 1})["z"] == 3


def test_stages_are_validated_when_the_pipeline_is_built():
    with pytest.raises(ValueError, match="unique"):
        Pipeline([("a", Double()), ("a", AddOne())])
    with pytest.raises(TypeError, match="not a Stage"):
        Pipeline([("a", lambda s: s)])


def test_stream_yields_every_item_in_order():
    pipe = Pipeline([("double", Double())])
    assert [s["y"] for s in pipe.stream(({"id": i, "x": i} for i in range(5)), batch_size=2)] == [
        0,
        2,
        4,
        6,
        8,
    ]
