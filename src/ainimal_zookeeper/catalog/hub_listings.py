"""Model hubs listed in the background, each on a thread of its own, never on a request's path.

Listing a hub fetches each of its models (a git clone, a download), which can take minutes,
and a hub can hang or be hostile. A request that waited for it would hold one of the server's
request threads, and a few dozen such requests would hold them all. So each hub is listed on
its own thread; its models appear in the catalog one by one as they are fetched, a model
listed but not fetched yet shows as "still being fetched", and a slow hub delays no other.

Only in the first seconds after the listing starts (`first_wait_seconds`) does a request wait,
for the hubs still on their first listing and without holding any lock, so that a server's
first `models` query shows the hubs' models. Past that it answers with what is ready.

A hub that cannot be listed, and a model that cannot be fetched for a passing reason (an
`Unavailable` whose `passing` is true: a timeout, an outage), are tried again after a pause
that doubles from `retry_seconds` to `max_retry_seconds`; the models listed before stay
meanwhile. A model refused for what it is (larger than the hub allows, a bad manifest) is not
fetched again until the hub lists another revision of it.

A hub listed in full is listed again every `refresh_seconds` (15 minutes; 0: never), so a
server left running offers the models and revisions published since: a new revision replaces
its model's entry once fetched, a model the hub no longer lists goes. Instances already running
keep the revision they were launched at.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ainimal_zookeeper.catalog.entries import CatalogEntry, unavailable_model
from ainimal_zookeeper.catalog.hub_entries import MAX_MODELS_PER_HUB, HubOrigin, read_model_folder
from ainimal_zookeeper.errors import Unavailable, ZookeeperError
from ainimal_zookeeper.ports.model_hubs import HubModel, ModelHub

log = logging.getLogger(__name__)

#: How long, from the start of the listing, a request may wait for hubs on their first listing.
FIRST_WAIT_SECONDS = 10.0
#: The first pause before a failed hub or model is tried again, and the longest.
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
#: How often a hub listed in full is listed again, for the models and revisions published since.
REFRESH_SECONDS = 900.0

Inspect = Callable[[dict[str, Any]], CatalogEntry]


@dataclass(frozen=True)
class HubsView:
    """What the hubs offer now: entries by name, the hubs still on their first listing, problems."""

    generation: int
    models: dict[str, CatalogEntry]
    envs: dict[str, CatalogEntry]
    listing: tuple[str, ...]  # labels of the hubs whose first listing has not ended
    problems: dict[str, str]  # hub label -> why it could not be listed (last try)


@dataclass
class _Hub:
    """One hub's part of the catalog, changed only by its own thread (under the listings' lock)."""

    hub: ModelHub
    listed: bool = False  # its first listing ended (in failure too: `problem` says why)
    problem: str | None = None
    models: dict[str, CatalogEntry] = field(default_factory=dict)  # entry name -> entry
    envs: dict[str, CatalogEntry] = field(default_factory=dict)
    refused: dict[tuple[str, str], str] = field(default_factory=dict)  # (model, revision) -> why
    fetched: dict[str, str] = field(default_factory=dict)  # model -> the revision its entries are of


class HubListings:
    """Lists every hub on a thread of its own (`start`), and answers what they offer (`view`).

    `inspect_model` / `inspect_env` turn a config entry into a catalog entry (they import the
    hub's code, on the hub's thread). `wait(seconds)` pauses a hub's thread between tries and
    returns True once the listings are closed (tests pass one that records the pauses).
    """

    def __init__(
        self,
        hubs: Sequence[ModelHub],
        inspect_model: Inspect,
        inspect_env: Inspect,
        *,
        first_wait_seconds: float = FIRST_WAIT_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        max_retry_seconds: float = MAX_RETRY_SECONDS,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._hubs = [_Hub(hub) for hub in hubs]
        self._inspect_model, self._inspect_env = inspect_model, inspect_env
        self.first_wait_seconds = first_wait_seconds
        self.retry_seconds, self.max_retry_seconds = retry_seconds, max_retry_seconds
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._closed = threading.Event()
        self._wait = wait or self._closed.wait
        self._changed = threading.Condition()
        self._generation = 0
        self._started_at: float | None = None
        self._view: HubsView | None = None

    def start(self) -> None:
        """Start listing every hub (once; later calls do nothing)."""
        with self._changed:
            if self._started_at is not None:
                return
            self._started_at = self._clock()
        for index, state in enumerate(self._hubs):
            name = f"zk-hub-{index}"
            threading.Thread(target=self._keep_listed, args=(state,), name=name, daemon=True).start()

    def close(self) -> None:
        """Stop retrying (a fetch under way finishes on its daemon thread)."""
        self._closed.set()

    def view(self) -> HubsView:
        """What the hubs offer now; in the first seconds after `start`, after the first listings."""
        self.start()
        with self._changed:
            assert self._started_at is not None
            deadline = self._started_at + self.first_wait_seconds
            while not all(state.listed for state in self._hubs):
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            if self._view is None or self._view.generation != self._generation:
                self._view = self._build_view()
            return self._view

    def _build_view(self) -> HubsView:
        models: dict[str, CatalogEntry] = {}
        envs: dict[str, CatalogEntry] = {}
        for state in self._hubs:
            models.update(state.models)
            envs.update(state.envs)
        listing = tuple(state.hub.label for state in self._hubs if not state.listed)
        problems = {state.hub.label: state.problem for state in self._hubs if state.problem is not None}
        return HubsView(self._generation, models, envs, listing, problems)

    # --- a hub's thread ---

    def _keep_listed(self, state: _Hub) -> None:
        """List the hub, again after failures (pausing longer after each) and every `refresh_seconds`."""
        pause = self.retry_seconds
        while not self._closed.is_set():
            try:
                settled = self._list(state)
            except Exception:  # a bug here must not end the hub's listing for good
                log.exception("model hub %s: listing failed", state.hub.label)
                settled = False
            if settled:
                if self.refresh_seconds <= 0 or self._wait(self.refresh_seconds):
                    return
                pause = self.retry_seconds  # a failure after a good listing starts the pauses afresh
            else:
                if self._wait(pause):
                    return
                pause = min(pause * 2, self.max_retry_seconds)

    def _list(self, state: _Hub) -> bool:
        """One listing of the hub; True when nothing is left to try again."""
        hub = state.hub
        try:
            offered = hub.list_models()
        except Exception as exc:  # noqa: BLE001  # a client library's own error too: the rest is served
            why = str(exc) if isinstance(exc, ZookeeperError) else f"{type(exc).__name__}: {exc}"
            if why != state.problem:  # said once, not at every try
                log.warning("model hub %s is unavailable; its models are not listed: %s", hub.label, why)
            self._update(state, problem=why, listed=True)  # its first listing ended: no one waits on it
            return False
        if len(offered) > MAX_MODELS_PER_HUB:
            log.warning(
                "model hub %s lists %d models; the first %d are used", hub.label, len(offered), MAX_MODELS_PER_HUB
            )
            offered = offered[:MAX_MODELS_PER_HUB]
        self._forget_unlisted(state, offered)
        settled = True
        for item in offered:
            settled = self._fetch(state, item) and settled
        self._update(state, listed=True)
        return settled

    def _forget_unlisted(self, state: _Hub, offered: list[HubModel]) -> None:
        """Drop the models the hub no longer lists; show those not fetched yet as on their way."""
        names = {item.name for item in offered}
        state.fetched = {name: revision for name, revision in state.fetched.items() if name in names}
        models = {k: e for k, e in state.models.items() if e.origin is None or e.origin.model in names}
        envs = {k: e for k, e in state.envs.items() if e.origin is None or e.origin.model in names}
        fetched = {e.origin.model for e in models.values() if e.origin is not None}
        for item in offered:
            if item.name not in fetched:
                why = f"model hub {state.hub.label} is still fetching it; try again in a moment"
                models[item.name] = _unavailable(state.hub, item, why)
        self._update(state, problem=None, models=models, envs=envs)

    def _fetch(self, state: _Hub, item: HubModel) -> bool:
        """Fetch and read one model; False when it failed for a passing reason."""
        hub = state.hub
        if state.fetched.get(item.name) == item.revision:
            return True  # a refresh: unchanged, so neither fetched nor its code imported again
        refused = state.refused.get((item.name, item.revision))
        if refused is not None:
            self._replace(state, item, [_unavailable(hub, item, refused)], [])
            return True
        try:
            folder = hub.fetch(item.name, item.revision)
            model_configs, env_configs = read_model_folder(folder, item.name, item.description)
            models = [self._inspect_model(config) for config in model_configs]
            envs = [self._inspect_env(config) for config in env_configs]
        except Exception as exc:  # noqa: BLE001  # one model that cannot be fetched hides no other
            why = str(exc) if isinstance(exc, ZookeeperError) else f"{type(exc).__name__}: {exc}"
            why = f"model hub {hub.label} cannot fetch it: {why.removeprefix(f'model hub {hub.label}: ')}"
            log.warning("model hub %s: model %s is unavailable: %s", hub.label, item.name, why)
            # An adapter says a passing failure with Unavailable; an error it did not foresee may pass too.
            passing = not isinstance(exc, ZookeeperError) or (isinstance(exc, Unavailable) and exc.passing)
            if not passing:
                state.refused[(item.name, item.revision)] = why
            self._replace(state, item, [_unavailable(hub, item, why)], [])
            return not passing
        origin = HubOrigin(hub, item.name, item.revision)
        before = next((e.origin for e in state.models.values() if e.origin and e.origin.model == item.name), None)
        if before is not None and before.revision != item.revision:
            log.info("model hub %s: model %s is now at revision %s", hub.label, item.name, item.revision)
        for entry in (*models, *envs):
            entry.origin = origin
        for entry in models:
            entry.spec["source"] = origin.source
        self._replace(state, item, models, envs)
        state.fetched[item.name] = item.revision
        return True

    def _replace(self, state: _Hub, item: HubModel, models: list[CatalogEntry], envs: list[CatalogEntry]) -> None:
        """`item`'s entries become `models` and `envs` (a fetch's, or one saying why it failed)."""

        def others(entries: dict[str, CatalogEntry]) -> dict[str, CatalogEntry]:
            return {k: e for k, e in entries.items() if e.origin is None or e.origin.model != item.name}

        self._update(
            state,
            models=others(state.models) | {entry.name: entry for entry in models},
            envs=others(state.envs) | {entry.name: entry for entry in envs},
        )

    def _update(self, state: _Hub, **changes: Any) -> None:
        """Apply a hub's changes at once, and wake the requests waiting for them."""
        with self._changed:
            for name, value in changes.items():
                setattr(state, name, value)
            self._generation += 1
            self._changed.notify_all()


def _unavailable(hub: ModelHub, item: HubModel, why: str) -> CatalogEntry:
    """A hub model that cannot be launched now, listed with why (and where it comes from)."""
    entry = unavailable_model(item.name, why)
    entry.origin = HubOrigin(hub, item.name, item.revision)
    entry.spec["source"] = entry.origin.source
    return entry
