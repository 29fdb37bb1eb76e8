"""Catalog entries: a model's or env's config, its API description and parameters, read once.

Inspecting an entry imports the operator's code (and for envs builds one once to read its
spaces): an entry that cannot be inspected keeps its error, and launching it says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.catalog.factory import build_env, capabilities
from ainimal_zookeeper.catalog.hub_entries import HubOrigin
from ainimal_zookeeper.config import resolve_params
from ainimal_zookeeper.errors import ModelError, ZookeeperError
from ainimal_zookeeper.sdk.parameters import Parameter, parse_parameters, validate_values


@dataclass
class CatalogEntry:
    """One model or env: its config entry, its API description and its parameters."""

    config: dict[str, Any]
    spec: dict[str, Any]
    parameters: list[Parameter] = field(default_factory=list)
    origin: HubOrigin | None = None  # the model hub it came from; None for the config's own
    #: Why it could not be inspected (its message is `spec["error"]`), for the start check.
    problem: ZookeeperError | None = None

    @property
    def name(self) -> str:
        return str(self.config["name"])

    @property
    def error(self) -> str | None:
        return self.spec.get("error")


def inspect_model(config: dict[str, Any]) -> CatalogEntry:
    spec: dict[str, Any] = {"name": config["name"], "kind": config.get("type", "ainimal"), "parameters": []}
    spec.update(description=config.get("description"), trainable=False, modes=["NONE"], checkpointable=False)
    spec.update(inputModalities=None, outputModalities=None, error=None)
    try:
        caps = capabilities(config)
        raw = config.get("create_params") or list(caps.declared_parameters)
        parameters = parse_parameters(raw, f"models[{config['name']}].parameters")
    except ZookeeperError as exc:
        spec["error"] = str(exc)
        return CatalogEntry(config, spec, problem=exc)
    spec.update(kind=caps.kind, description=caps.description, modes=list(caps.modes))
    spec.update(trainable="TRAIN" in caps.modes, checkpointable=caps.checkpointable)
    spec["parameters"] = [{**p.to_api(), "display": p.display} for p in parameters]
    if caps.file is not None:  # a model file says what it takes and gives before any launch
        spec.update(inputModalities=caps.file.input_modalities, outputModalities=caps.file.output_modalities)
        spec["architecture"] = caps.file.architecture
    return CatalogEntry(config, spec, parameters)


def inspect_env(config: dict[str, Any]) -> CatalogEntry:
    from ainimal_zookeeper.sdk.modalities import modality_from_space

    spec: dict[str, Any] = {"name": config["name"], "kind": config.get("type", "gymnasium"), "parameters": []}
    spec.update(description=config.get("description"), observationModalities=None, actionModalities=None, error=None)
    try:
        parameters = parse_parameters(config.get("create_params") or [], f"envs[{config['name']}].create_params")
        defaults = validate_values(parameters, {}, f"environment {config['name']!r}")
        env = build_env(config, init_params(CatalogEntry(config, spec, parameters), defaults))
        try:
            observations = {"observation": modality_from_space(env.observation_space)}
            actions = {"action": modality_from_space(env.action_space)}
        finally:
            env.close()
    except ZookeeperError as exc:
        spec["error"] = str(exc)
        return CatalogEntry(config, spec, problem=exc)
    except Exception as exc:  # noqa: BLE001  # the operator's env raised while being built
        spec["error"] = f"building it raised {type(exc).__name__}: {exc}"
        return CatalogEntry(config, spec, problem=ModelError(spec["error"]))
    spec.update(observationModalities=observations, actionModalities=actions)
    spec["parameters"] = [{**p.to_api(), "display": p.display} for p in parameters]
    return CatalogEntry(config, spec, parameters)


def init_params(entry: CatalogEntry, values: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments: the config's init_params with ${params.x} filled, else the values."""
    init = entry.config.get("init_params")
    if init is None:
        return dict(values)
    return resolve_params(init, values, entry.name)


def unavailable_model(name: str, why: str) -> CatalogEntry:
    """A model that is known by name but cannot be launched now (its hub could not fetch it)."""
    spec: dict[str, Any] = {"name": name, "kind": "ainimal", "parameters": [], "description": None}
    spec.update(trainable=False, modes=["NONE"], checkpointable=False, error=why)
    spec.update(inputModalities=None, outputModalities=None)
    return CatalogEntry({"name": name}, spec)
