"""Launch parameters: what a model or env declares it takes, and checking what a launch passes.

Declarations come from an AInimal's `AINIMAL_PARAMETERS` or a config entry's `create_params`:
dicts with name, type (int | float | str | bool | choice), default, description, display,
range [low, high] and choices. A declaration without a "default" key is required.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ainimal_zookeeper.errors import ConfigError, InvalidInput

__all__ = ["PARAMETER_TYPES", "Parameter", "parse_parameters", "validate_values"]

PARAMETER_TYPES = ("int", "float", "str", "bool", "choice")

_ALIASES: dict[Any, str] = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
# Python authors of AINIMAL_PARAMETERS naturally write {"type": int}.
_ALIASES.update({int: "int", float: "float", str: "str", bool: "bool"})
_KEYS = ("name", "type", "default", "description", "display", "range", "choices", "required")
_TYPES_TEXT = f"{', '.join(PARAMETER_TYPES)} (or integer, number, string, boolean)"
# Spellings HTML forms and query strings use; "on" is what a ticked checkbox sends.
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Parameter:
    """One declared launch parameter; `required` ones have no default."""

    name: str
    type: str
    default: Any = None
    description: str | None = None
    display: str | None = None
    range: tuple[float, float] | None = None
    choices: tuple[Any, ...] | None = None
    required: bool = False

    def to_api(self) -> dict[str, Any]:
        """The parameter as the API's `Parameter` type shows it."""
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
            "range": [float(self.range[0]), float(self.range[1])] if self.range else None,
            "choices": list(self.choices) if self.choices is not None else None,
        }

    def expectation(self) -> str:
        """What a value must be, for messages: "int in [1, 512]", "one of 'adam', 'sgd'"."""
        if self.type == "choice":
            return f"one of {_show_all(self.choices or ())}"
        text = "bool (true or false)" if self.type == "bool" else self.type
        if self.range is not None:
            text += f" in [{self._bound(self.range[0])}, {self._bound(self.range[1])}]"
        if self.choices is not None:
            text += f", one of {_show_all(self.choices)}"
        return text

    def _bound(self, x: float) -> str:
        return str(int(x)) if self.type == "int" else repr(float(x))


def parse_parameters(raw: Sequence[Mapping[str, Any]], where: str) -> list[Parameter]:
    """Parse and check parameter declarations.

    Args:
        raw: the declarations (`AINIMAL_PARAMETERS` or a config entry's `create_params`).
        where: where they came from, e.g. "models[0].create_params"; every message starts with it.

    Returns:
        One `Parameter` per declaration, in order, defaults converted to the declared type.

    Raises:
        ConfigError: a declaration that cannot be used (unknown type, bad default, duplicate ...).
    """
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise ConfigError(f"{where}: expected a list of parameter declarations, got {_show(raw)}")
    params: list[Parameter] = []
    first_at: dict[str, int] = {}
    for i, item in enumerate(raw):
        param = _parse_one(item, f"{where}[{i}]")
        if param.name in first_at:
            raise ConfigError(
                f"{where}[{i}]: duplicate parameter name {param.name!r}; "
                f"expected unique names, it is already declared at {where}[{first_at[param.name]}]"
            )
        first_at[param.name] = i
        params.append(param)
    return params


def validate_values(params: Sequence[Parameter], values: Mapping | None, owner: str) -> dict:
    """Check launch values against the declarations and fill in defaults.

    Form strings are converted ("3" -> 3, "0.5" -> 0.5, "true" -> True); an int is accepted for
    a float, a bool is not accepted as an int. None, and "" for a non-str, mean "not given".

    Args:
        params: the declarations from `parse_parameters`.
        values: name -> value as the client sent them; None means none.
        owner: who takes them, for messages, e.g. "model 'M'".

    Returns:
        name -> value for every declared parameter, in declaration order.

    Raises:
        InvalidInput: all problems (unknown, missing, wrong type, out of range), joined by "; ".
    """
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        got = _show(values)
        raise InvalidInput(f"parameters for {owner} must be an object of name -> value, got {got}")
    known = {p.name: p for p in params}
    problems = [_unknown(name, owner, known) for name in values if name not in known]
    result: dict[str, Any] = {}
    for param in params:
        result[param.name], problem = _value_of(param, values.get(param.name), owner)
        problems += [problem] if problem else []
    if problems:
        raise InvalidInput("; ".join(problems))
    return result


# --- declarations ---------------------------------------------------------------------------


def _parse_one(item: Any, where: str) -> Parameter:
    name = _check_keys(item, where)
    kind = _parse_type(item.get("type"), where)
    required = _parse_required(item, name, where)
    text = {key: item.get(key) for key in ("description", "display")}
    param = Parameter(name, kind, required=required, **text)
    param = replace(param, range=_parse_range(item.get("range"), param, where))
    param = replace(param, choices=_parse_choices(item.get("choices"), param, where))
    if item.get("default") is None:
        return param
    try:
        return replace(param, default=_fit(param, item["default"]))
    except ValueError:
        got = _show(item["default"])
        message = f"expected default of {name!r} to be {param.expectation()}, got {got}"
        raise ConfigError(f"{where}: {message}") from None


def _check_keys(item: Any, where: str) -> str:
    """The declaration's name, once its keys and text fields are known to be usable."""
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where}: expected a mapping with name and type, got {_show(item)}")
    if unknown := sorted(str(k) for k in item if k not in _KEYS):
        message = f"unknown key(s) {', '.join(unknown)}; expected some of: {', '.join(_KEYS)}"
        raise ConfigError(f"{where}: {message}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        got = _show(name) if "name" in item else "no name"
        raise ConfigError(f"{where}: expected 'name' to be a non-empty string, got {got}")
    for key in ("description", "display"):
        if not isinstance(item.get(key), (str, type(None))):
            got = _show(item[key])
            raise ConfigError(f"{where}: expected {key!r} of {name!r} to be a string, got {got}")
    return name


def _parse_type(raw: Any, where: str) -> str:
    try:
        kind = _ALIASES.get(raw, raw)
    except TypeError:  # unhashable, e.g. a list
        kind = raw
    if isinstance(kind, str):
        kind = _ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if kind not in PARAMETER_TYPES:
        raise ConfigError(f"{where}: unknown type {_show(raw)}; expected one of {_TYPES_TEXT}")
    return str(kind)


def _parse_required(item: Mapping[str, Any], name: str, where: str) -> bool:
    required = item.get("required", "default" not in item)
    if not isinstance(required, bool):
        message = f"expected 'required' of {name!r} to be a bool, got {required!r}"
        raise ConfigError(f"{where}: {message}")
    if required and item.get("default") is not None:
        message = f"expected {name!r} to be required or to have a default, got both"
        raise ConfigError(f"{where}: {message}")
    return required


def _parse_range(raw: Any, param: Parameter, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    if param.type not in ("int", "float"):
        raise ConfigError(f"{where}: expected no 'range' for {param.type} {param.name!r}")
    pair = list(raw) if isinstance(raw, (list, tuple)) else []
    try:
        # YAML reads 1e-5 (no dot) as a string, so numeric strings are accepted here too.
        low, high = (_to_float(x) for x in pair)
    except ValueError:  # not two numbers
        low, high = math.nan, math.nan
    if not low <= high:  # also catches the NaN from the line above
        message = f"expected 'range' of {param.name!r} as [low, high], low <= high, got {raw!r}"
        raise ConfigError(f"{where}: {message}")
    return (low, high)


def _parse_choices(raw: Any, param: Parameter, where: str) -> tuple[Any, ...] | None:
    if raw is None and param.type != "choice":
        return None
    wanted = "a non-empty list"
    if not isinstance(raw, (str, bytes)) and isinstance(raw, Sequence) and raw:
        if param.type == "choice":
            return tuple(raw)
        try:
            return tuple(_fit(param, c) for c in raw)
        except ValueError:
            wanted = f"a list of {param.expectation()}"
    message = f"expected 'choices' of {param.name!r} to be {wanted}, got {_show(raw)}"
    raise ConfigError(f"{where}: {message}")


# --- values ---------------------------------------------------------------------------------


class _UnfitError(ValueError):
    """A value that does not fit a parameter; callers turn it into a message."""


def _to_int(value: Any) -> int:
    if isinstance(value, bool):  # True is an int to Python, but never meant as one here
        raise _UnfitError(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value.strip()) if isinstance(value, str) else value
    if isinstance(number, numbers.Real) and float(number).is_integer():
        return int(float(number))
    raise _UnfitError(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise _UnfitError(value)
    number = float(value)
    if not math.isfinite(number):  # NaN fits no range and JSON cannot carry it back
        raise _UnfitError(value)
    return number


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _UnfitError(value)
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _UnfitError(value)


_CONVERT: dict[str, Callable[[Any], Any]] = {"int": _to_int, "float": _to_float, "str": _to_str}
_CONVERT["bool"] = _to_bool


def _fit(param: Parameter, value: Any) -> Any:
    """`value` converted to fit `param` (type, range, choices); ValueError if it does not."""
    if param.type == "choice":
        return _match_choice(param.choices or (), value)
    converted = _CONVERT[param.type](value)
    if param.range is not None and not param.range[0] <= converted <= param.range[1]:
        raise _UnfitError(value)
    return converted if param.choices is None else _match_choice(param.choices, converted)


def _match_choice(choices: Sequence[Any], value: Any) -> Any:
    """The choice equal to `value`, or whose form spelling it is ("4" for 4, "true" for True)."""
    for choice in choices:
        if choice == value and isinstance(choice, bool) == isinstance(value, bool):
            return choice
    for choice in choices:
        if isinstance(value, str) and not isinstance(choice, str) and _spells(value, choice):
            return choice
    raise _UnfitError(value)


def _spells(text: str, choice: Any) -> bool:
    if isinstance(choice, bool):
        return text.strip().lower() in (_TRUE if choice else _FALSE)
    try:
        return isinstance(choice, numbers.Real) and float(text) == choice
    except ValueError:
        return False


def _value_of(param: Parameter, value: Any, owner: str) -> tuple[Any, str | None]:
    """The value to use for `param` and, if there is a problem, the message saying what."""
    if _not_given(param, value):
        missing = f"missing required parameter {param.name!r} of {owner} ({param.expectation()})"
        return param.default, missing if param.required else None
    try:
        return _fit(param, value), None
    except ValueError:
        wanted = param.expectation()
        return None, f"parameter {param.name!r} of {owner} expects {wanted}, got {_show(value)}"


def _not_given(param: Parameter, value: Any) -> bool:
    # An empty form field means "use the default" unless "" is itself a valid value.
    if value is None:
        return True
    return value == "" and param.type != "str" and "" not in (param.choices or ())


def _unknown(name: Any, owner: str, known: Mapping[str, Parameter]) -> str:
    if not known:
        return f"unknown parameter {name!r} for {owner}; it takes no parameters"
    return f"unknown parameter {name!r} for {owner}; expected one of: {', '.join(known)}"


def _show(value: Any) -> str:
    """A value as messages quote it: 'abc' for strings, JSON for the rest (true, null, [1, 2])."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _show_all(choices: Sequence[Any]) -> str:
    return ", ".join(_show(c) for c in choices)
