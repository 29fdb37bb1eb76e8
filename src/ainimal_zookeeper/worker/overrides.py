"""Overrides: values forced into an AInimal's inputs, outputs or layer activations.

Validation is pure (numpy and the modality dicts only) so the control plane can refuse a bad
override before it reaches a worker, from the JSON modalities in the instance's architecture;
the worker validates again against the live AInimal and applies the override each step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.sdk.modalities import coerce_value, float_bounds, to_json
from ainimal_zookeeper.worker.torch_layers import (
    ActivationPatch,
    check_clamp,
    check_index,
    check_mode,
    check_numbers,
    listing,
    selected_shape,
    validate_patch,
)

#: The streams an override can target, as "<stream>/<name>".
TARGET_STREAMS = ("inputs", "outputs", "activations")

#: Modality kinds whose values are numeric arrays that add / scale / clamp and indexes apply to.
_ARITHMETIC_KINDS = ("box",)


@dataclass(frozen=True)
class ValueOverride:
    """A value forced into `target` ("outputs/action", "inputs/observation", "activations/policy.0")
    until cleared: `mode` (set, add, scale, clamp) applied with `value` to the whole value or to
    `value[..., index]`; `set_by` is who set it, for the record."""

    override_id: str
    target: str
    mode: str
    value: Any
    index: int | list[int] | None = None
    set_by: str | None = None

    def as_patch(self) -> ActivationPatch:
        """The activation patch an "activations/<layer>" override stands for."""
        stream, layer = parse_target(self.target)
        if stream != "activations":
            raise InvalidInput(f"override {self.target!r} targets {stream}, not a layer's activations")
        return ActivationPatch(layer, self.mode, self.value, self.index)


def parse_target(target: str) -> tuple[str, str]:
    """Split "outputs/action" into ("outputs", "action").

    Raises:
        InvalidInput: not one of inputs/<modality>, outputs/<modality>, activations/<layer>.
    """
    stream, slash, name = target.partition("/") if isinstance(target, str) else ("", "", "")
    if not slash or stream not in TARGET_STREAMS or not name:
        raise InvalidInput(
            f"override target {target!r} is not one of inputs/<modality>, outputs/<modality>, "
            "activations/<layer> (for example outputs/action or activations/policy.0)"
        )
    return stream, name


def architecture_layer_shapes(architecture: Mapping[str, Any] | None) -> dict[str, list[int] | None]:
    """Layer name -> output shape, from an instance's `architecture` (as `describe_agent` gives)."""
    layers = (architecture or {}).get("layers") or []
    return {layer["name"]: layer.get("output_shape") for layer in layers if isinstance(layer, Mapping)}


def validate_override(
    target: str,
    mode: str,
    value: Any,
    index: Any = None,
    input_modalities: Mapping[str, Any] | None = None,
    output_modalities: Mapping[str, Any] | None = None,
    layer_shapes: Mapping[str, Sequence[int] | None] | None = None,
    *,
    override_id: str = "",
    set_by: str | None = None,
) -> ValueOverride:
    """Check an override against the AInimal's modalities or layers and normalise it.

    Args:
        target: "inputs/<modality>", "outputs/<modality>" or "activations/<layer>".
        mode: set, add, scale or clamp (add / scale / clamp need a numeric box modality).
        value: for set, a value of the modality; for add / scale, a number or an array
            broadcastable to the selected part; for clamp, [min, max] with None for no bound.
        index: None (the whole value), an int or a list of ints on the last axis.
        input_modalities, output_modalities: modality name -> modality dict; None when not
            known here, which leaves only the form of the override checked.
        layer_shapes: layer name -> output shape (None if unknown); None when not known here.
        override_id, set_by: carried into the result.

    Returns:
        The override with a JSON value (numbers, nested lists) and a normalised index.

    Raises:
        InvalidInput: the message names the target, what was expected and what was given.
    """
    stream, name = parse_target(target)
    if stream == "activations":
        shapes = {name: None} if layer_shapes is None else layer_shapes
        shape = shapes.get(name)
        patch = validate_patch(ActivationPatch(name, mode, value, index), shape, shapes)
        return ValueOverride(override_id, target, patch.mode, patch.value, patch.index, set_by)
    where = f"override of {target!r}"
    modalities = input_modalities if stream == "inputs" else output_modalities
    modality = None if modalities is None else _modality(modalities, stream, name, where)
    mode = check_mode(mode, where)
    checked_index, checked = _validate_value(modality, mode, value, index, where)
    return ValueOverride(override_id, target, mode, checked, checked_index, set_by)


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
        _require_arithmetic(modality, override.mode, f"override of {override.target!r}")
    change = _array_change(override.mode, override.value)
    index = override.index
    dtype = None if modality is None else np.dtype(modality.get("dtype", "float32"))
    low, high = _bounds(modality)

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


# --- validating inputs and outputs ------------------------------------------------------------


def _modality(modalities: Mapping[str, Any], stream: str, name: str, where: str) -> Mapping[str, Any]:
    if name not in modalities:
        kind = "input" if stream == "inputs" else "output"
        raise InvalidInput(f"{where}: this AInimal has no {kind} {name!r}; its {stream}: {listing(modalities)}")
    return modalities[name]


def _validate_value(
    modality: Mapping[str, Any] | None, mode: str, value: Any, index: Any, where: str
) -> tuple[int | list[int] | None, Any]:
    """(index, value) normalised; `modality` None checks only their form."""
    if mode == "set" and index is None:
        return None, (value if modality is None else to_json(_coerced(modality, value, where)))
    shape = None
    if modality is not None:
        _require_arithmetic(modality, mode, where)
        shape = [int(d) for d in modality.get("shape", [])]
    checked_index = check_index(index, shape, where)
    if mode == "clamp":
        return checked_index, check_clamp(value, where)
    checked = check_numbers(value, selected_shape(shape, checked_index), where)
    if mode == "set" and modality is not None and shape is not None:
        _check_set_slice(modality, shape, checked_index, checked, where)
    return checked_index, checked


def _require_arithmetic(modality: Mapping[str, Any], mode: str, where: str) -> None:
    kind = modality.get("kind")
    if kind not in _ARITHMETIC_KINDS:
        what = f"mode {mode!r}" if mode != "set" else "an index"
        raise InvalidInput(
            f"{where}: {what} needs a numeric box modality, but this one is {kind!r}; "
            "send the whole value with mode 'set' and no index"
        )


def _check_set_slice(modality: Mapping[str, Any], shape: list[int], index: Any, value: Any, where: str) -> None:
    """Setting part of a box: the part must fit the box's dtype and bounds where it lands."""
    low, high = _bounds(modality)
    candidate = np.clip(np.zeros(shape), np.broadcast_to(low, shape), np.broadcast_to(high, shape))
    candidate[..., index] = value
    _coerced(modality, candidate, where)


def _coerced(modality: Mapping[str, Any], value: Any, where: str) -> Any:
    try:
        return coerce_value(modality, value)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from exc


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


def _bounds(modality: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """A box's low and high as float arrays, infinite where unbounded (None in JSON)."""
    if modality is None:
        return np.asarray(-np.inf), np.asarray(np.inf)
    low = modality.get("low", modality.get("low_min"))
    high = modality.get("high", modality.get("high_max"))
    return float_bounds(low, -np.inf), float_bounds(high, np.inf)


__all__ = [
    "TARGET_STREAMS",
    "ValueOverride",
    "apply_value_override",
    "architecture_layer_shapes",
    "override_function",
    "parse_target",
    "validate_override",
]
