"""Activation patches are checked against the layer's output shape without torch."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.torch_layers import ActivationPatch, validate_patch

LAYERS = ["policy", "policy.0", "policy.4"]


def test_validate_patch_normalises_value_and_index():
    patch = validate_patch(ActivationPatch("policy.0", "set", [1, 2], index=(3, 4)), [1, 64], LAYERS)
    assert patch == ActivationPatch("policy.0", "set", [1.0, 2.0], [3, 4])
    assert validate_patch(ActivationPatch("policy.4", "clamp", [-1, None]), [1, 2], LAYERS).value == [-1.0, None]
    assert validate_patch(ActivationPatch("policy.0", "add", [[0.5] * 64]), [1, 64], LAYERS).value == [[0.5] * 64]
    assert validate_patch(ActivationPatch("policy.0", "scale", 2, index=63), None, LAYERS).index == 63


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            ActivationPatch("policy.7", "set", 1.0),
            r"unknown layer 'policy\.7'; known layers: policy, policy\.0, policy\.4",
        ),
        (
            ActivationPatch("policy.0", "multiply", 1.0),
            r"unknown mode 'multiply'; expected one of set, add, scale, clamp",
        ),
        (
            ActivationPatch("policy.0", "set", [1.0, 2.0, 3.0]),
            r"'policy\.0' \(output shape \[1, 64\]\): expects a number or an array broadcastable to shape \[1, 64\], "
            r"got shape \[3\]",
        ),
        (
            ActivationPatch("policy.0", "set", [1.0, 2.0, 3.0], index=[0, 1]),
            r"broadcastable to shape \[1, 2\], got shape \[3\]",
        ),
        (
            ActivationPatch("policy.0", "add", 1.0, index=64),
            r"index 64 is outside the last axis of shape \[1, 64\] \(0 to 63\)",
        ),
        (ActivationPatch("policy.0", "add", 1.0, index=-1), r"index expects a non-negative int"),
        (ActivationPatch("policy.0", "add", 1.0, index=[]), r"index expects a non-negative int"),
        (ActivationPatch("policy.0", "add", "big"), r"expects a number or an array of numbers, got 'big'"),
        (ActivationPatch("policy.0", "add", float("nan")), r"expects a number or an array of numbers, got nan"),
        (ActivationPatch("policy.0", "clamp", 3.0), r"clamp expects \[min, max\]"),
        (ActivationPatch("policy.0", "clamp", [None, None]), r"clamp expects \[min, max\]"),
        (ActivationPatch("policy.0", "clamp", [2.0, 1.0]), r"got min 2\.0 > max 1\.0"),
    ],
)
def test_validate_patch_refuses_what_does_not_fit_and_says_why(patch, message):
    with pytest.raises(InvalidInput, match=message):
        validate_patch(patch, [1, 64], LAYERS)


def test_a_scalar_output_takes_no_index():
    with pytest.raises(InvalidInput, match="scalar, so it takes no index"):
        validate_patch(ActivationPatch("policy", "set", 1.0, index=0), [], ["policy"])
