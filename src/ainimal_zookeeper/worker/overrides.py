"""Overrides: values forced into an AInimal's inputs, outputs or layer activations, applied.

The rules (what an override may say) are pure and shared with the control plane, in
`domain/override_rules.py` (re-exported here); this module applies a checked override each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ainimal_zookeeper.domain.modality_values import coerce_value
from ainimal_zookeeper.domain.override_rules import (
    TARGET_STREAMS,
    ValueOverride,
    architecture_layer_shapes,
    modality_bounds,
    parse_target,
    require_arithmetic,
    validate_override,
)
from ainimal_zookeeper.errors import InvalidInput


def apply_value_override(original: Any, override: ValueOverride, modality: Mapping[str, Any] | None) -> Any:
    """The value that replaces `original` (an input or output of one step) under `override`.

    Discrete values come back as Python ints, boxes as arrays of the modality's dtype and
    shape; add / scale / clamp results are clipped into the box's bounds, so the env always
    gets a value of its space. `original` is never changed.
    """
    return override_function(override, modality)(original)


def override_function(override: ValueOverride, modality: Mapping[str, Any] | None) -> Callable[[Any], Any]:
    """`apply_value_override` with the override's value coerced once, for use at every step."""
    if override.mode == "set" and override.index is None:
        forced = override.value if modality is None else coerce_value(modality, override.value)
        if isinstance(forced, np.ndarray):
            return lambda _original: forced.copy()
        return lambda _original: forced
    if modality is not None:
        require_arithmetic(modality, override.mode, f"override of {override.target!r}")
    change = _array_change(override.mode, override.value)
    index = override.index
    dtype = None if modality is None else np.dtype(modality.get("dtype", "float32"))
    low, high = modality_bounds(modality)

    def apply(original: Any) -> Any:
        arr = np.array(original, dtype=np.float64)
        if index is None:
            arr = change(arr)
        else:
            arr[..., index] = change(arr[..., index])
        arr = np.clip(arr, low, high)
        target = dtype if dtype is not None else np.asarray(original).dtype
        return (np.rint(arr) if target.kind in "iub" else arr).astype(target)

    return apply


# --- applying ---------------------------------------------------------------------------------


def _array_change(mode: str, value: Any) -> Callable[[np.ndarray], np.ndarray]:
    if mode == "clamp":
        low, high = (-np.inf if value[0] is None else value[0]), (np.inf if value[1] is None else value[1])
        return lambda arr: np.clip(arr, low, high)
    operand = np.asarray(value, dtype=np.float64)
    if mode == "set":
        return lambda arr: np.broadcast_to(operand, arr.shape)
    if mode == "add":
        return lambda arr: arr + operand
    if mode == "scale":
        return lambda arr: arr * operand
    raise InvalidInput(f"unknown override mode {mode!r}")


__all__ = [
    "TARGET_STREAMS",
    "ValueOverride",
    "apply_value_override",
    "architecture_layer_shapes",
    "override_function",
    "parse_target",
    "validate_override",
]
