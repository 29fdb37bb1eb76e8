"""Modalities: JSON descriptions of observation and action spaces for the web client.

A modality is a plain dict with a "kind" ("box", "image", "discrete", ...) and what a client
needs to draw a value of that kind or to build one (shape, bounds, choices). `coerce_value`
turns the client's JSON back into what an env or AInimal expects; `to_json` goes the other way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from ainimal_zookeeper.domain.modality_values import coerce_value, float_bounds, to_json

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
