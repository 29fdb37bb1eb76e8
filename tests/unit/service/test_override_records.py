"""Overrides travel as `Override` records (service/override_records.py) from the store through the
service to the API, and the stored document keeps the shape it always had."""

from __future__ import annotations

from datetime import datetime

from graphql import graphql_sync
from usecase_doubles import make_zoo

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.schema import build_executable_schema
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.service.launching import LaunchRequest
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.override_records import Override, OverrideRepository
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.records import INSTANCES, OVERRIDES

ANN = Viewer(username="ann", roles=())

#: The keys an override's document had when it was set, before overrides were typed records.
STORED_KEYS = {
    "id",
    "instance",
    "target",
    "value",
    "mode",
    "index",
    "takeover",
    "holdSeconds",
    "timeoutSeconds",
    "setBy",
    "holder",
    "createdAt",
    "active",
    "clearedAt",
    "clearedBy",
}


def test_a_takeover_is_stored_with_the_document_shape_it_always_had_and_its_lease_but_never_its_expiry_text():
    zoo = make_zoo(hold_seconds=5.0)
    instance = zoo.services.launching.launch(ANN, LaunchRequest(model="Balancer", environment="CartPole"))
    takeover = zoo.services.overrides.override(ANN, instance.id, "outputs/action", None, takeover="realtime")
    assert isinstance(takeover, Override) and takeover.active and takeover.takeover == "realtime"
    stored = zoo.documents.get(OVERRIDES, takeover.id)
    assert set(stored) == STORED_KEYS | {"leaseUntil"}  # the lease is stored once the worker took it
    assert stored["leaseUntil"] == zoo.clock.time() + 5.0 and stored["setBy"] == "ann"
    assert takeover.lease_expires_at is not None
    assert datetime.fromisoformat(takeover.lease_expires_at).timestamp() == stored["leaseUntil"]
    assert zoo.services.overrides.clear(ANN, instance.id, takeover.id) is True
    cleared = zoo.documents.get(OVERRIDES, takeover.id)
    assert cleared["active"] is False and cleared["clearedBy"] == "ann" and "clearedReason" not in cleared
    assert zoo.services.overrides.in_force(instance.id) == []


def test_an_override_document_round_trips_through_its_record_keeping_fields_the_record_does_not_name():
    doc = {
        "id": "o1",
        "instance": "i",
        "target": "outputs/action",
        "value": [0.5, 1],
        "mode": "set",
        "index": None,
        "takeover": None,
        "holdSeconds": None,
        "timeoutSeconds": 5.0,
        "setBy": "ann",
        "holder": None,
        "createdAt": "2026-01-01T00:00:00+00:00",
        "active": True,
        "clearedAt": None,
        "clearedBy": None,
        "aFieldOfANewerServer": 1,
    }
    record = Override.from_document(doc)
    assert record.value == [0.5, 1] and record.active is True and record.holder_name == "ann"
    assert record.extra == {"aFieldOfANewerServer": 1}
    assert record.to_document() == doc


def test_an_override_document_with_odd_values_reads_as_an_ended_override_instead_of_failing():
    record = Override.from_document({"id": "o", "instance": "i", "active": "yes", "holdSeconds": "long"})
    assert record.active is False and record.hold_seconds is None and record.target == ""


def test_the_projection_ends_an_override_the_worker_ended_through_the_override_repository():
    store = InMemoryDocumentStore()
    store.put(INSTANCES, "i", {"id": "i", "model": "m", "status": "RUNNING"})
    repository = OverrideRepository(store)
    repository.create(Override(id="o", instance="i", target="outputs/action", takeover="lockstep", active=True))
    Projection(store, Notifier()).apply(
        ev.OverrideChanged("i", override_id="o", target="outputs/action", active=False, reason="lease expired")
    )
    ended = repository.get("o")
    assert ended is not None and not ended.active and ended.cleared_reason == "lease expired"
    assert ended.cleared_by is None and ended.cleared_at


def test_an_instances_overrides_and_a_renewed_takeover_answer_over_the_api_from_the_records():
    zoo = make_zoo(hold_seconds=5.0)
    instance = zoo.services.launching.launch(ANN, LaunchRequest(model="Balancer", environment="CartPole"))
    schema, context = build_executable_schema(), RequestContext(ANN, zoo.services)

    def run(query: str, **variables: str) -> dict:
        result = graphql_sync(schema, query, context_value=context, variable_values={"id": instance.id, **variables})
        assert result.errors is None
        return result.data

    takeover = run(
        'mutation($id: ID!) { override(id: $id, input: {target: "outputs/action", value: 1, takeover: "realtime"}) '
        "{ id target mode setBy active takeover holder holdSeconds leaseExpiresAt } }"
    )["override"]
    assert (takeover["target"], takeover["setBy"], takeover["holder"]) == ("outputs/action", "ann", "ann")
    assert takeover["active"] is True and takeover["holdSeconds"] == 5.0 and takeover["leaseExpiresAt"]
    zoo.clock.advance(3.0)
    renew = "mutation($id: ID!, $o: ID!) { renewTakeover(id: $id, override: $o) { id leaseExpiresAt } }"
    later = datetime.fromisoformat(run(renew, o=takeover["id"])["renewTakeover"]["leaseExpiresAt"]).timestamp()
    assert later == zoo.clock.time() + 5.0
    listed = run("query($id: ID!) { instance(id: $id) { overrides { id value active leaseExpiresAt } } }")
    (shown,) = listed["instance"]["overrides"]
    assert shown == {"id": takeover["id"], "value": 1, "active": True, "leaseExpiresAt": shown["leaseExpiresAt"]}
    assert datetime.fromisoformat(shown["leaseExpiresAt"]).timestamp() == later
