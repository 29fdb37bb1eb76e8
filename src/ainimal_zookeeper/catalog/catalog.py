"""The catalog: the models and environments this server offers, as the API shows them.

Inspecting an entry imports the operator's code (and for envs builds one once to read its
spaces), so it happens lazily and once; an entry that cannot be inspected stays listed with
its error, and launching it says why it cannot start. The model hubs' entries come from
`HubListings`, which lists each hub on a thread of its own: a slow hub never holds a request.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ainimal_zookeeper.catalog.entries import CatalogEntry, init_params, inspect_env, inspect_model
from ainimal_zookeeper.catalog.hub_listings import FIRST_WAIT_SECONDS, REFRESH_SECONDS, HubListings
from ainimal_zookeeper.catalog.hubs import scan_local_folder
from ainimal_zookeeper.catalog.model_files.fit import check_file_fits_env
from ainimal_zookeeper.errors import InvalidInput, NotFound, ZookeeperError
from ainimal_zookeeper.ports.model_hubs import ModelHub
from ainimal_zookeeper.sdk.parameters import validate_values

__all__ = ["Catalog", "CatalogEntry", "LaunchPlan"]


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
        hub_wait_seconds: float = FIRST_WAIT_SECONDS,
        hub_refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        """`hub_wait_seconds`: how long after the hubs' listing starts a request still waits for
        hubs on their first listing; `hub_refresh_seconds`: how often they are listed again
        (`HubListings`)."""
        self._model_configs, self._env_configs, self._hubs = models, envs, hubs
        self.hub_listings = HubListings(
            model_hubs,
            inspect_model,
            inspect_env,
            first_wait_seconds=hub_wait_seconds,
            refresh_seconds=hub_refresh_seconds,
        )
        self._own: tuple[list[CatalogEntry], list[CatalogEntry]] | None = None
        self._local: tuple[dict[str, CatalogEntry], dict[str, CatalogEntry]] | None = None
        # (hub listings' generation, models, envs): the merged entries, rebuilt when a hub changed
        self._merged: tuple[int, dict[str, CatalogEntry], dict[str, CatalogEntry]] | None = None
        self._lock = threading.RLock()

    def start_hubs(self) -> None:
        """Start listing the model hubs in the background (else the first query starts it)."""
        self.hub_listings.start()

    @property
    def hub_problems(self) -> dict[str, str]:
        """Hub label -> why it could not be listed (at its last try)."""
        return self.hub_listings.view().problems

    def config_entries(self) -> tuple[list[CatalogEntry], list[CatalogEntry]]:
        """The config's own models and envs (not the hubs'), inspected once, in config order.

        What the start check (catalog/validation.py) looks at: hub models may come and go.
        """
        with self._lock:
            if self._own is None:
                models = [inspect_model(c) for c in self._model_configs]
                self._own = (models, [inspect_env(c) for c in self._env_configs])
            return self._own

    def models(self) -> list[CatalogEntry]:
        """Every model entry, in config order then hub order."""
        return list(self._entries()[0].values())

    def environments(self) -> list[CatalogEntry]:
        """Every environment entry."""
        return list(self._entries()[1].values())

    def model(self, name: str) -> CatalogEntry:
        """The model called `name`; `NotFound` lists the names there are."""
        models = self._entries()[0]
        if name not in models:
            raise self._unknown("model", name, models)
        return models[name]

    def environment(self, name: str) -> CatalogEntry:
        """The environment called `name`; `NotFound` lists the names there are."""
        envs = self._entries()[1]
        if name not in envs:
            raise self._unknown("environment", name, envs)
        return envs[name]

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
        for entry in (model_entry, env_entry):
            if entry is not None and entry.error:
                raise InvalidInput(f"{entry.name!r} cannot be launched: {entry.error}")
        if model_entry.origin is not None:  # only a model its hub fetched: the cache answers
            _refetch(model_entry)
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
            init_params=init_params(model_entry, values),
            env_init_params=init_params(env_entry, env_values) if env_entry else {},
        )

    def _entries(self) -> tuple[dict[str, CatalogEntry], dict[str, CatalogEntry]]:
        """(models, envs) by name: the config's own, then the local folders', then the hubs'.

        Holds no lock while hubs are listed: `HubListings.view` answers from what is ready."""
        hubs = self.hub_listings.view()
        with self._lock:
            merged = self._merged
            if merged is not None and merged[0] == hubs.generation:
                return merged[1], merged[2]
            own_models, own_envs = self.config_entries()
            local_models, local_envs = self._local_folders()
            # A hub entry named like one of the config's replaces it (as when all were one list).
            models = {e.name: e for e in own_models} | local_models | hubs.models
            envs = {e.name: e for e in own_envs} | local_envs | hubs.envs
            self._merged = (hubs.generation, models, envs)
            return models, envs

    def _local_folders(self) -> tuple[dict[str, CatalogEntry], dict[str, CatalogEntry]]:
        """The entries of the `hubs` folders, scanned once (under the lock: they are local files)."""
        if self._local is None:
            models: list[dict[str, Any]] = []
            envs: list[dict[str, Any]] = []
            for hub in self._hubs:
                hub_models, hub_envs = scan_local_folder(hub["root"])
                models += hub_models
                envs += hub_envs
            self._local = (
                {c["name"]: inspect_model(c) for c in models},
                {c["name"]: inspect_env(c) for c in envs},
            )
        return self._local

    def _unknown(self, what: str, name: str, known: dict[str, CatalogEntry]) -> NotFound:
        hubs = self.hub_listings.view()
        still = (
            f"; model hubs still being listed: {', '.join(hubs.listing)} (try again in a moment)"
            if hubs.listing
            else ""
        )
        if hubs.problems:
            still += f"; model hubs that could not be listed (tried again): {', '.join(hubs.problems)}"
        return NotFound(f"unknown {what} {name!r}; known: {', '.join(sorted(known)) or 'none'}{still}")


def _refetch(entry: CatalogEntry) -> None:
    """Make sure a hub model's files are there before a launch (the cache answers; else a fetch)."""
    assert entry.origin is not None
    try:
        entry.origin.hub.fetch(entry.origin.model, entry.origin.revision)
    except ZookeeperError as exc:
        raise InvalidInput(f"{entry.name!r} cannot be launched: {exc}") from None
