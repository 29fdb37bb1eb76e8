"""`${env.NAME}` (filled when the config loads) and `${params.NAME}` (filled at launch).

`${process.ENV.NAME}` is accepted as another spelling of `${env.NAME}`. Environment values
come from `.env.local` files overlaid by the real environment, which wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from ainimal_zookeeper.errors import ConfigError, InvalidInput

__all__ = ["ENV_FILE_NAME", "interpolate_env", "key_path", "load_environment", "resolve_params"]

ENV_FILE_NAME = ".env.local"

_REFERENCE = re.compile(r"\$\{(?P<scope>env|process\.ENV|params)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


def key_path(parts: Sequence[str | int]) -> str:
    """A location as the user writes it: ("envs", 0, "max_instances") -> envs[0].max_instances."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_environment(base_dir: Path | None = None) -> dict[str, str]:
    """Variables for `${env.X}`: .env.local in the current directory, then next to the config,
    then the real environment; later sources win."""
    folders = [Path.cwd()]
    if base_dir is not None and Path(base_dir).resolve() != Path.cwd().resolve():
        folders.append(Path(base_dir))
    merged: dict[str, str] = {}
    for folder in folders:
        env_file = folder / ENV_FILE_NAME
        if env_file.is_file():
            # A bare `NAME` line has no value; it must not shadow anything.
            merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return merged


def interpolate_env(data: Any, environment: Mapping[str, str], source: str) -> Any:
    """A copy of `data` with every `${env.NAME}` filled in; `${params.NAME}` is left in place.

    Args:
        data: the parsed config (dicts, lists and scalars).
        environment: the variables, usually from `load_environment`.
        source: the config's file name, for messages.

    Returns:
        The interpolated copy.

    Raises:
        ConfigError: a variable is not set, or `${params.x}` appears outside init_params;
            one line per problem.
    """
    problems: list[str] = []

    def fill(text: str, parts: list[str | int]) -> str:
        def replace(match: re.Match[str]) -> str:
            if match["scope"] == "params":
                if "init_params" not in parts:
                    problems.append(f"{source}: {key_path(parts)}: {match[0]} is only filled in inside init_params")
                return match[0]
            if match["name"] not in environment:
                problems.append(
                    f"{source}: {key_path(parts)}: environment variable {match['name']} is not set; "
                    f"set it or add it to {ENV_FILE_NAME}"
                )
                return match[0]
            return environment[match["name"]]

        return _REFERENCE.sub(replace, text)

    result = _walk(data, [], fill)
    if problems:
        raise ConfigError("\n".join(problems))
    return result


def resolve_params(init_params: dict[str, Any], values: dict[str, Any], owner: str) -> dict[str, Any]:
    """Fill `${params.NAME}` in `init_params` with launch parameter values.

    A string that is exactly `${params.x}` becomes the value itself (keeping its type);
    occurrences inside a longer string are formatted into it. Lists and dicts are followed.

    Args:
        init_params: the entry's init_params, as loaded.
        values: the validated launch parameters, by name.
        owner: the model or env name, for messages.

    Returns:
        A new dict; `init_params` is not changed.

    Raises:
        InvalidInput: a reference names a parameter that `values` does not have.
    """
    known = ", ".join(sorted(values)) or "none"

    def lookup(name: str, parts: list[str | int]) -> Any:
        if name not in values:
            where = key_path(["init_params", *parts])
            raise InvalidInput(
                f"{owner}: {where} refers to ${{params.{name}}}, but there is no parameter "
                f"{name!r}; parameters: {known}"
            )
        return values[name]

    def fill(text: str, parts: list[str | int]) -> Any:
        whole = _REFERENCE.fullmatch(text)
        if whole and whole["scope"] == "params":
            return lookup(whole["name"], parts)

        def replace(match: re.Match[str]) -> str:
            if match["scope"] != "params":
                return match[0]  # env references were filled when the config loaded
            return str(lookup(match["name"], parts))

        return _REFERENCE.sub(replace, text)

    return _walk(init_params, [], fill)


def _walk(value: Any, parts: list[str | int], fill: Callable[[str, list[str | int]], Any]) -> Any:
    """A copy of `value` with `fill(text, key_parts)` applied to every string inside it."""
    if isinstance(value, str):
        return fill(value, parts)
    if isinstance(value, dict):
        return {key: _walk(item, [*parts, key], fill) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, [*parts, index], fill) for index, item in enumerate(value)]
    return value
