"""JSON encoding shared by every bus: commands and events travel as UTF-8 JSON, never pickle."""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def _default(value: Any) -> Any:
    # Metrics and state often hold numpy scalars and small arrays.
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def dumps(payload: dict[str, Any]) -> bytes:
    """Encode a message; values JSON cannot hold are turned into lists, numbers or repr."""
    return json.dumps(payload, default=_default, allow_nan=True).encode()


def loads(data: bytes) -> dict[str, Any]:
    """Decode a message; raises ValueError for anything but a JSON object."""
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    return payload
