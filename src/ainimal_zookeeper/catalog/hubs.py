"""Model hubs: places the catalog scans for AInimals and envs (a local folder for now)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ainimal_zookeeper.catalog.sources import import_file
from ainimal_zookeeper.errors import ModelError
from ainimal_zookeeper.sdk.ainimal import AInimal
from ainimal_zookeeper.sdk.env import Env

log = logging.getLogger(__name__)


def scan_local_folder(root: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Model and env entries for every AInimal / Env subclass defined in root's *.py files.

    Files that fail to import are logged and skipped: one broken file must not hide the rest.
    """
    models: list[dict[str, Any]] = []
    envs: list[dict[str, Any]] = []
    for path in sorted(Path(root).rglob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            module = import_file(path)
        except ModelError as exc:
            log.warning("model hub %s: skipped %s: %s", root, path.name, exc)
            continue
        for name, value in vars(module).items():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            entry = {"name": name, "type": "ainimal", "path": str(path), "class_name": name}
            if issubclass(value, AInimal):
                models.append(entry)
            elif issubclass(value, Env):
                envs.append(entry)
    return models, envs
