"""Gymnasium spaces rebuilt from modality dicts: the inverse of `sdk.modalities.modality_from_space`.

A recording keeps its streams' modalities, not the spaces themselves (spaces do not serialise to
JSON); a Minari export needs real spaces back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from ainimal_zookeeper.errors import InvalidInput

__all__ = ["UNBOUNDED_TEXT_LENGTH", "space_from_modality"]

#: gymnasium's Text needs a max_length; dm_env string scalars have none, so they get this one.
UNBOUNDED_TEXT_LENGTH = 1 << 16


def space_from_modality(modality: Mapping[str, Any]) -> spaces.Space:
    """Build the gymnasium space a modality dict describes.

    Boxes whose bounds were summarised (`low_min` / `high_max`, for boxes with many elements)
    come back with those scalar bounds: the per-element bounds are not in the modality.

    Args:
        modality: a dict from `modality_from_space` (kinds box, image, discrete, multi_discrete,
            multi_binary, dict, tuple, text).

    Returns:
        The space; `modality_from_space` of it gives `modality` back (summaries aside).

    Raises:
        InvalidInput: an unknown kind, or a key the kind needs is missing or malformed.
    """
    return _space(modality, "modality")


def _space(modality: Mapping[str, Any], where: str) -> spaces.Space:
    if not isinstance(modality, Mapping):
        raise InvalidInput(f"{where} expects a modality dict with a 'kind', got {modality!r}")
    kind = modality.get("kind")
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        known = ", ".join(_BUILDERS)
        raise InvalidInput(f"{where} has kind {kind!r}, which has no gymnasium space: expected one of {known}")
    try:
        return builder(modality, where)
    except (KeyError, TypeError, ValueError) as exc:
        # gymnasium checks the arguments itself; its message says what did not fit
        raise InvalidInput(f"{where} ({kind}) cannot be built: {exc!r}") from exc


def _box(modality: Mapping[str, Any], where: str) -> spaces.Box:
    shape = tuple(int(d) for d in modality["shape"])
    dtype = np.dtype(modality.get("dtype", "float32"))
    low = _bound(modality.get("low", modality.get("low_min")), shape, dtype, low=True)
    high = _bound(modality.get("high", modality.get("high_max")), shape, dtype, low=False)
    return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


def _bound(bound: Any, shape: tuple[int, ...], dtype: np.dtype, low: bool) -> np.ndarray:
    """A bound as an array of `dtype`, with the None that JSON gives an unbounded side put back.

    Float bounds are clipped to the dtype's range first: float32's largest value, printed and
    parsed back (3.4028235e38), lies just above it and would overflow to inf. Integer bounds
    skip float64 altogether, which cannot hold int64's extremes exactly.
    """
    if dtype.kind == "f":
        info = np.finfo(dtype)
        values = np.asarray(_filled(bound, -np.inf if low else np.inf), dtype=np.float64)
        values = np.where(np.isfinite(values), np.clip(values, float(info.min), float(info.max)), values)
    else:
        limits = np.iinfo(dtype) if dtype.kind in "iu" else None  # bool boxes: False / True
        fill = (limits.min if low else limits.max) if limits is not None else not low
        values = np.asarray(_filled(bound, fill), dtype=dtype)
    return np.broadcast_to(values, shape).astype(dtype)


def _filled(bound: Any, fill: Any) -> Any:
    if bound is None:
        return fill
    if isinstance(bound, (list, tuple)):
        return [_filled(b, fill) for b in bound]
    return bound


def _image(modality: Mapping[str, Any], where: str) -> spaces.Box:
    shape = tuple(int(d) for d in modality["shape"])
    return spaces.Box(low=0, high=255, shape=shape, dtype=np.uint8)


def _discrete(modality: Mapping[str, Any], where: str) -> spaces.Discrete:
    return spaces.Discrete(int(modality["n"]), start=int(modality.get("start", 0)))


def _multi_discrete(modality: Mapping[str, Any], where: str) -> spaces.MultiDiscrete:
    nvec = np.asarray(modality["nvec"], dtype=np.int64)
    start = np.broadcast_to(np.asarray(modality.get("start", 0), dtype=np.int64), nvec.shape)
    return spaces.MultiDiscrete(nvec, start=start)


def _multi_binary(modality: Mapping[str, Any], where: str) -> spaces.MultiBinary:
    n = modality["n"]
    return spaces.MultiBinary(int(n) if isinstance(n, int) else [int(k) for k in n])


def _dict(modality: Mapping[str, Any], where: str) -> spaces.Dict:
    subs: Mapping[str, Any] = modality["spaces"]
    return spaces.Dict({str(k): _space(sub, f"{where}[{k!r}]") for k, sub in subs.items()})


def _tuple(modality: Mapping[str, Any], where: str) -> spaces.Tuple:
    return spaces.Tuple([_space(sub, f"{where}[{i}]") for i, sub in enumerate(modality["spaces"])])


def _text(modality: Mapping[str, Any], where: str) -> spaces.Text:
    max_length = modality.get("max_length")
    max_length = UNBOUNDED_TEXT_LENGTH if max_length is None else int(max_length)
    min_length = int(modality.get("min_length") or 0)
    charset = modality.get("charset")
    if charset is None:  # gymnasium's default alphabet
        return spaces.Text(max_length, min_length=min_length)
    return spaces.Text(max_length, min_length=min_length, charset=charset)


_BUILDERS: dict[str, Callable[[Mapping[str, Any], str], spaces.Space]] = {
    "box": _box,
    "image": _image,
    "discrete": _discrete,
    "multi_discrete": _multi_discrete,
    "multi_binary": _multi_binary,
    "dict": _dict,
    "tuple": _tuple,
    "text": _text,
}
