"""Overrides are checked against the AInimal's modalities and force values of the env's kind."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.sdk.modalities import modality_from_space
from ainimal_zookeeper.worker.overrides import (
    ValueOverride,
    apply_value_override,
    architecture_layer_shapes,
    parse_target,
    validate_override,
)
from ainimal_zookeeper.worker.torch_layers import ActivationPatch

DISCRETE = {"action": modality_from_space(gymnasium.spaces.Discrete(2))}
BOX = {
    "action": modality_from_space(
        gymnasium.spaces.Box(
            low=np.array([-1, 0, -2], np.float32), high=np.array([1, 1, 2], np.float32), dtype=np.float32
        )
    )
}
CARTPOLE_OBS = {"observation": modality_from_space(gymnasium.make("CartPole-v1").observation_space)}
LAYERS = {"policy": [1, 2], "policy.0": [1, 64], "policy.1": None}


def override(target, mode, value, index=None, **modalities):
    return validate_override(target, mode, value, index, override_id="o1", set_by="ada", **modalities)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("outputs/action", ("outputs", "action")),
        ("inputs/observation", ("inputs", "observation")),
        ("activations/policy.0", ("activations", "policy.0")),
    ],
)
def test_targets_split_into_stream_and_name(target, expected):
    assert parse_target(target) == expected


@pytest.mark.parametrize("target", ["action", "outputs/", "weights/policy.0.weight", "/action", 7])
def test_other_targets_are_refused_with_the_accepted_forms(target):
    with pytest.raises(InvalidInput, match="is not one of inputs/<modality>, outputs/<modality>, activations/<layer>"):
        parse_target(target)


def test_a_discrete_action_is_set_to_a_python_int():
    forced = override("outputs/action", "set", 1.0, output_modalities=DISCRETE)
    assert forced == ValueOverride("o1", "outputs/action", "set", 1, None, "ada")
    value = apply_value_override(np.int64(0), forced, DISCRETE["action"])
    assert value == 1 and type(value) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2, r"expects an int in \[0, 2\), got 2"),
        ("left", r"expects an int in \[0, 2\), got 'left'"),
        (0.5, r"expects an int in \[0, 2\), got 0.5"),
    ],
)
def test_a_discrete_action_out_of_range_or_of_the_wrong_type_is_refused(value, message):
    with pytest.raises(InvalidInput, match=r"override of 'outputs/action': " + message):
        override("outputs/action", "set", value, output_modalities=DISCRETE)


def test_arithmetic_and_indexes_need_a_box():
    with pytest.raises(InvalidInput, match=r"mode 'add' needs a numeric box modality, but this one is 'discrete'"):
        override("outputs/action", "add", 1, output_modalities=DISCRETE)
    with pytest.raises(InvalidInput, match=r"an index needs a numeric box modality"):
        override("outputs/action", "set", 1, index=0, output_modalities=DISCRETE)


def test_an_unknown_modality_lists_the_ones_there_are():
    with pytest.raises(InvalidInput, match=r"this AInimal has no output 'steer'; its outputs: action"):
        override("outputs/steer", "set", 1, output_modalities=DISCRETE)
    with pytest.raises(InvalidInput, match=r"has no input 'pixels'; its inputs: observation"):
        override("inputs/pixels", "set", 1, input_modalities=CARTPOLE_OBS)


def test_a_box_action_is_set_whole_as_an_array_of_its_dtype():
    forced = override("outputs/action", "set", [0.5, 0.5, -2], output_modalities=BOX)
    assert forced.value == [0.5, 0.5, -2.0]
    value = apply_value_override(np.zeros(3, np.float32), forced, BOX["action"])
    assert value.dtype == np.float32 and value.tolist() == [0.5, 0.5, -2.0]
    with pytest.raises(InvalidInput, match=r"expects a box of shape \[3\], got shape \[2\]"):
        override("outputs/action", "set", [0.5, 0.5], output_modalities=BOX)


def test_add_on_an_index_of_a_box_is_clipped_into_its_bounds():
    forced = override("outputs/action", "add", 1.5, index=[0, 2], output_modalities=BOX)
    original = np.array([0.25, 0.5, 0.25], dtype=np.float32)
    value = apply_value_override(original, forced, BOX["action"])
    assert value.tolist() == [1.0, 0.5, 1.75] and value.dtype == np.float32
    assert original.tolist() == [0.25, 0.5, 0.25]  # the original is left alone


def test_clamp_and_scale_on_an_observation():
    clamp = override("inputs/observation", "clamp", [-0.1, 0.1], index=2, input_modalities=CARTPOLE_OBS)
    obs = np.array([1.0, -2.0, 0.2, 3.0], dtype=np.float32)
    assert apply_value_override(obs, clamp, CARTPOLE_OBS["observation"]).tolist() == pytest.approx(
        [1.0, -2.0, 0.1, 3.0]
    )
    scale = override("inputs/observation", "scale", [1, 0, 1, 0], input_modalities=CARTPOLE_OBS)
    assert apply_value_override(obs, scale, CARTPOLE_OBS["observation"]).tolist() == pytest.approx([1.0, 0.0, 0.2, 0.0])


def test_setting_part_of_a_box_checks_the_part_against_its_bounds():
    forced = override("outputs/action", "set", 0.75, index=1, output_modalities=BOX)
    value = apply_value_override(np.array([-1.0, 0.0, 2.0], np.float32), forced, BOX["action"])
    assert value.tolist() == [-1.0, 0.75, 2.0]
    with pytest.raises(InvalidInput, match=r"expects values in \[0, 1\], got 3\.0 at index \[1\]"):
        override("outputs/action", "set", 3, index=1, output_modalities=BOX)


@pytest.mark.parametrize(
    ("mode", "value", "index", "message"),
    [
        ("add", 1.0, 3, r"index 3 is outside the last axis of shape \[3\] \(0 to 2\)"),
        ("add", [1.0, 2.0], None, r"expects a number or an array broadcastable to shape \[3\], got shape \[2\]"),
        ("clamp", [1.0], None, r"clamp expects \[min, max\]"),
        ("replace", 1.0, None, r"unknown mode 'replace'"),
    ],
)
def test_box_overrides_that_do_not_fit_are_refused(mode, value, index, message):
    with pytest.raises(InvalidInput, match=r"override of 'outputs/action': " + message):
        override("outputs/action", mode, value, index, output_modalities=BOX)


def test_activation_overrides_are_checked_as_patches():
    forced = override("activations/policy.0", "scale", 0.0, index=[1, 2], layer_shapes=LAYERS)
    assert forced.as_patch() == ActivationPatch("policy.0", "scale", 0.0, [1, 2])
    assert override("activations/policy.1", "set", [[1.0, 2.0]], layer_shapes=LAYERS).value == [[1.0, 2.0]]
    with pytest.raises(InvalidInput, match=r"unknown layer 'value'; known layers: policy, policy\.0, policy\.1"):
        override("activations/value", "set", 1.0, layer_shapes=LAYERS)
    with pytest.raises(InvalidInput, match=r"index 2 is outside the last axis of shape \[1, 2\]"):
        override("activations/policy", "set", 1.0, index=2, layer_shapes=LAYERS)


def test_an_input_override_is_no_patch():
    with pytest.raises(InvalidInput, match="targets inputs, not a layer's activations"):
        ValueOverride("o", "inputs/observation", "set", 1).as_patch()


def test_without_modalities_only_the_form_is_checked():
    assert override("outputs/action", "set", "anything").value == "anything"
    assert override("activations/anything", "add", 1).value == 1.0
    with pytest.raises(InvalidInput, match="unknown mode"):
        override("outputs/action", "swap", 1)
    forced = override("outputs/action", "add", 1, index=0)
    assert apply_value_override(np.array([1.0, 1.0]), forced, None).tolist() == [2.0, 1.0]


def test_layer_shapes_come_from_the_architecture():
    architecture = {"layers": [{"name": "policy", "output_shape": [1, 2]}, {"name": "policy.0", "output_shape": None}]}
    assert architecture_layer_shapes(architecture) == {"policy": [1, 2], "policy.0": None}
    assert architecture_layer_shapes({"layers": []}) == architecture_layer_shapes(None) == {}
