"""Check the config's own catalog entries when the server starts.

A wrong `path`, a `class_name` typo, an unknown gymnasium id or an env that cannot be built
stops the server with one line per problem: the config file, the key (`models[2].class_name`),
what is wrong and the fix. With `catalog.lenient: true` the server starts anyway and the entry
is listed with that line as its `error` (as a hub's unavailable model is), so it cannot be
launched. Models of model hubs are not checked here: a hub that fails is logged and marked.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
from gymnasium.envs.registration import find_highest_version, parse_env_id

from ainimal_zookeeper.catalog.catalog import Catalog, CatalogEntry
from ainimal_zookeeper.catalog.faults import EntryFault
from ainimal_zookeeper.catalog.sources import import_file
from ainimal_zookeeper.catalog.wrappers import PLAIN_METHOD_KEYS
from ainimal_zookeeper.errors import ConfigError, ZookeeperError
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.parameters import parse_parameters

log = logging.getLogger(__name__)

#: The fix when nothing more precise can be said.
GENERIC_FIX = "correct the entry (docs/configuration.md describes its keys) or remove it"
#: Model types read from a file: no class to look for.
_FILE_TYPES = ("onnx", "keras", "torchscript", "torch_export", "tflite", "tensorflow")


@dataclass(frozen=True)
class EntryProblem:
    """One unusable entry: its key path in the config, its name, what is wrong and the fix."""

    key: str
    name: str
    problem: str
    fix: str

    def line(self, source: str) -> str:
        """The problem as the start refusal prints it."""
        return f"{source}: {self.key} ({self.name!r}): {self.problem}; fix: {self.fix}"

    def marking(self) -> str:
        """The problem as the catalog shows it on the entry."""
        return f"{self.key}: {self.problem}; fix: {self.fix}"


def check_catalog(catalog: Catalog, source: str, lenient: bool) -> list[EntryProblem]:
    """Inspect the config's own entries; refuse a bad one, or mark it when `lenient`.

    Returns:
        The problems found (marked on their entries; empty when every entry is usable).

    Raises:
        ConfigError: an entry cannot be used and `lenient` is false; one line per problem.
    """
    models, envs = catalog.config_entries()
    found = [(e, diagnose(f"models[{i}]", e, "model")) for i, e in enumerate(models) if e.error]
    found += [(e, diagnose(f"envs[{i}]", e, "env")) for i, e in enumerate(envs) if e.error]
    found += [(e, p) for i, e in enumerate(models) if not e.error for p in _method_name_problems(i, e)]
    if found and not lenient:
        lines = [problem.line(source) for _, problem in found]
        lines.append(
            f"{source}: the server does not start with {'this entry' if len(found) == 1 else 'these entries'}; "
            "fix them, or set catalog.lenient: true to start with them marked unavailable in the catalog"
        )
        raise ConfigError("\n".join(lines))
    for entry, problem in found:
        log.warning("catalog entry unavailable (catalog.lenient): %s", problem.line(source))
        entry.spec["error"] = problem.marking()
    return [problem for _, problem in found]


def diagnose(key: str, entry: CatalogEntry, what: str) -> EntryProblem:
    """Which key of a failed entry to change, and how."""
    fault = entry.problem
    if isinstance(fault, EntryFault):
        return EntryProblem(f"{key}.{fault.key}" if fault.key else key, entry.name, fault.problem, fault.fix)
    try:
        found = _static_problem(key, entry.config, what)
    except Exception as exc:  # noqa: BLE001  # diagnosing must not hide the entry's own error
        log.debug("could not diagnose %s: %s", key, exc)
        found = None
    if found is not None:
        return EntryProblem(found[0], entry.name, found[1], found[2])
    return EntryProblem(key, entry.name, entry.error or "it cannot be inspected", GENERIC_FIX)


def _static_problem(key: str, config: dict[str, Any], what: str) -> tuple[str, str, str] | None:
    """(key, problem, fix) for the first thing found wrong without building anything."""
    kind = config.get("type")
    if what == "env" and kind == "gymnasium" and not config.get("path"):
        return _gymnasium_id_problem(key, str(config.get("env_name")))
    for field in ("path", "weights"):
        value = config.get(field)
        if value and not Path(value).is_file():
            return f"{key}.{field}", f"no such file {value}", _path_fix(Path(value))
    if kind in _FILE_TYPES or not config.get("path") or not config.get("class_name"):
        return None
    path, class_name = str(config["path"]), str(config["class_name"])
    try:
        module = import_file(path)
    except ZookeeperError as exc:
        return (
            f"{key}.path",
            str(exc),
            f"fix the error in {Path(path).name}: the server imports it to find {class_name}",
        )
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        classes = sorted(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
        close = difflib.get_close_matches(class_name, classes, n=1)
        if close:
            fix = f"did you mean class_name: {close[0]}?"
        else:
            fix = f"use one of the classes there: {', '.join(classes)}" if classes else "define the class in that file"
        return f"{key}.class_name", f"{Path(path).name} has no class {class_name!r}", fix
    if what == "model" and kind == "ainimal" and not issubclass(cls, AInimal):
        return (
            f"{key}.type",
            f"{class_name} does not subclass ainimal_zookeeper.AInimal",
            "declare type: python_class (a plain class with act), or subclass ainimal_zookeeper.AInimal",
        )
    try:
        parse_parameters(config.get("create_params") or [], f"{key}.create_params")
    except ZookeeperError as exc:
        return f"{key}.create_params", str(exc), "see docs/configuration.md for the keys of a parameter"
    return None


def _method_name_problems(index: int, entry: CatalogEntry) -> list[EntryProblem]:
    """A python_class model whose configured method names (act_func, ...) are not its methods.

    Such a model inspects fine (it just cannot act or train), so a typo would go unnoticed.
    """
    config = entry.config
    if config.get("type") != "python_class" or not config.get("path") or not config.get("class_name"):
        return []
    try:
        cls = getattr(import_file(str(config["path"])), str(config["class_name"]))
    except Exception:  # noqa: BLE001  # inspected fine a moment ago; nothing more to say
        return []
    problems = []
    methods = sorted(n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n, None)))
    for key, default in PLAIN_METHOD_KEYS.values():
        name = config.get(key)
        if not name or name == default or callable(getattr(cls, name, None)):
            continue
        close = difflib.get_close_matches(str(name), methods, n=1)
        fix = (
            f"did you mean {key}: {close[0]}?" if close else f"name one of its methods: {', '.join(methods) or 'none'}"
        )
        problems.append(
            EntryProblem(f"models[{index}].{key}", entry.name, f"{cls.__name__} has no method {name!r}", fix)
        )
    return problems


def _gymnasium_id_problem(key: str, env_id: str) -> tuple[str, str, str] | None:
    module, _, name = env_id.rpartition(":")
    where = f"{key}.env_name"
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return (
                where,
                f"cannot import {module!r} to register {name!r}: {exc}",
                "install the package that registers it",
            )
    if name in gymnasium.registry:
        return None
    try:
        namespace, base, version = parse_env_id(name)
    except gymnasium.error.Error as exc:
        return where, str(exc), "write a gymnasium id such as CartPole-v1"
    if version is None and find_highest_version(namespace, base) is not None:
        return None  # unversioned: gymnasium makes the latest version
    close = difflib.get_close_matches(name, list(gymnasium.registry), n=3)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (
        where,
        f"gymnasium has no registered environment {name!r}",
        f"{hint}gymnasium.pprint_registry() lists the ids; one from another package is written 'package:Id-v0'",
    )


def _path_fix(file: Path) -> str:
    folder = file.parent
    if folder.is_dir():
        names = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        close = difflib.get_close_matches(file.name, names, n=1)
        if close:
            return f"did you mean {folder / close[0]}?"
    return "point it at an existing file (a relative path starts from the config file's folder)"


__all__ = ["GENERIC_FIX", "EntryProblem", "check_catalog", "diagnose"]
