"""Model hubs are listed in the background: a hub that hangs or fails holds no request, and is tried again.

The hubs here are in-memory stand-ins over real folders, each gated by an event so that a test
decides when a listing or a fetch answers. Retry pauses go through an injected `wait`, which
records them and returns at once, so a test runs through many retry periods without sleeping.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.entries import inspect_env, inspect_model
from ainimal_zookeeper.catalog.hub_listings import HubListings
from ainimal_zookeeper.errors import InvalidInput, NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel
from hub_support import MODEL_FILES, write_files

#: Long enough for any of these tests; a gate left shut past it fails the test instead of hanging it.
GATE_SECONDS = 30.0
CONFIG_MODEL = {"name": "Own", "type": "ainimal", "path": "", "class_name": "Own"}


class GatedHub:
    """A hub over folders whose listing and fetches wait for the test to open their gates."""

    git_backed = False

    def __init__(self, label: str, folders: dict[str, Path]) -> None:
        self.label, self.folders = label, folders
        self.list_gate, self.fetch_gates = threading.Event(), {name: threading.Event() for name in folders}
        self.list_gate.set()
        for gate in self.fetch_gates.values():
            gate.set()
        self.list_failures: list[Exception] = []  # raised by the next listings, one each
        self.fetch_failures: dict[str, list[Exception]] = {}
        self.lists = 0
        self.fetches: dict[str, int] = dict.fromkeys(folders, 0)
        self.revisions: dict[str, str] = {}  # model -> the revision listed (r1 when not named)

    def list_models(self) -> list[HubModel]:
        self.lists += 1
        assert self.list_gate.wait(GATE_SECONDS), "the test never opened the listing's gate"
        if self.list_failures:
            raise self.list_failures.pop(0)
        return [HubModel(name, self.revisions.get(name, "r1"), None) for name in self.folders]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        self.fetches[model] = self.fetches.get(model, 0) + 1
        gate = self.fetch_gates.get(model)
        assert gate is None or gate.wait(GATE_SECONDS), f"the test never opened {model}'s gate"
        failures = self.fetch_failures.get(model)
        if failures:
            raise failures.pop(0)
        return self.folders[model]


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """Two model folders, `pusher` and `pusher2`, with the same files (a manifest takes the hub's name)."""
    made = {}
    for name in ("pusher", "pusher2"):
        write_files(tmp_path / name, MODEL_FILES)
        made[name] = tmp_path / name
    return made


@pytest.fixture
def own_model(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "own.py").write_text(
        "from ainimal_zookeeper import AInimal\nclass Own(AInimal):\n    def forward(self, inputs):\n        return {'action': 0}\n"
    )
    return {**CONFIG_MODEL, "path": str(tmp_path / "own.py")}


def wait_for(condition, what: str) -> None:
    done = threading.Event()
    for _ in range(int(GATE_SECONDS / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_hub_that_hangs_while_listing_holds_no_request_and_its_models_come_once_it_answers(folders, own_model):
    hub = GatedHub("test:slow", folders)
    hub.list_gate.clear()
    catalog = Catalog([own_model], [], [], model_hubs=[hub], hub_wait_seconds=0.05)
    catalog.start_hubs()
    # Sixty requests at once, more than a server has request threads: every one is answered
    # while the hub still hangs, each with the config's own model.
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda _: [e.name for e in catalog.models()], range(60)))
    assert answers == [["Own"]] * 60 and not hub.list_gate.is_set()
    with pytest.raises(NotFound, match=r"unknown model 'pusher'; known: Own; model hubs still being listed: test:slow"):
        catalog.plan_launch("pusher", None, None, None)
    assert catalog.plan_launch("Own", None, None, None).model.name == "Own"  # launches meanwhile

    hub.list_gate.set()
    wait_for(lambda: {e.name for e in catalog.models()} == {"Own", "pusher", "pusher2"}, "the hub's models")
    assert catalog.model("pusher").spec["source"] == "test:slow#pusher@r1"
    assert catalog.model("pusher").spec["error"] is None
    catalog.hub_listings.close()


def test_a_model_still_being_fetched_is_listed_as_such_and_the_hubs_other_models_are_ready(folders):
    hub = GatedHub("test:half", folders)
    hub.fetch_gates["pusher2"].clear()
    catalog = Catalog([], [], [], model_hubs=[hub], hub_wait_seconds=0.05)
    catalog.start_hubs()
    wait_for(lambda: "pusher" in names(catalog) and catalog.model("pusher").spec["error"] is None, "pusher")
    assert catalog.model("pusher2").spec["error"] == ("model hub test:half is still fetching it; try again in a moment")
    with pytest.raises(InvalidInput, match="'pusher2' cannot be launched: model hub test:half is still fetching it"):
        catalog.plan_launch("pusher2", None, None, None)
    assert hub.fetches["pusher2"] == 1  # the refused launch did not fetch it a second time
    hub.fetch_gates["pusher2"].set()
    wait_for(lambda: catalog.model("pusher2").spec["error"] is None, "pusher2 fetched")
    assert catalog.plan_launch("pusher2", None, None, None).model.config["class_name"] == "HubPusher"
    catalog.hub_listings.close()


def names(catalog: Catalog) -> set[str]:
    return {e.name for e in catalog.models()}


def listings(hub: GatedHub, pauses: list[float], **settings: float) -> HubListings:
    """Listings of `hub` whose retry pauses are recorded in `pauses` instead of slept."""

    def wait(seconds: float) -> bool:
        pauses.append(seconds)
        return False

    return HubListings([hub], inspect_model, inspect_env, wait=wait, refresh_seconds=0, **settings)


def test_a_hub_that_cannot_be_listed_is_tried_again_with_pauses_doubling_to_a_cap_and_recovers(folders, caplog):
    hub = GatedHub("test:down", folders)
    hub.list_failures = [Unavailable("model hub test:down: connection refused") for _ in range(7)]
    pauses: list[float] = []
    hubs = listings(hub, pauses, first_wait_seconds=GATE_SECONDS, retry_seconds=5.0, max_retry_seconds=60.0)
    hubs.start()
    wait_for(lambda: set(hubs.view().models) == {"pusher", "pusher2"}, "the hub to recover")
    assert pauses == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0] and hub.lists == 8
    assert hubs.view().problems == {}
    # The same failure seven times is logged once.
    assert caplog.text.count("model hub test:down is unavailable") == 1


def test_models_listed_before_stay_while_the_hub_fails_and_a_lost_model_is_fetched_again(folders):
    hub = GatedHub("test:flaky", folders)
    hub.fetch_failures["pusher2"] = [Unavailable("model hub test:flaky: timed out")]
    pauses: list[float] = []
    # A hub model that failed for a passing reason makes the hub listed again; that listing fails
    # twice (the models fetched before stay listed meanwhile), then fetches pusher2.
    seen_during_outage: list[set[str]] = []

    def wait(seconds: float) -> bool:
        pauses.append(seconds)
        if len(pauses) == 1:
            hub.list_failures = [Unavailable("model hub test:flaky: down"), Unavailable("model hub test:flaky: down")]
        else:
            view = hubs.view()
            seen_during_outage.append({name for name, e in view.models.items() if e.error is None})
        return False

    hubs = HubListings([hub], inspect_model, inspect_env, first_wait_seconds=GATE_SECONDS, wait=wait, refresh_seconds=0)
    hubs.start()
    wait_for(lambda: all(e.error is None for e in hubs.view().models.values()) and len(pauses) == 3, "recovery")
    assert seen_during_outage == [{"pusher"}, {"pusher"}]
    # pusher, fetched in the first listing, is not fetched again: its revision did not change.
    assert hub.fetches == {"pusher": 1, "pusher2": 2} and pauses == [5.0, 10.0, 20.0]


def test_a_model_refused_for_what_it_is_is_not_fetched_again_while_its_revision_stays(folders):
    too_large = Unavailable("model hub test:mixed: model 'pusher' is larger than this hub allows")
    too_large.passing = False
    hub = GatedHub("test:mixed", folders)
    hub.fetch_failures = {
        "pusher": [too_large],
        "pusher2": [Unavailable("model hub test:mixed: timed out") for _ in range(3)],
    }
    pauses: list[float] = []
    hubs = listings(hub, pauses, first_wait_seconds=GATE_SECONDS)
    hubs.start()
    wait_for(lambda: hubs.view().models["pusher2"].error is None, "pusher2 after three timeouts")
    assert hub.fetches == {"pusher": 1, "pusher2": 4} and len(pauses) == 3
    assert hubs.view().models["pusher"].error == (
        "model hub test:mixed cannot fetch it: model 'pusher' is larger than this hub allows"
    )


def test_a_bad_manifest_is_refused_once_and_a_client_librarys_own_error_is_tried_again(folders):
    (folders["pusher"] / "ainimal.yaml").write_text("- not a mapping\n")
    hub = GatedHub("test:odd", folders)
    hub.fetch_failures = {"pusher2": [ConnectionResetError("peer reset")]}
    pauses: list[float] = []
    hubs = listings(hub, pauses, first_wait_seconds=GATE_SECONDS)
    hubs.start()
    wait_for(lambda: hubs.view().models["pusher2"].error is None, "pusher2 after the reset")
    assert hub.fetches == {"pusher": 1, "pusher2": 2} and pauses == [5.0]
    assert "must be a mapping" in (hubs.view().models["pusher"].error or "")


def test_closing_the_listings_stops_the_retries_of_a_hub_that_never_answers(folders):
    hub = GatedHub("test:gone", folders)
    hub.list_failures = [Unavailable("model hub test:gone: no route") for _ in range(1000)]
    hubs = HubListings(
        [hub], inspect_model, inspect_env, first_wait_seconds=0, retry_seconds=0.01, max_retry_seconds=0.02
    )
    hubs.start()
    # Real pauses this time (a hundredth of a second, doubling to two): many periods pass.
    wait_for(lambda: hub.lists >= 10, "ten tries")
    assert hubs.view().problems == {"test:gone": "model hub test:gone: no route"}
    hubs.close()
    tries = hub.lists
    threading.Event().wait(0.2)  # ten retry periods: a thread still retrying would try again
    assert hub.lists <= tries + 1


def test_a_hub_listed_in_full_is_listed_again_and_offers_what_was_published_since(folders):
    hub = GatedHub("test:live", {"pusher": folders["pusher"]})
    pauses: list[float] = []

    def wait(seconds: float) -> bool:  # each refresh period passes at once; the hub changes meanwhile
        pauses.append(seconds)
        if len(pauses) == 1:
            hub.revisions["pusher"] = "r2"  # a new revision of a model, and a new model
            hub.folders["pusher2"] = folders["pusher2"]
        elif len(pauses) == 3:
            del hub.folders["pusher2"]  # gone from the hub
        return len(pauses) == 4  # then the listings close

    hubs = HubListings([hub], inspect_model, inspect_env, first_wait_seconds=GATE_SECONDS, wait=wait)
    hubs.start()
    wait_for(lambda: len(pauses) == 4, "four refresh periods")
    assert pauses == [900.0] * 4 and hub.lists == 4
    view = hubs.view()
    assert set(view.models) == {"pusher"} and view.models["pusher"].spec["source"] == "test:live#pusher@r2"
    # r1, then r2; pusher2 once although listed twice: an unchanged revision is not fetched again.
    assert hub.fetches == {"pusher": 2, "pusher2": 1}


def test_a_hub_that_could_not_be_listed_is_not_waited_for_and_an_unknown_model_says_so(folders, own_model):
    hub = GatedHub("test:refusing", folders)
    hub.list_failures = [Unavailable("model hub test:refusing: connection refused") for _ in range(100)]
    catalog = Catalog([own_model], [], [], model_hubs=[hub], hub_wait_seconds=GATE_SECONDS)
    answered: list[list[str]] = []
    asking = threading.Thread(target=lambda: answered.append([e.name for e in catalog.models()]))
    asking.start()
    asking.join(GATE_SECONDS / 3)  # the wait is for hubs still on their first listing: this one ended, refused
    assert answered == [["Own"]]
    with pytest.raises(NotFound, match=r"model hubs that could not be listed \(tried again\): test:refusing$"):
        catalog.model("pusher")
    catalog.hub_listings.close()
