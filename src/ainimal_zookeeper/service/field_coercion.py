"""Stored values made to fit a record's field types, so a damaged or foreign document still reads.

A document written by hand, by another version or half-damaged may hold a string where a
number belongs, a list where an object belongs. Reading it must not fail the whole list it is
in (`instances` shows every instance, or none): a value of the wrong type is read as the
field's empty value (None, 0, "", {}, []), and the first such value per record type and field
is logged. Numbers written as numeric strings ("12") are read as the number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from ainimal_zookeeper.service.status_parsing import warn_once


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            return None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an id or a name stored as a number
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str_list(value: Any) -> list[str] | None:
    if not isinstance(value, (list, tuple)):
        return None
    return [item for item in value if isinstance(item, str)]


#: A field's annotation (as written in the dataclass) -> how a stored value becomes one, or None.
#: Every field of a stored record needs one here, or is an enum or the record's `extra`
#: (tests/unit/service/test_field_coercion_coverage.py fails on a field nobody reads).
_READERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "int | None": _int,
    "float | None": _float,
    "str": _str,
    "str | None": _str,
    "bool": _bool,
    "bool | None": _bool,
    "dict[str, Any]": _dict,
    "dict[str, Any] | None": _dict,
    "list[str]": _str_list,
}


def _empty(annotation: str, default: Any, default_factory: Any) -> Any:
    """The value a field gets when its stored one is missing or unreadable."""
    if default_factory is not MISSING:
        return default_factory()
    if default is not MISSING:
        return default
    return {"str": "", "int": 0, "bool": False}.get(annotation)


def coerce_fields(record_type: type, known: dict[str, Any]) -> None:
    """Make each value of `known` (field name -> stored value) fit `record_type`'s field, in place.

    A field that allows None gets None for a value of the wrong type; one that does not (the
    record's id, counters, flags, objects) gets its default, or "" / 0 / False when it has none.
    Fields of other types (enums, mappings) are left to the record.
    """
    for f in fields(record_type):
        annotation = f.type if isinstance(f.type, str) else ""
        read = _READERS.get(annotation)
        if read is None:
            continue
        value = known.get(f.name)
        fitted = read(value) if value is not None else None
        if fitted is None and value is not None:
            warn_once(
                ("field", record_type.__name__, f.name),
                "a stored %s has %s=%r (a %s), not a %s: read as its empty value (warned once)",
                record_type.__name__,
                f.name,
                str(value)[:80],
                type(value).__name__,
                annotation,
            )
        if fitted is None and not annotation.endswith("| None"):
            fitted = _empty(annotation, f.default, f.default_factory)
        if fitted is not None or f.name in known:
            known[f.name] = fitted
