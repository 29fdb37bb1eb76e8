"""Read a YAML or JSON config file into a validated `ZookeeperConfig`.

Every failure is a `ConfigError` whose lines each name the file, the key path as the user
writes it (`envs[0].max_instances`) and what was expected.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ainimal_zookeeper.config.interpolation import interpolate_env, key_path, load_environment
from ainimal_zookeeper.config.model import SUPPORTED_HUB_TYPES, ZookeeperConfig
from ainimal_zookeeper.errors import ConfigError

__all__ = ["SUFFIXES", "config_from_dict", "load_config"]

#: File suffix -> format.
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def load_config(path: str | os.PathLike[str]) -> ZookeeperConfig:
    """Load, interpolate and validate the config file at `path`.

    Args:
        path: a .yaml, .yml or .json file; relative `path` / `root` values inside it are
            taken against this file's folder, and `.env.local` is looked up there too.

    Returns:
        The validated config.

    Raises:
        ConfigError: unreadable file, syntax error, or a value that does not fit.
    """
    source = str(path)
    data = _read(Path(path), source)
    return config_from_dict(data, source=source, base_dir=Path(path).resolve().parent)


def config_from_dict(data: dict[str, Any], source: str = "<python>", base_dir: Path | None = None) -> ZookeeperConfig:
    """Validate an already-parsed config the same way `load_config` validates a file.

    Args:
        data: the config as plain dicts and lists.
        source: what messages call it (a file name, or "<python>").
        base_dir: the folder relative paths are taken against (default: the current one).

    Returns:
        The validated config.

    Raises:
        ConfigError: a value that does not fit, one line per problem.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping of keys (server, envs, models, ...); got {_describe(data)}"
        )
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    written = _launch_etc_as_written(data)
    data = interpolate_env(data, load_environment(base_dir), source)
    try:
        config = ZookeeperConfig.model_validate(data, context={"base_dir": base})
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from None
    _check_hubs_supported(config, source)
    config.remember_source_dir(Path(base_dir).resolve() if base_dir is not None else None, source)
    if written is not None:
        config.remember_launch_etc_as_written(written)
    return config


def _launch_etc_as_written(data: dict[str, Any]) -> list[str] | None:
    """The `launch_etc` commands before `${env.X}` is filled in (shown by the API), if well-formed."""
    entries = data.get("launch_etc")
    if not isinstance(entries, list):
        return None
    commands = [entry.get("cmd") if isinstance(entry, dict) else None for entry in entries]
    texts = [command for command in commands if isinstance(command, str)]
    return texts if len(texts) == len(commands) else None


def _read(path: Path, source: str) -> Any:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ConfigError(f"{source}: expected a .yaml, .yml or .json file; got suffix {path.suffix!r}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: cannot read the config file: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the config file: {exc.strerror or exc}") from None
    return _parse_yaml(text, source) if kind == "yaml" else _parse_json(text, source)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice (plain YAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(text: str, source: str) -> Any:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = "; ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{source}: {where}YAML syntax error: {detail}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML syntax error: {exc}") from None
    if data is None:
        raise ConfigError(f"{source}: the file is empty; expected a mapping of keys (server, envs, models, ...)")
    return data


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None


def _check_hubs_supported(config: ZookeeperConfig, source: str) -> None:
    # Fail at start: silently skipping a hub would hide every model it was meant to offer.
    supported = ", ".join(SUPPORTED_HUB_TYPES)
    lines = [
        f"{source}: model_hubs[{index}].type {hub.type!r} is not supported yet; supported: {supported}"
        for index, hub in config.unsupported_model_hubs()
    ]
    if lines:
        raise ConfigError("\n".join(lines))


def _format_errors(exc: ValidationError, source: str) -> str:
    """One line per pydantic error: `source: key.path: expected ...; got ...`."""
    lines = []
    for error in exc.errors(include_url=False):
        where = key_path(error["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {_problem(error)}")
    return "\n".join(lines)


def _problem(error: Any) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(error["loc"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    if kind in ("value_error", "assertion_error", "unknown_type"):
        return message  # written for this config; it already says what it found
    return f"{message}; got {_describe(error['input'])}"


def _unknown_key(loc: tuple[Any, ...]) -> str:
    allowed = _allowed_keys(loc[:-1])
    if not allowed:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key{hint}; expected one of: {', '.join(allowed)}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at `loc`, walking from ZookeeperConfig."""
    annotation: Any = ZookeeperConfig
    for part in loc:
        if isinstance(part, int) and get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif _is_model(annotation):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        else:
            return []
    return list(annotation.model_fields) if _is_model(annotation) else []


def _is_model(annotation: Any) -> bool:
    # list[X] passes isinstance(..., type) yet fails issubclass, hence the origin check first.
    return get_origin(annotation) is None and isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _describe(value: Any) -> str:
    """A short description of a found value: `'abc' (a string)`, `a list`."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return f"{shown} ({names.get(type(value), type(value).__name__)})"
