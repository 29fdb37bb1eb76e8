"""JSON encoding shared by every bus: commands and events travel as UTF-8 JSON, never pickle.

orjson encodes numpy arrays natively and an order of magnitude faster than the standard
library, which matters for telemetry frames (arrays of activations, sixty times a second).
NaN and infinities become null, as JSON has no spelling for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    # What orjson leaves: numpy scalars of odd types, non-contiguous arrays, sets, anything else.
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return repr(value)


def dumps(payload: dict[str, Any]) -> bytes:
    """Encode a message; values JSON cannot hold are turned into lists, numbers or repr."""
    return orjson.dumps(payload, default=_default, option=_OPTIONS)


def loads(data: bytes) -> dict[str, Any]:
    """Decode a message; raises ValueError for anything but a JSON object."""
    payload = orjson.loads(data)
    if not isinstance(payload, dict):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    return payload
