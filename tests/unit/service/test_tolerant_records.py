"""Stored documents another version wrote, or damaged ones, read as records without failing:
an unknown status reads as FAILED (told in `error`), a value of the wrong type as the field's
empty value, each warned once; listing instances over the API shows the good ones and the odd."""

from __future__ import annotations

import logging

import pytest
from graphql import graphql_sync
from usecase_doubles import make_zoo

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.schema import build_executable_schema
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.domain.statuses import CommandStatus, RecordingStatus, ReplayStatus
from ainimal_zookeeper.service.launching import LaunchRequest
from ainimal_zookeeper.service.liveness import fail_silent_instances
from ainimal_zookeeper.service.records import COMMANDS, INSTANCES, RECORDINGS, Instance, Recording, Replay
from ainimal_zookeeper.service.repository import CommandLog, InstanceRepository
from ainimal_zookeeper.service.status_parsing import forget_warnings

ANN = Viewer(username="ann", roles=())


@pytest.fixture(autouse=True)
def _fresh_warnings():
    forget_warnings()


def test_an_instance_in_a_status_this_version_does_not_know_reads_as_failed_saying_what_was_stored(caplog):
    doc = {"id": "i1", "model": "Balancer", "status": "HIBERNATING", "error": "dozing", "createdAt": "2026-01-01"}
    with caplog.at_level(logging.WARNING):
        records = [Instance.from_document(doc) for _ in range(3)]
    record = records[0]
    assert record.status is InstanceStatus.FAILED
    assert record.error == "stored status 'HIBERNATING' is not one this server version knows; shown as FAILED (dozing)"
    assert doc["status"] == "HIBERNATING"  # the document itself is left as it was
    assert len([r for r in caplog.records if "HIBERNATING" in r.getMessage()]) == 1  # warned once


def test_an_instance_document_with_values_of_the_wrong_type_reads_with_empty_values_instead():
    record = Instance.from_document(
        {
            "model": 7,
            "status": "RUNNING",
            "mode": "SLEEP",
            "step": "12",
            "episode": "many",
            "parameters": ["not", "an", "object"],
            "metrics": None,
            "modes": ["TRAIN", "FLY", 3],
            "public": "yes",
            "lastHeartbeat": "soon",
            "pid": {"no": 1},
            "owner": ["ann"],
            "createdEpoch": 1_700_000_000,
        }
    )
    assert (record.id, record.model, record.status, record.mode) == ("", "7", InstanceStatus.RUNNING, RunMode.INFER)
    assert (record.step, record.episode, record.parameters, record.metrics) == (12, 0, {}, {})
    assert record.modes == ["TRAIN"] and record.public is False  # only a real true makes it public
    assert record.last_heartbeat is None and record.pid is None and record.owner is None
    assert record.created_at == "2023-11-14T22:13:20+00:00"  # from createdEpoch: the API requires one
    assert Instance.from_document({"id": "i2", "status": "RUNNING"}).created_at == "1970-01-01T00:00:00+00:00"


def test_recordings_and_replays_in_an_unknown_status_read_as_failed_and_keep_their_counts():
    recording = Recording.from_document({"id": "r", "instance": "i", "status": "archived", "chunks": "3"})
    assert recording.status is RecordingStatus.FAILED and recording.chunks == 3
    assert recording.error is not None and "'archived'" in recording.error and recording.started_at
    replay = Replay.from_document({"id": "p", "recording": "r", "instance": "i", "status": "rewinding", "steps": 4})
    assert replay.status is ReplayStatus.FAILED and replay.steps == 4 and "'rewinding'" in (replay.error or "")


def test_a_command_verdict_this_version_does_not_know_reads_as_still_sent():
    store = InMemoryDocumentStore()
    store.put(COMMANDS, "c", {"id": "c", "status": "deferred"})
    assert CommandLog(store).verdict("c") == (CommandStatus.SENT, None)


def test_an_instance_of_unknown_status_is_not_updated_as_if_it_were_live():
    store = InMemoryDocumentStore()
    store.put(INSTANCES, "i", {"id": "i", "model": "m", "status": "HIBERNATING"})
    InstanceRepository(store).update_if("i", None, {"pace": 3.0})
    assert "pace" not in store.get(INSTANCES, "i")


def test_a_heartbeat_stored_as_text_does_not_stop_the_liveness_check_of_the_other_instances():
    store = InMemoryDocumentStore()
    store.put(INSTANCES, "odd", {"id": "odd", "status": "RUNNING", "lastHeartbeat": "soon", "createdEpoch": 50.0})
    store.put(INSTANCES, "silent", {"id": "silent", "status": "RUNNING", "lastHeartbeat": 100.0})
    store.put(INSTANCES, "fresh", {"id": "fresh", "status": "RUNNING", "lastHeartbeat": 190.0})
    assert sorted(fail_silent_instances(store, max_silence=30, now=200.0)) == ["odd", "silent"]
    assert store.get(INSTANCES, "fresh")["status"] == "RUNNING"


def test_listing_instances_over_the_api_shows_good_instances_beside_unknown_statuses_and_damaged_documents():
    zoo = make_zoo()
    good = zoo.services.launching.launch(ANN, LaunchRequest(model="Balancer", environment="CartPole"))
    zoo.documents.put(
        INSTANCES, "newer", {"id": "newer", "model": "Balancer", "status": "HIBERNATING", "createdAt": "2026-01-02"}
    )
    zoo.documents.put(
        INSTANCES,
        "damaged",
        {"id": "damaged", "status": "RUNNING", "mode": 5, "step": "x", "parameters": [], "modes": ["WALK"]},
    )
    zoo.documents.put(RECORDINGS, "r", {"id": "r", "instance": "damaged", "status": "archived", "streams": "all"})
    query = """{ instances { id status mode step episode parameters createdAt error modes public
                 model { name } environment { name } checkpoints { id } overrides { id }
                 recordings { id status steps streams startedAt } } }"""
    result = graphql_sync(build_executable_schema(), query, context_value=RequestContext(ANN, zoo.services))
    assert result.errors is None
    listed = {item["id"]: item for item in result.data["instances"]}
    assert set(listed) == {good.id, "newer", "damaged"}
    assert listed[good.id]["status"] == "RUNNING" and listed[good.id]["model"] == {"name": "Balancer"}
    newer = listed["newer"]
    assert newer["status"] == "FAILED" and "'HIBERNATING'" in newer["error"]
    damaged = listed["damaged"]
    assert (damaged["mode"], damaged["step"], damaged["parameters"], damaged["modes"]) == ("INFER", 0, {}, [])
    assert damaged["createdAt"] == "1970-01-01T00:00:00+00:00" and damaged["model"] == {"name": ""}
    (recording,) = damaged["recordings"]
    assert recording["status"] == "failed" and recording["streams"] == [] and recording["steps"] == 0
    assert zoo.documents.get(INSTANCES, "newer")["status"] == "HIBERNATING"  # nothing rewritten
