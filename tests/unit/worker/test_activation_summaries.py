"""A sampled frame's activations: the small layers summarised together say what each alone would."""

from __future__ import annotations

import numpy as np
import pytest

from ainimal_zookeeper.worker.telemetry import MAX_LISTED_VALUES, activation_json, activations_json


def test_layers_summarised_together_match_each_summarised_alone_in_order():
    rng = np.random.default_rng(3)
    outputs = {
        "hidden": rng.standard_normal(64).astype(np.float32),
        "image": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "large": rng.standard_normal(MAX_LISTED_VALUES + 1).astype(np.float32),  # statistics only
        "empty": np.zeros(0, np.float32),
        "flags": np.array([True, False, True]),
        "ints": np.arange(5, dtype=np.int64),
        "one": np.array(7.5, np.float64),  # a scalar output
        "names": np.array(["a", "b"]),  # not numeric: shape and values, no statistics
        "logits": rng.standard_normal(2).astype(np.float32),
    }
    together = activations_json(outputs)
    assert list(together) == list(outputs)
    for name, values in outputs.items():
        alone = activation_json(values)
        assert set(together[name]) == set(alone), name
        assert together[name]["shape"] == alone["shape"]
        for key in ("mean", "std", "min", "max"):
            if key in alone:
                assert together[name][key] == pytest.approx(alone[key], rel=1e-12, abs=1e-12), (name, key)
                assert type(together[name][key]) is float
        if "values" in alone:
            assert together[name]["values"] is not None
            np.testing.assert_array_equal(together[name]["values"], alone["values"])
    assert together["large"]["truncated"] is True
    assert together["one"] == {"shape": [], "mean": 7.5, "std": 0.0, "min": 7.5, "max": 7.5, "values": outputs["one"]}
