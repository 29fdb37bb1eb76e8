"""Modalities: JSON descriptions of observation and action spaces for the web client.

A modality is a plain dict with a "kind" ("box", "image", "discrete", ...) and what a client
needs to draw a value of that kind or to build one (shape, bounds, choices). `coerce_value`
turns the client's JSON back into what an env or AInimal expects; `to_json` goes the other way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from ainimal_zookeeper.errors import InvalidInput

__all__ = ["coerce_value", "float_bounds", "modality_from_dm_spec", "modality_from_space", "to_json"]

#: Bounds with more elements than this are summarised as low_min / high_max: an 84x84x3 box would
#: otherwise put 21k numbers into every catalog response, and clients only draw controls (sliders)
#: for small boxes, where the per-element bounds matter.
MAX_LISTED_BOUNDS = 64

_IMAGE_CHANNELS = (1, 3, 4)


def modality_from_space(space: spaces.Space) -> dict[str, Any]:
    """Describe a gymnasium space as a JSON-friendly modality dict.

    Args:
        space: any gymnasium space; kinds without a modality become {"kind": "unknown"}.

    Returns:
        A dict with "kind" and what a client needs: shape, dtype, bounds, n, nested spaces.
    """
    if isinstance(space, spaces.Box):
        return _array_modality(space.shape, space.dtype, space.low, space.high)
    if isinstance(space, spaces.Discrete):
        return {"kind": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        # start is kept: without it a client would send values outside [start, start + nvec).
        nvec, start = space.nvec.tolist(), space.start.tolist()
        return {"kind": "multi_discrete", "nvec": nvec, "start": start}
    if isinstance(space, spaces.MultiBinary):
        n = space.n
        return {"kind": "multi_binary", "n": int(n) if isinstance(n, int) else [int(k) for k in n]}
    if isinstance(space, spaces.Dict):
        subs = {str(k): modality_from_space(s) for k, s in space.spaces.items()}
        return {"kind": "dict", "spaces": subs}
    if isinstance(space, spaces.Tuple):
        return {"kind": "tuple", "spaces": [modality_from_space(s) for s in space.spaces]}
    if isinstance(space, spaces.Text):
        return _text_modality(space.min_length, space.max_length, space.characters)
    return {"kind": "unknown", "repr": str(space)}


def modality_from_dm_spec(spec: Any) -> dict[str, Any]:
    """Describe a dm_env spec (or a dict / list / tuple of them) as a modality dict.

    Only duck-typed, so dm_env stays an optional dependency.

    Args:
        spec: a dm_env.specs Array, BoundedArray, DiscreteArray, StringArray or a nest of them.

    Returns:
        The same modality dicts `modality_from_space` gives (plus "string_array").
    """
    if isinstance(spec, Mapping):
        subs = {str(k): modality_from_dm_spec(s) for k, s in spec.items()}
        return {"kind": "dict", "spaces": subs}
    fields = getattr(spec, "_fields", None)
    if isinstance(spec, tuple) and fields is not None:  # a namedtuple: keep the field names
        return modality_from_dm_spec(dict(zip(fields, spec, strict=True)))
    if isinstance(spec, (list, tuple)):
        return {"kind": "tuple", "spaces": [modality_from_dm_spec(s) for s in spec]}
    if hasattr(spec, "num_values"):  # DiscreteArray (a BoundedArray, so checked first)
        return {"kind": "discrete", "n": int(spec.num_values), "start": 0}
    if hasattr(spec, "string_type"):  # StringArray
        if tuple(spec.shape) == ():
            return _text_modality(0, None, None)
        return {"kind": "string_array", "shape": [int(d) for d in spec.shape]}
    if hasattr(spec, "shape") and hasattr(spec, "dtype"):  # Array, BoundedArray
        low, high = getattr(spec, "minimum", None), getattr(spec, "maximum", None)
        return _array_modality(spec.shape, spec.dtype, low, high)
    return {"kind": "unknown", "repr": str(spec)}


def coerce_value(modality: Mapping[str, Any], value: Any) -> Any:
    """Turn a client's JSON value into one that fits `modality`.

    Kinds without a check here ("unknown", "string_array", user-defined ones) pass through.

    Args:
        modality: a dict from `modality_from_space` / `modality_from_dm_spec`.
        value: the decoded JSON (numbers, lists, objects, strings).

    Returns:
        An ndarray of the right dtype and shape (box, image, multi_*), an int (discrete),
        a str (text), a dict (dict) or a tuple (tuple).

    Raises:
        InvalidInput: the value does not fit; the message names what was expected and what came.
    """
    return _coerce(modality, value, "")


def to_json(value: Any) -> Any:
    """Turn numpy arrays and scalars (also inside dicts, lists, tuples) into plain JSON values.

    NaN and infinities become None: browsers' JSON.parse rejects the NaN / Infinity tokens.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return to_json(value.astype(object))
        if value.dtype.kind == "O":  # may hold non-JSON values: convert element by element
            return to_json(value.tolist())
        return value.tolist()
    if isinstance(value, np.generic):
        return to_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    return repr(value)


# --- describing -----------------------------------------------------------------------------


def _array_modality(shape: Sequence[int], dtype: Any, low: Any, high: Any) -> dict[str, Any]:
    dtype = np.dtype(dtype)
    dims = [int(d) for d in shape]
    if dtype == np.uint8 and (len(dims) == 2 or (len(dims) == 3 and dims[2] in _IMAGE_CHANNELS)):
        return {"kind": "image", "shape": dims, "dtype": "uint8"}
    modality: dict[str, Any] = {"kind": "box", "shape": dims, "dtype": dtype.name}
    modality.update(_bound("low", "low_min", low, dims, np.min))
    modality.update(_bound("high", "high_max", high, dims, np.max))
    return modality


def _bound(key: str, summary: str, bound: Any, dims: list[int], reduce: Callable) -> dict:
    """One side's bound: a scalar if uniform, a nested list if small, else a summary."""
    if bound is None:  # a dm_env Array: unbounded
        return {key: None}
    arr = np.broadcast_to(np.asarray(bound), dims)
    if arr.size and (arr == arr.flat[0]).all():
        return {key: _json_number(arr.flat[0])}
    if arr.size <= MAX_LISTED_BOUNDS:
        return {key: _nested(arr)}
    return {summary: _json_number(reduce(arr))}


def _nested(arr: np.ndarray) -> Any:
    return _json_number(arr[()]) if arr.ndim == 0 else [_nested(sub) for sub in arr]


def _json_number(x: Any) -> Any:
    """A bound as JSON: +-inf -> None, float32 4.8 -> 4.8 (not 4.800000190734863)."""
    if isinstance(x, np.floating):
        return float(str(x)) if np.isfinite(x) else None
    return x.item() if isinstance(x, np.generic) else x


def _text_modality(min_length: int, max_length: int | None, charset: str | None) -> dict[str, Any]:
    return {"kind": "text", "min_length": min_length, "max_length": max_length, "charset": charset}


# --- coercing -------------------------------------------------------------------------------


def _coerce(modality: Mapping[str, Any], value: Any, where: str) -> Any:
    coercer = _COERCERS.get(modality.get("kind", ""))
    return value if coercer is None else coercer(modality, value, where)


def _fail(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"at {where}: {message}" if where else message)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _coerce_box(modality: Mapping[str, Any], value: Any, where: str) -> np.ndarray:
    dtype = np.dtype(modality.get("dtype", "float32"))
    arr = _shaped_numbers(value, modality.get("shape", []), "a box", where)
    if dtype.kind in "iub":
        _check_integral(arr, where)
    low = modality.get("low", modality.get("low_min"))
    high = modality.get("high", modality.get("high_max"))
    _check_bounds(arr, low, high, where)
    return arr.astype(dtype)


def _coerce_image(modality: Mapping[str, Any], value: Any, where: str) -> np.ndarray:
    arr = _shaped_numbers(value, modality.get("shape", []), "an image", where)
    _check_integral(arr, where)
    _check_bounds(arr, 0, 255, where)  # casting 300 to uint8 would silently wrap to 44
    return arr.astype(np.uint8)


def _coerce_multi_discrete(modality: Mapping[str, Any], value: Any, where: str) -> np.ndarray:
    nvec = np.asarray(modality["nvec"])
    start = np.broadcast_to(np.asarray(modality.get("start", 0)), nvec.shape)
    arr = _shaped_numbers(value, list(nvec.shape), "a multi_discrete", where)
    _check_integral(arr, where)
    _check_bounds(arr, start, start + nvec - 1, where)
    return arr.astype(np.int64)


def _coerce_multi_binary(modality: Mapping[str, Any], value: Any, where: str) -> np.ndarray:
    n = modality["n"]
    arr = _shaped_numbers(value, [n] if isinstance(n, int) else n, "a multi_binary", where)
    _check_integral(arr, where)
    _check_bounds(arr, 0, 1, where)
    return arr.astype(np.int8)  # gymnasium's MultiBinary dtype


def _coerce_discrete(modality: Mapping[str, Any], value: Any, where: str) -> int:
    start = int(modality.get("start", 0))
    stop = start + int(modality["n"])
    as_int = _as_int(value)
    if as_int is None or not start <= as_int < stop:
        raise _fail(where, f"expects an int in [{start}, {stop}), got {_short(value)}")
    return as_int


def _coerce_dict(modality: Mapping[str, Any], value: Any, where: str) -> dict[str, Any]:
    subs: Mapping[str, Any] = modality["spaces"]
    expected = ", ".join(subs)
    if not isinstance(value, Mapping):
        raise _fail(where, f"expects an object with keys [{expected}], got {_short(value)}")
    if set(value) != set(subs):
        got = ", ".join(map(str, value))
        raise _fail(where, f"expects an object with keys [{expected}], got keys [{got}]")
    return {k: _coerce(sub, value[k], f"{where}[{k!r}]") for k, sub in subs.items()}


def _coerce_tuple(modality: Mapping[str, Any], value: Any, where: str) -> tuple[Any, ...]:
    subs: list[Any] = modality["spaces"]
    if not isinstance(value, (list, tuple)) or len(value) != len(subs):
        raise _fail(where, f"expects a list of {len(subs)} values, got {_short(value)}")
    return tuple(_coerce(sub, value[i], f"{where}[{i}]") for i, sub in enumerate(subs))


def _coerce_text(modality: Mapping[str, Any], value: Any, where: str) -> str:
    low, high = modality.get("min_length") or 0, modality.get("max_length")
    wanted = f"a string of {low} to {high} characters" if high is not None else "a string"
    if not isinstance(value, str) or len(value) < low or (high is not None and len(value) > high):
        got = f"{len(value)} characters" if isinstance(value, str) else _short(value)
        raise _fail(where, f"expects {wanted}, got {got}")
    charset = modality.get("charset")
    if charset is not None and (bad := sorted(set(value) - set(charset))):
        raise _fail(where, f"expects characters from {_short(charset)}, got {_short(''.join(bad))}")
    return value


_COERCERS: dict[str, Callable[[Mapping[str, Any], Any, str], Any]] = {
    "box": _coerce_box,
    "image": _coerce_image,
    "discrete": _coerce_discrete,
    "multi_discrete": _coerce_multi_discrete,
    "multi_binary": _coerce_multi_binary,
    "dict": _coerce_dict,
    "tuple": _coerce_tuple,
    "text": _coerce_text,
}


def _as_int(value: Any) -> int | None:
    # True is an int to Python, not to a client; 2.0 is how some clients spell 2.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return int(value) if float(value).is_integer() else None


def _shaped_numbers(value: Any, shape: Sequence[int], what: str, where: str) -> np.ndarray:
    """`value` as a numeric array of exactly `shape`, else InvalidInput naming both shapes."""
    shape = [int(d) for d in shape]
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        raise _fail(where, f"expects {what} of shape {shape}, got a ragged list") from None
    if arr.dtype.kind not in "biuf":
        raise _fail(where, f"expects {what} of numbers, got {_short(value)}")
    if list(arr.shape) != shape:
        raise _fail(where, f"expects {what} of shape {shape}, got shape {list(arr.shape)}")
    return arr


def _check_integral(arr: np.ndarray, where: str) -> None:
    if arr.dtype.kind != "f":  # ints and bools are integral already
        return
    bad = np.argwhere(arr != np.round(arr))
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise _fail(where, f"expects integers, got {arr[index]}{_at(index)}")


def _check_bounds(arr: np.ndarray, low: Any, high: Any, where: str) -> None:
    lo = np.broadcast_to(float_bounds(low, -np.inf), arr.shape)
    hi = np.broadcast_to(float_bounds(high, np.inf), arr.shape)
    bad = np.argwhere(~((arr >= lo) & (arr <= hi)))  # NaN fails both comparisons: rejected
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        span = f"[{_fmt(lo[index])}, {_fmt(hi[index])}]"
        raise _fail(where, f"expects values in {span}, got {arr[index]}{_at(index)}")


def float_bounds(bound: Any, fill: float) -> np.ndarray:
    """Bounds as floats, with the None that stands for an infinite bound put back."""
    if bound is None:
        return np.asarray(fill)
    if isinstance(bound, (list, tuple)):
        return np.asarray([float_bounds(b, fill) for b in bound], dtype=np.float64)
    return np.asarray(bound, dtype=np.float64)


def _fmt(x: Any) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else str(x)


def _at(index: tuple[int, ...]) -> str:
    return f" at index {list(index)}" if index else ""
