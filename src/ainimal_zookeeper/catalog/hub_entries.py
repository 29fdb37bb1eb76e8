"""Catalog entries for the models of model hubs: list each hub, fetch each model, read its folder.

A fetched model folder offers models in one of two ways:

* an `ainimal.yaml` at its top: one model entry with the same keys as a `models:` entry of the
  config (`name` defaults to the hub's name for the model; `path` is relative to the folder and
  must stay inside it);
* otherwise every AInimal (and Env) subclass in its *.py files, named after the class.

Hubs are listed in the background (`hub_listings.py`): a hub that cannot be reached is logged
and its models are listed as unavailable while the server serves the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ainimal_zookeeper.catalog.hubs import scan_local_folder
from ainimal_zookeeper.ports.model_hubs import ModelHub

log = logging.getLogger(__name__)

#: The file naming a hub model's entry.
MANIFEST_NAME = "ainimal.yaml"
#: A manifest is a few keys; anything larger is refused before parsing.
MAX_MANIFEST_BYTES = 64 * 1024
#: Models taken from one hub's listing (the rest are logged as skipped).
MAX_MODELS_PER_HUB = 50


@dataclass(frozen=True)
class HubOrigin:
    """Where a catalog entry came from: the hub, the model's name there and its revision."""

    hub: ModelHub
    model: str
    revision: str

    @property
    def source(self) -> str:
        return f"{self.hub.label}#{self.model}@{self.revision}"


def read_model_folder(
    folder: Path, name: str, description: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Model and env entries of a fetched folder: its ainimal.yaml, else its classes."""
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        return [read_manifest(manifest, name, description)], []
    return scan_local_folder(folder)


def read_manifest(manifest: Path, name: str, description: str | None) -> dict[str, Any]:
    """The model entry an ainimal.yaml describes, validated like a config's model entry.

    Raises:
        ConfigError: the file is too large, not YAML, not a mapping, or its keys are wrong.
    """
    from pydantic import ValidationError

    from ainimal_zookeeper.config.model import ModelConfig
    from ainimal_zookeeper.errors import ConfigError

    if manifest.stat().st_size > MAX_MANIFEST_BYTES:
        raise ConfigError(f"{manifest.name} is larger than {MAX_MANIFEST_BYTES} bytes; expected a few model keys")
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{manifest.name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{manifest.name} must be a mapping of model keys (type, path, class_name, ...)")
    data.setdefault("name", name)
    if description and not data.get("description"):
        data["description"] = description
    root = manifest.parent.resolve()
    try:
        entry = ModelConfig.model_validate(data, context={"base_dir": root}).model_dump()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigError(f"{manifest.name}: {problems}") from None
    path = entry.get("path")
    if path and not Path(path).resolve().is_relative_to(root):
        raise ConfigError(
            f"{manifest.name}: path {data.get('path')!r} leaves the model's folder; expected a file inside it"
        )
    return entry
