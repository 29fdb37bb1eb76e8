"""A telemetry frame's activations read as before although the worker leaves the statistics of
small layers to the control plane: sent whole over the bus, summarised by `with_summaries`."""

from __future__ import annotations

import numpy as np
import pytest

from ainimal_zookeeper import wire
from ainimal_zookeeper.service.activation_summaries import with_summaries
from ainimal_zookeeper.worker.telemetry import MAX_LISTED_VALUES, activation_json


def over_the_bus(streams: dict) -> dict:
    """The streams as the control plane gets them (the bus encodes arrays as nested lists)."""
    return wire.loads(wire.dumps({"streams": streams}))["streams"]


def test_small_layers_are_sent_whole_and_summarised_by_the_control_plane_as_numpy_would():
    rng = np.random.default_rng(3)
    outputs = {
        "hidden": rng.standard_normal(64).astype(np.float32),
        "image": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "flags": np.array([True, False, True]),
        "ints": np.arange(5, dtype=np.int64),
        "one": np.array(7.5, np.float64),  # a scalar output
    }
    sent = {f"activations/{name}": activation_json(values) for name, values in outputs.items()}
    assert all(set(layer) == {"shape", "values"} for layer in sent.values()), "no statistics on the agent's thread"
    received = over_the_bus(sent)
    frame = with_summaries(received)
    for name, values in outputs.items():
        layer = frame[f"activations/{name}"]
        assert layer["shape"] == list(values.shape)
        # The statistics of the values the frame carries (float32 travels as its shortest
        # decimal), so within float32's precision of the worker's own numbers.
        shown = np.asarray(layer["values"], np.float64)
        assert layer["mean"] == pytest.approx(float(shown.mean()), rel=1e-12, abs=1e-15), name
        assert layer["std"] == pytest.approx(float(shown.std()), rel=1e-12, abs=1e-15), name
        assert layer["min"] == float(shown.min()) and layer["max"] == float(shown.max()), name
        original = values.astype(np.float64)
        assert layer["mean"] == pytest.approx(float(original.mean()), rel=1e-6, abs=1e-7), name
        assert layer["std"] == pytest.approx(float(original.std()), rel=1e-6, abs=1e-7), name
        np.testing.assert_allclose(shown, original, rtol=1e-6)
    assert "mean" not in received["activations/hidden"], "the event's own streams are left as they came"


def test_large_layers_come_summarised_by_the_worker_and_are_left_alone():
    values = np.linspace(-1, 1, MAX_LISTED_VALUES + 1, dtype=np.float32)
    sent = activation_json(values)
    assert sent["truncated"] is True and "values" not in sent
    assert sent["mean"] == pytest.approx(0.0, abs=1e-9) and sent["min"] == -1.0 and sent["max"] == 1.0
    streams = over_the_bus({"activations/big": sent})
    assert with_summaries(streams) is streams


def test_what_is_not_an_array_of_numbers_gets_no_statistics():
    streams = over_the_bus(
        {
            "activations/empty": activation_json(np.zeros(0, np.float32)),
            "activations/names": activation_json(np.array(["a", "b"])),
            "activations/state": {"hidden": [1, 2]},  # a model without torch layers shows its `state`
            "reward": 1.0,
            "inputs": {"observation": [0.1, 0.2]},
        }
    )
    assert with_summaries(streams) is streams


def test_nan_or_infinity_reaches_the_control_plane_as_null_and_its_layer_has_null_statistics():
    streams = over_the_bus({"activations/bad": activation_json(np.array([1.0, np.nan, np.inf], np.float32))})
    layer = with_summaries(streams)["activations/bad"]
    assert layer["values"] == [1.0, None, None]
    assert (layer["mean"], layer["std"], layer["min"], layer["max"]) == (None, None, None, None)


def test_a_layer_sent_already_summarised_keeps_its_figures():
    streams = {"activations/old": {"shape": [2], "mean": 5.0, "std": 0.0, "min": 5.0, "max": 5.0, "values": [1, 2]}}
    assert with_summaries(streams) is streams


def test_a_frame_read_by_several_subscribers_is_summarised_once_and_the_memory_stays_bounded(monkeypatch):
    from ainimal_zookeeper.service import activation_summaries

    calls: list[object] = []
    real = activation_summaries.summary
    monkeypatch.setattr(activation_summaries, "summary", lambda values: (calls.append(values), real(values))[1])
    recent = activation_summaries._RecentSummaries(max_values=24)  # eight layers of three values
    monkeypatch.setattr(activation_summaries, "_RECENT", recent)

    frame = over_the_bus({"activations/h": activation_json(np.arange(4, dtype=np.float32))})
    seen = [with_summaries(dict(frame)) for _ in range(5)]  # five subscribers select from one event
    assert len(calls) == 1
    assert all(view["activations/h"]["mean"] == 1.5 for view in seen)

    # Many more frames than it remembers: each is summarised right, and the memory holds 8.
    for index in range(100):
        other = over_the_bus({"activations/h": activation_json(np.full(3, index, np.float32))})
        assert with_summaries(other)["activations/h"]["mean"] == float(index)
        assert len(recent) <= 8 and recent.values_held <= 24
    assert len(calls) == 101
    # The first frame's layer was forgotten, and is summarised afresh when read again.
    assert with_summaries(dict(frame))["activations/h"]["max"] == 3.0
    assert len(calls) == 102


def test_the_memory_is_bounded_by_the_values_it_holds_not_the_layers():
    from ainimal_zookeeper.service import activation_summaries

    recent = activation_summaries._RecentSummaries(max_values=24)
    large = over_the_bus({"activations/h": activation_json(np.ones(100, np.float32))})["activations/h"]
    assert recent.of(large)["mean"] == 1.0
    assert len(recent) == 1 and recent.values_held == 100  # the newest stays, whatever its size
    small = over_the_bus({"activations/h": activation_json(np.zeros(3, np.float32))})["activations/h"]
    recent.of(small)
    assert len(recent) == 1 and recent.values_held == 3  # the large one went as soon as another came
