"""Override rules: what an override or an activation patch may say, checked without torch.

Pure (numpy and the modality dicts only), so the control plane refuses a bad override before it
reaches a worker, from the JSON modalities in the instance's architecture, and the worker checks
again against the live AInimal (`worker/overrides.py` and `worker/torch_layers.py` apply them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ainimal_zookeeper.domain.modality_values import coerce_value, float_bounds, to_json
from ainimal_zookeeper.errors import InvalidInput

#: The streams an override can target, as "<stream>/<name>".
TARGET_STREAMS = ("inputs", "outputs", "activations")

#: What an override or a patch does to the selected part of a value.
PATCH_MODES = ("set", "add", "scale", "clamp")

#: How a person takes over an output: every step with the latest action, or step by step.
TAKEOVERS = ("realtime", "lockstep")

#: Modality kinds whose values are numeric arrays that add / scale / clamp and indexes apply to.
_ARITHMETIC_KINDS = ("box",)

#: Known names listed in an error; a large model has hundreds of layers.
_LISTED_NAMES = 30


@dataclass(frozen=True)
class ActivationPatch:
    """A change to one layer's output: `mode` applied with `value` to the whole tensor or to
    `out[..., index]` (the last axis holds the units or channels).

    `value` is a number or an array broadcastable to the selected slice; for clamp it is
    `[min, max]`, either of which may be None.
    """

    layer: str
    mode: str
    value: Any
    index: int | list[int] | None = None


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


def validate_patch(
    patch: ActivationPatch, output_shape: Sequence[int] | None, known_layers: Iterable[str]
) -> ActivationPatch:
    """Check a patch against the layer's output shape; pure, torch is not needed.

    Args:
        patch: the patch as a client sent it.
        output_shape: the layer's output shape (batch axis included), None when unknown:
            then only the form of value and index is checked.
        known_layers: the AInimal's layer names.

    Returns:
        The patch with value as a float or nested lists of floats ([min, max] for clamp) and
        index as an int or a list of ints.

    Raises:
        InvalidInput: unknown layer or mode, index outside the last axis, or a value that does
            not broadcast to the selected slice; the message names the layer and the shapes.
    """
    known = list(known_layers)
    if patch.layer not in known:
        raise InvalidInput(f"activation patch: unknown layer {patch.layer!r}; known layers: {listing(known)}")
    shape = None if output_shape is None else [int(d) for d in output_shape]
    where = f"activation patch on {patch.layer!r}" + ("" if shape is None else f" (output shape {shape})")
    mode = check_mode(patch.mode, where)
    index = check_index(patch.index, shape, where)
    if mode == "clamp":
        return ActivationPatch(patch.layer, mode, check_clamp(patch.value, where), index)
    return ActivationPatch(patch.layer, mode, check_numbers(patch.value, selected_shape(shape, index), where), index)


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
        require_arithmetic(modality, mode, where)
        shape = [int(d) for d in modality.get("shape", [])]
    checked_index = check_index(index, shape, where)
    if mode == "clamp":
        return checked_index, check_clamp(value, where)
    checked = check_numbers(value, selected_shape(shape, checked_index), where)
    if mode == "set" and modality is not None and shape is not None:
        _check_set_slice(modality, shape, checked_index, checked, where)
    return checked_index, checked


def require_arithmetic(modality: Mapping[str, Any], mode: str, where: str) -> None:
    kind = modality.get("kind")
    if kind not in _ARITHMETIC_KINDS:
        what = f"mode {mode!r}" if mode != "set" else "an index"
        raise InvalidInput(
            f"{where}: {what} needs a numeric box modality, but this one is {kind!r}; "
            "send the whole value with mode 'set' and no index"
        )


def _check_set_slice(modality: Mapping[str, Any], shape: list[int], index: Any, value: Any, where: str) -> None:
    """Setting part of a box: the part must fit the box's dtype and bounds where it lands."""
    low, high = modality_bounds(modality)
    candidate = np.clip(np.zeros(shape), np.broadcast_to(low, shape), np.broadcast_to(high, shape))
    candidate[..., index] = value
    _coerced(modality, candidate, where)


def _coerced(modality: Mapping[str, Any], value: Any, where: str) -> Any:
    try:
        return coerce_value(modality, value)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc}") from exc


def modality_bounds(modality: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """A box's low and high as float arrays, infinite where unbounded (None in JSON)."""
    if modality is None:
        return np.asarray(-np.inf), np.asarray(np.inf)
    low = modality.get("low", modality.get("low_min"))
    high = modality.get("high", modality.get("high_max"))
    return float_bounds(low, -np.inf), float_bounds(high, np.inf)


# --- checking values against shapes (shared with overrides) -----------------------------------


def listing(names: Iterable[str]) -> str:
    """Names for an error message, cut after the first few."""
    names = list(names)
    if not names:
        return "none"
    more = len(names) - _LISTED_NAMES
    return ", ".join(names[:_LISTED_NAMES]) + (f" and {more} more" if more > 0 else "")


def check_mode(mode: Any, where: str) -> str:
    """`mode` if it is one of PATCH_MODES."""
    if mode not in PATCH_MODES:
        raise InvalidInput(f"{where}: unknown mode {mode!r}; expected one of {', '.join(PATCH_MODES)}")
    return str(mode)


def check_index(index: Any, shape: Sequence[int] | None, where: str) -> int | list[int] | None:
    """`index` (None, an int or a non-empty list of ints) checked against the last axis of `shape`."""
    if index is None:
        return None
    items = index if isinstance(index, (list, tuple)) else [index]
    if not items or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in items):
        raise InvalidInput(f"{where}: index expects a non-negative int or a non-empty list of them, got {index!r}")
    if shape is not None:
        if not shape:
            raise InvalidInput(f"{where}: the value is a scalar, so it takes no index; got index {index!r}")
        if (worst := max(items)) >= shape[-1]:
            raise InvalidInput(
                f"{where}: index {worst} is outside the last axis of shape {list(shape)} (0 to {shape[-1] - 1})"
            )
    return [int(i) for i in items] if isinstance(index, (list, tuple)) else int(index)


def selected_shape(shape: Sequence[int] | None, index: int | list[int] | None) -> list[int] | None:
    """The shape of `x[..., index]` for an `x` of `shape` (all of `x` when index is None)."""
    if shape is None or index is None:
        return None if shape is None else list(shape)
    return list(shape[:-1]) + ([len(index)] if isinstance(index, list) else [])


def check_numbers(value: Any, shape: Sequence[int] | None, where: str) -> Any:
    """`value` as a float or nested lists of floats, broadcastable to `shape` (if known)."""
    arr = _finite_numbers(value, where, "a number or an array of numbers")
    if shape is not None and not _broadcasts(list(arr.shape), list(shape)):
        raise InvalidInput(
            f"{where}: expects a number or an array broadcastable to shape {list(shape)}, got shape {list(arr.shape)}"
        )
    return arr.tolist()


def check_clamp(value: Any, where: str) -> list[float | None]:
    """Clamp bounds `[min, max]`: numbers or None (unbounded), at least one given, min <= max."""
    wanted = "[min, max] with numbers or null (at least one number, min <= max)"
    if not isinstance(value, (list, tuple)) or len(value) != 2 or (value[0] is None and value[1] is None):
        raise InvalidInput(f"{where}: clamp expects {wanted}, got {value!r}")
    low, high = (None if v is None else float(_finite_numbers(v, where, wanted, scalar=True)) for v in value)
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{where}: clamp expects {wanted}, got min {low} > max {high}")
    return [low, high]


def _finite_numbers(value: Any, where: str, wanted: str, scalar: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raise InvalidInput(f"{where}: expects {wanted}, got a ragged list") from None
    if arr.dtype.kind not in "iuf" or (scalar and arr.ndim) or not np.isfinite(arr).all():
        text = repr(value)
        raise InvalidInput(f"{where}: expects {wanted}, got {text if len(text) <= 60 else text[:57] + '...'}")
    return arr.astype(np.float64)


def _broadcasts(value_shape: list[int], target: list[int]) -> bool:
    """Whether a value of `value_shape` broadcasts *to* `target` (without growing it)."""
    if len(value_shape) > len(target):
        return False
    return all(v in (1, t) for v, t in zip(reversed(value_shape), reversed(target), strict=False))


__all__ = [
    "PATCH_MODES",
    "TAKEOVERS",
    "TARGET_STREAMS",
    "ActivationPatch",
    "ValueOverride",
    "architecture_layer_shapes",
    "check_clamp",
    "check_index",
    "check_mode",
    "check_numbers",
    "listing",
    "modality_bounds",
    "parse_target",
    "require_arithmetic",
    "selected_shape",
    "validate_override",
    "validate_patch",
]
