"""Modality values: a client's JSON turned into what a modality holds, and numpy values into JSON.

Pure (numpy and the modality dicts only), so the control plane checks values before they reach
a worker and the worker coerces them the same way; `sdk.modalities` describes spaces as
modalities and re-exports these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ainimal_zookeeper.errors import InvalidInput

__all__ = ["coerce_value", "float_bounds", "to_json"]


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
