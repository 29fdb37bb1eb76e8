"""The catalog: the models and environments this server offers, as the API shows them.

Inspecting an entry imports the operator's code (and for envs builds one once to read its
spaces), so it happens lazily and once; an entry that cannot be inspected stays listed with
its error, and launching it says why it cannot start.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.catalog.factory import build_env, capabilities
from ainimal_zookeeper.catalog.hub_entries import HubListing, HubOrigin, list_hubs
from ainimal_zookeeper.catalog.hubs import scan_local_folder
from ainimal_zookeeper.catalog.model_files.fit import check_file_fits_env
from ainimal_zookeeper.config import resolve_params
from ainimal_zookeeper.errors import InvalidInput, ModelError, NotFound, ZookeeperError
from ainimal_zookeeper.ports.model_hubs import ModelHub
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


@dataclass(frozen=True)
class LaunchPlan:
    """A launch request checked against the catalog: what the worker will build."""

    model: CatalogEntry
    environment: CatalogEntry | None
    parameters: dict[str, Any]
    environment_parameters: dict[str, Any]
    init_params: dict[str, Any]
    env_init_params: dict[str, Any]


class Catalog:
    """Models and envs from the config and its model hubs, inspected on first use."""

    def __init__(
        self,
        models: list[dict[str, Any]],
        envs: list[dict[str, Any]],
        hubs: list[dict[str, Any]],
        model_hubs: Sequence[ModelHub] = (),
    ) -> None:
        self._model_configs, self._env_configs, self._hubs = models, envs, hubs
        self._model_hubs = list(model_hubs)
        self.hub_problems: dict[str, str] = {}  # hub label -> why it could not be listed
        self._models: dict[str, CatalogEntry] | None = None
        self._envs: dict[str, CatalogEntry] | None = None
        self._own: tuple[list[CatalogEntry], list[CatalogEntry]] | None = None
        self._lock = threading.RLock()

    def config_entries(self) -> tuple[list[CatalogEntry], list[CatalogEntry]]:
        """The config's own models and envs (not the hubs'), inspected once, in config order.

        What the start check (catalog/validation.py) looks at: hub models may come and go.
        """
        with self._lock:
            if self._own is None:
                models = [_inspect_model(c) for c in self._model_configs]
                self._own = (models, [_inspect_env(c) for c in self._env_configs])
            return self._own

    def models(self) -> list[CatalogEntry]:
        """Every model entry, in config order then hub order."""
        self._inspect()
        assert self._models is not None
        return list(self._models.values())

    def environments(self) -> list[CatalogEntry]:
        """Every environment entry."""
        self._inspect()
        assert self._envs is not None
        return list(self._envs.values())

    def model(self, name: str) -> CatalogEntry:
        """The model called `name`; `NotFound` lists the names there are."""
        return _lookup({e.name: e for e in self.models()}, name, "model")

    def environment(self, name: str) -> CatalogEntry:
        """The environment called `name`; `NotFound` lists the names there are."""
        return _lookup({e.name: e for e in self.environments()}, name, "environment")

    def plan_launch(
        self,
        model: str,
        environment: str | None,
        parameters: dict[str, Any] | None,
        env_parameters: dict[str, Any] | None,
    ) -> LaunchPlan:
        """Check a launch request before any process starts.

        Raises:
            NotFound: unknown model or environment.
            InvalidInput: bad parameters, or an entry that could not be inspected.
        """
        model_entry = self.model(model)
        env_entry = self.environment(environment) if environment else None
        if model_entry.origin is not None:
            _refetch(model_entry)
        for entry in (model_entry, env_entry):
            if entry is not None and entry.error:
                raise InvalidInput(f"{entry.name!r} cannot be launched: {entry.error}")
        if env_entry is not None:
            check_file_fits_env(model_entry.spec, env_entry.spec)
        values = validate_values(model_entry.parameters, parameters, f"model {model!r}")
        env_values = (
            validate_values(env_entry.parameters, env_parameters, f"environment {environment!r}") if env_entry else {}
        )
        return LaunchPlan(
            model=model_entry,
            environment=env_entry,
            parameters=values,
            environment_parameters=env_values,
            init_params=_init_params(model_entry, values),
            env_init_params=_init_params(env_entry, env_values) if env_entry else {},
        )

    def _inspect(self) -> None:
        with self._lock:
            if self._models is not None:
                return
            own_models, own_envs = self.config_entries()
            models: list[dict[str, Any]] = []
            envs: list[dict[str, Any]] = []
            for hub in self._hubs:
                hub_models, hub_envs = scan_local_folder(hub["root"])
                models += hub_models
                envs += hub_envs
            listing = list_hubs(self._model_hubs) if self._model_hubs else None
            if listing is not None:
                models += listing.models
                envs += listing.envs
                self.hub_problems = dict(listing.problems)
            # A hub entry named like one of the config's replaces it (as when all were one list).
            self._envs = {e.name: e for e in own_envs} | {c["name"]: _inspect_env(c) for c in envs}
            self._models = {e.name: e for e in own_models} | {c["name"]: _inspect_model(c) for c in models}
            if listing is not None:
                _mark_hub_models(self._models, listing)


def _inspect_model(config: dict[str, Any]) -> CatalogEntry:
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


def _inspect_env(config: dict[str, Any]) -> CatalogEntry:
    from ainimal_zookeeper.sdk.modalities import modality_from_space

    spec: dict[str, Any] = {"name": config["name"], "kind": config.get("type", "gymnasium"), "parameters": []}
    spec.update(description=config.get("description"), observationModalities=None, actionModalities=None, error=None)
    try:
        parameters = parse_parameters(config.get("create_params") or [], f"envs[{config['name']}].create_params")
        defaults = validate_values(parameters, {}, f"environment {config['name']!r}")
        env = build_env(config, _init_params(CatalogEntry(config, spec, parameters), defaults))
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


def _init_params(entry: CatalogEntry, values: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments: the config's init_params with ${params.x} filled, else the values."""
    init = entry.config.get("init_params")
    if init is None:
        return dict(values)
    return resolve_params(init, values, entry.name)


def _lookup(entries: dict[str, CatalogEntry], name: str, what: str) -> CatalogEntry:
    if name not in entries:
        raise NotFound(f"unknown {what} {name!r}; known: {', '.join(sorted(entries)) or 'none'}")
    return entries[name]


def _mark_hub_models(models: dict[str, CatalogEntry], listing: HubListing) -> None:
    """Show each hub model's source, and why one that could not be fetched is unavailable."""
    for name, why in listing.unavailable.items():
        if name not in models:
            spec: dict[str, Any] = {"name": name, "kind": "ainimal", "parameters": [], "description": None}
            spec.update(trainable=False, modes=["NONE"], checkpointable=False, error=why)
            spec.update(inputModalities=None, outputModalities=None)
            models[name] = CatalogEntry({"name": name}, spec)
    for name, origin in listing.origins.items():
        entry = models.get(name)
        if entry is not None:
            entry.origin = origin
            entry.spec["source"] = origin.source


def _refetch(entry: CatalogEntry) -> None:
    """Make sure a hub model's files are there before a launch (the cache answers; else a fetch)."""
    assert entry.origin is not None
    try:
        entry.origin.hub.fetch(entry.origin.model, entry.origin.revision)
    except ZookeeperError as exc:
        raise InvalidInput(f"{entry.name!r} cannot be launched: {exc}") from None
