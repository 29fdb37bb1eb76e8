"""Modalities turn back into the gymnasium spaces they describe."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.recordings import space_from_modality
from ainimal_zookeeper.sdk.modalities import modality_from_space

F32_MAX = float(np.finfo(np.float32).max)

SPACES = {
    "box with per-element bounds": spaces.Box(
        np.array([-1, -2, 0], np.float32), np.array([1, 2, np.inf], np.float32), dtype=np.float32
    ),
    "unbounded float64 box": spaces.Box(-np.inf, np.inf, shape=(2, 3), dtype=np.float64),
    "int64 box at its limits": spaces.Box(np.iinfo(np.int64).min, np.iinfo(np.int64).max, shape=(2,), dtype=np.int64),
    "float32 box at its limits": spaces.Box(-F32_MAX, F32_MAX, shape=(3,), dtype=np.float32),
    "image": spaces.Box(0, 255, shape=(8, 6, 3), dtype=np.uint8),
    "discrete with start": spaces.Discrete(5, start=-2),
    "multi_discrete with start": spaces.MultiDiscrete([3, 4], start=[1, -1]),
    "multi_binary 2-d": spaces.MultiBinary([2, 3]),
    "dict": spaces.Dict({"pos": spaces.Box(-1, 1, (2,), np.float32), "mode": spaces.Discrete(3)}),
    "tuple": spaces.Tuple([spaces.Discrete(2), spaces.MultiBinary(4)]),
    "text": spaces.Text(12, min_length=2, charset="abc"),
}


@pytest.mark.parametrize("space", SPACES.values(), ids=SPACES.keys())
def test_a_space_rebuilt_from_its_modality_has_the_same_modality(space):
    modality = modality_from_space(space)
    rebuilt = space_from_modality(modality)
    assert type(rebuilt) is type(space)
    assert modality_from_space(rebuilt) == modality


@pytest.mark.parametrize("space", SPACES.values(), ids=SPACES.keys())
def test_a_space_rebuilt_from_its_modality_equals_the_original(space):
    assert space_from_modality(modality_from_space(space)) == space


def test_cartpole_spaces_come_back_equal():
    env = gymnasium.make("CartPole-v1")
    assert space_from_modality(modality_from_space(env.observation_space)) == env.observation_space
    assert space_from_modality(modality_from_space(env.action_space)) == env.action_space
    env.close()


def test_a_box_with_summarised_bounds_gets_the_summaries_as_scalar_bounds():
    space = spaces.Box(np.arange(100), np.arange(100) + 5, (100,), np.int64)
    modality = modality_from_space(space)
    assert (modality["low_min"], modality["high_max"]) == (0, 104)
    rebuilt = space_from_modality(modality)
    assert rebuilt.shape == (100,) and rebuilt.dtype == np.int64
    assert (rebuilt.low == 0).all() and (rebuilt.high == 104).all()


def test_an_unknown_kind_is_invalid_input_listing_the_known_ones():
    with pytest.raises(InvalidInput, match=r"kind 'unknown', which has no gymnasium space: expected one of box, image"):
        space_from_modality({"kind": "unknown", "repr": "Graph(...)"})


def test_a_nested_unknown_kind_names_where_it_is():
    with pytest.raises(InvalidInput, match=r"modality\['a'\]\[1\] has kind 'string_array'"):
        space_from_modality(
            {
                "kind": "dict",
                "spaces": {
                    "a": {
                        "kind": "tuple",
                        "spaces": [{"kind": "discrete", "n": 2}, {"kind": "string_array", "shape": [2]}],
                    }
                },
            }
        )


def test_a_modality_missing_what_its_kind_needs_is_invalid_input():
    with pytest.raises(InvalidInput, match=r"modality \(discrete\) cannot be built: KeyError\('n'\)"):
        space_from_modality({"kind": "discrete"})
    with pytest.raises(InvalidInput, match="expects a modality dict"):
        space_from_modality("box")  # type: ignore[arg-type]
