"""Spaces and specs become JSON modalities; client values are coerced back or refused clearly."""

import json
import os
import re
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from dm_env import specs
from gymnasium import spaces

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.sdk.modalities import (
    coerce_value,
    modality_from_dm_spec,
    modality_from_space,
    to_json,
)

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture(scope="module")
def cartpole():
    env = gymnasium.make("CartPole-v1")
    yield env
    env.close()


def box(low, high, shape=None):
    """A float32 Box; array bounds are cast first so gymnasium does not warn about precision."""
    if shape is not None:
        return spaces.Box(low, high, shape=shape, dtype=np.float32)
    return spaces.Box(np.asarray(low, np.float32), np.asarray(high, np.float32), dtype=np.float32)


# --- describing gymnasium spaces --------------------------------------------------------------


def test_cartpole_observation_maps_to_box_with_infinite_bounds_as_none(cartpole):
    assert modality_from_space(cartpole.observation_space) == {
        "kind": "box",
        "shape": [4],
        "dtype": "float32",
        "low": [-4.8, None, -0.41887903, None],
        "high": [4.8, None, 0.41887903, None],
    }


def test_cartpole_action_maps_to_discrete_modality_with_n(cartpole):
    assert modality_from_space(cartpole.action_space) == {"kind": "discrete", "n": 2, "start": 0}


def test_discrete_space_maps_to_discrete_modality_with_n_and_start():
    assert modality_from_space(spaces.Discrete(5, start=-2)) == {
        "kind": "discrete",
        "n": 5,
        "start": -2,
    }


@pytest.mark.parametrize("shape", [(84, 84, 3), (64, 64, 1), (32, 32, 4), (28, 28)])
def test_uint8_box_with_image_shape_maps_to_image_modality(shape):
    space = spaces.Box(0, 255, shape=shape, dtype=np.uint8)
    assert modality_from_space(space) == {"kind": "image", "shape": list(shape), "dtype": "uint8"}


def test_uint8_box_with_two_channels_stays_a_box():
    space = spaces.Box(0, 255, shape=(4, 4, 2), dtype=np.uint8)
    assert modality_from_space(space) == {
        "kind": "box",
        "shape": [4, 4, 2],
        "dtype": "uint8",
        "low": 0,
        "high": 255,
    }


def test_float_box_with_image_shape_stays_a_box_with_scalar_uniform_bounds():
    space = spaces.Box(0.0, 1.0, shape=(8, 8, 3), dtype=np.float32)
    assert modality_from_space(space) == {
        "kind": "box",
        "shape": [8, 8, 3],
        "dtype": "float32",
        "low": 0.0,
        "high": 1.0,
    }


def test_box_bounds_keep_their_nesting_for_multi_dimensional_boxes():
    space = box([[0, 1], [2, 3]], [[1, 2], [np.inf, 4]])
    assert modality_from_space(space) == {
        "kind": "box",
        "shape": [2, 2],
        "dtype": "float32",
        "low": [[0.0, 1.0], [2.0, 3.0]],
        "high": [[1.0, 2.0], [None, 4.0]],
    }


def test_box_with_64_varying_bounds_still_lists_them():
    modality = modality_from_space(box(np.arange(64), np.arange(64) + 1))
    assert modality["low"] == [float(i) for i in range(64)]
    assert modality["high"] == [float(i + 1) for i in range(64)]


def test_box_with_more_than_64_varying_bounds_is_summarised_as_low_min_and_high_max():
    space = box(np.arange(65) - 10, np.append(np.arange(64), np.inf))
    assert modality_from_space(space) == {
        "kind": "box",
        "shape": [65],
        "dtype": "float32",
        "low_min": -10.0,
        "high_max": None,
    }


def test_multi_discrete_space_maps_to_nvec_and_start():
    space = spaces.MultiDiscrete([3, 4], start=[1, 0])
    assert modality_from_space(space) == {"kind": "multi_discrete", "nvec": [3, 4], "start": [1, 0]}


@pytest.mark.parametrize(("n", "expected"), [(5, 5), ([2, 3], [2, 3])])
def test_multi_binary_space_maps_to_its_n(n, expected):
    assert modality_from_space(spaces.MultiBinary(n)) == {"kind": "multi_binary", "n": expected}


def test_dict_and_tuple_spaces_map_to_nested_modalities():
    more = spaces.Tuple([spaces.MultiBinary(2), spaces.Text(4)])
    space = spaces.Dict({"pos": spaces.Discrete(3), "more": more})
    assert modality_from_space(space) == {
        "kind": "dict",
        "spaces": {
            "more": {
                "kind": "tuple",
                "spaces": [
                    {"kind": "multi_binary", "n": 2},
                    {
                        "kind": "text",
                        "min_length": 1,
                        "max_length": 4,
                        "charset": spaces.Text(4).characters,
                    },
                ],
            },
            "pos": {"kind": "discrete", "n": 3, "start": 0},
        },
    }


def test_text_space_maps_to_text_modality_with_lengths_and_charset():
    space = spaces.Text(max_length=8, min_length=2, charset="abc")
    assert modality_from_space(space) == {
        "kind": "text",
        "min_length": 2,
        "max_length": 8,
        "charset": "abc",
    }


def test_space_without_a_modality_maps_to_unknown_with_its_repr():
    space = spaces.Sequence(spaces.Discrete(2))
    assert modality_from_space(space) == {"kind": "unknown", "repr": str(space)}


def test_modalities_encode_as_strict_json(cartpole):
    nested = spaces.Tuple([cartpole.observation_space, box(np.arange(65), np.arange(65) + 1)])
    text = json.dumps(modality_from_space(nested), allow_nan=False)
    assert json.loads(text)["spaces"][0]["low"][1] is None


# --- describing dm_env specs ------------------------------------------------------------------


def test_dm_bounded_array_maps_to_box_with_broadcast_bounds():
    spec = specs.BoundedArray((2,), np.float32, minimum=-1.0, maximum=[1.0, 2.5])
    assert modality_from_dm_spec(spec) == {
        "kind": "box",
        "shape": [2],
        "dtype": "float32",
        "low": -1.0,
        "high": [1.0, 2.5],
    }


def test_dm_array_maps_to_box_without_bounds():
    spec = specs.Array((3,), np.float64)
    assert modality_from_dm_spec(spec) == {
        "kind": "box",
        "shape": [3],
        "dtype": "float64",
        "low": None,
        "high": None,
    }


def test_dm_discrete_array_maps_to_discrete_modality():
    assert modality_from_dm_spec(specs.DiscreteArray(4)) == {"kind": "discrete", "n": 4, "start": 0}


def test_dm_uint8_image_array_maps_to_image_modality():
    spec = specs.BoundedArray((16, 16, 3), np.uint8, 0, 255)
    assert modality_from_dm_spec(spec) == {"kind": "image", "shape": [16, 16, 3], "dtype": "uint8"}


def test_dm_string_arrays_map_to_text_when_scalar_and_string_array_otherwise():
    assert modality_from_dm_spec(specs.StringArray(())) == {
        "kind": "text",
        "min_length": 0,
        "max_length": None,
        "charset": None,
    }
    assert modality_from_dm_spec(specs.StringArray((2,))) == {"kind": "string_array", "shape": [2]}


def test_dm_nested_specs_map_to_dict_and_tuple_modalities():
    Pair = namedtuple("Pair", ["a", "b"])
    nested = {
        "list": [specs.DiscreteArray(2)],
        "pair": Pair(specs.DiscreteArray(3), specs.DiscreteArray(4)),
    }
    assert modality_from_dm_spec(nested) == {
        "kind": "dict",
        "spaces": {
            "list": {"kind": "tuple", "spaces": [{"kind": "discrete", "n": 2, "start": 0}]},
            "pair": {
                "kind": "dict",
                "spaces": {
                    "a": {"kind": "discrete", "n": 3, "start": 0},
                    "b": {"kind": "discrete", "n": 4, "start": 0},
                },
            },
        },
    }


def test_module_imports_and_describes_spaces_without_dm_env():
    script = (
        "import sys; sys.modules['dm_env'] = None\n"  # makes `import dm_env` fail
        "from gymnasium.spaces import Discrete\n"
        "from ainimal_zookeeper.sdk.modalities import modality_from_space\n"
        "print(modality_from_space(Discrete(2))['n'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "2"), done.stderr


# --- coercing client values -------------------------------------------------------------------


def test_coerce_box_gives_an_array_of_the_boxes_dtype_and_shape(cartpole):
    modality = modality_from_space(cartpole.observation_space)
    value = coerce_value(modality, [4.8, 1e9, 0, -0.41887903])
    assert value.dtype == np.float32 and value.shape == (4,)
    assert cartpole.observation_space.contains(value)


def test_coerce_box_with_wrong_shape_names_expected_and_actual_shape(cartpole):
    modality = modality_from_space(cartpole.observation_space)
    with pytest.raises(InvalidInput, match=re.escape("expects a box of shape [4], got shape [3]")):
        coerce_value(modality, [0.0, 0.0, 0.0])


def test_coerce_box_outside_its_bounds_names_the_bounds_and_index(cartpole):
    modality = modality_from_space(cartpole.observation_space)
    with pytest.raises(
        InvalidInput,
        match=re.escape("expects values in [-0.41887903, 0.41887903], got 1.0 at index [2]"),
    ):
        coerce_value(modality, [0.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "expects a box of numbers, got 'abc'"),
        ([None, 1], "expects a box of numbers, got [None, 1]"),
        ([[1, 2], [3]], "expects a box of shape [2], got a ragged list"),
        ([float("nan"), 0.0], "expects values in [-1, 1], got nan at index [0]"),
    ],
)
def test_coerce_box_refuses_values_that_are_not_numbers_in_range(value, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        coerce_value(modality_from_space(box(-1, 1, shape=(2,))), value)


def test_coerce_int_box_refuses_fractions():
    modality = modality_from_space(spaces.Box(0, 10, shape=(2,), dtype=np.int64))
    assert coerce_value(modality, [1, 2.0]).tolist() == [1, 2]
    with pytest.raises(InvalidInput, match=re.escape("expects integers, got 2.5 at index [1]")):
        coerce_value(modality, [1, 2.5])


def test_coerce_image_gives_uint8_and_refuses_values_over_255():
    modality = modality_from_space(spaces.Box(0, 255, shape=(2, 2), dtype=np.uint8))
    assert coerce_value(modality, [[0, 255], [1, 2]]).dtype == np.uint8
    message = "expects values in [0, 255], got 300 at index [1, 0]"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        coerce_value(modality, [[0, 255], [300, 2]])


def test_coerce_discrete_gives_an_int_counting_from_start():
    modality = modality_from_space(spaces.Discrete(3, start=1))
    assert [coerce_value(modality, v) for v in (1, 3, 2.0)] == [1, 3, 2]
    assert type(coerce_value(modality, np.int64(2))) is int


@pytest.mark.parametrize("value", [5, 2, -1, True, "1", 1.5, None])
def test_coerce_discrete_outside_its_range_names_range_and_value(value):
    with pytest.raises(InvalidInput, match=re.escape(f"expects an int in [0, 2), got {value!r}")):
        coerce_value({"kind": "discrete", "n": 2, "start": 0}, value)


def test_coerce_multi_discrete_checks_each_element_against_its_own_range():
    modality = modality_from_space(spaces.MultiDiscrete([3, 4], start=[1, 0]))
    assert coerce_value(modality, [3, 0]).tolist() == [3, 0]
    message = "expects values in [1, 3], got 0 at index [0]"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        coerce_value(modality, [0, 0])


def test_coerce_multi_binary_accepts_bools_and_refuses_twos():
    modality = modality_from_space(spaces.MultiBinary([2, 2]))
    assert coerce_value(modality, [[True, False], [0, 1]]).tolist() == [[1, 0], [0, 1]]
    message = "expects values in [0, 1], got 2 at index [1, 1]"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        coerce_value(modality, [[0, 0], [0, 2]])


def test_coerce_dict_recurses_and_names_the_failing_key():
    space = spaces.Dict({"a": spaces.Discrete(2), "b": box(0, 1, shape=(1,))})
    modality = modality_from_space(space)
    assert coerce_value(modality, {"a": 1, "b": [0.5]})["a"] == 1
    with pytest.raises(InvalidInput, match=re.escape("at ['a']: expects an int in [0, 2), got 7")):
        coerce_value(modality, {"a": 7, "b": [0.5]})
    message = "expects an object with keys [a, b], got keys [a]"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        coerce_value(modality, {"a": 1})


def test_coerce_tuple_gives_a_tuple_and_refuses_the_wrong_length():
    modality = modality_from_space(spaces.Tuple([spaces.Discrete(2), spaces.Text(3)]))
    assert coerce_value(modality, [1, "ab"]) == (1, "ab")
    with pytest.raises(InvalidInput, match=re.escape("expects a list of 2 values, got [1]")):
        coerce_value(modality, [1])
    with pytest.raises(
        InvalidInput,
        match=re.escape("at [1]: expects a string of 1 to 3 characters, got 5 characters"),
    ):
        coerce_value(modality, [1, "abcde"])


def test_coerce_text_refuses_characters_outside_its_charset():
    with pytest.raises(InvalidInput, match=re.escape("expects characters from 'abc', got 'xz'")):
        coerce_value(modality_from_space(spaces.Text(5, charset="abc")), "axbz")


def test_coerce_passes_kinds_it_cannot_check_through_unchanged():
    value = {"anything": [1, "two"]}
    assert coerce_value({"kind": "unknown", "repr": "Graph(...)"}, value) is value
    assert coerce_value({"kind": "my_custom_kind"}, value) is value


@pytest.mark.parametrize(
    "space",
    [
        spaces.Box(-2.0, 3.0, shape=(3, 2), dtype=np.float32),
        spaces.Box(0, 255, shape=(4, 4, 3), dtype=np.uint8),
        spaces.Discrete(4, start=-1),
        spaces.MultiDiscrete([[2, 3], [4, 5]]),
        spaces.MultiBinary(6),
        spaces.Text(6),
        spaces.Dict({"x": spaces.Discrete(2), "y": spaces.Tuple([spaces.Box(0, 1)])}),
    ],
)
def test_samples_survive_the_round_trip_through_json(space):
    space.seed(0)
    modality = modality_from_space(space)
    for _ in range(5):
        sample = space.sample()
        assert space.contains(coerce_value(modality, json.loads(json.dumps(to_json(sample)))))


def test_dm_bounded_array_values_survive_the_round_trip_through_json():
    spec = specs.BoundedArray((2, 2), np.float32, minimum=-1.0, maximum=1.0)
    value = coerce_value(modality_from_dm_spec(spec), to_json(np.full((2, 2), 0.5, np.float32)))
    spec.validate(value)  # raises if dtype, shape or bounds are wrong
    assert value.tolist() == [[0.5, 0.5], [0.5, 0.5]]


# --- to_json ----------------------------------------------------------------------------------


def test_to_json_turns_numpy_values_in_nested_containers_into_plain_python():
    value = {
        "obs": np.arange(3),
        "reward": np.float32(0.5),
        "done": np.bool_(True),
        7: (np.int64(2), "s"),
    }
    result = to_json(value)
    assert result == {"obs": [0, 1, 2], "reward": 0.5, "done": True, "7": [2, "s"]}
    assert [type(result[k]) for k in ("reward", "done")] == [float, bool]
    assert type(result["7"][0]) is int


def test_to_json_turns_nan_and_infinities_into_none_so_browsers_can_parse_it():
    value = {
        "a": np.array([1.5, np.nan, -np.inf], dtype=np.float32),
        "b": float("inf"),
        "c": np.float64("nan"),
    }
    result = to_json(value)
    assert result == {"a": [1.5, None, None], "b": None, "c": None}
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_to_json_converts_object_arrays_element_by_element():
    assert to_json(np.array([np.int64(1), None, np.array([2.0])], dtype=object)) == [1, None, [2.0]]
