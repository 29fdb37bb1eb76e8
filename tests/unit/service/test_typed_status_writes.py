"""The projection, the liveness watch and the event stream write statuses from the enums, as the
plain strings the store always held; a status a worker reports that this version does not know
changes nothing stored (warned once)."""

from __future__ import annotations

import logging

import pytest

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.service.event_stream import instance_event
from ainimal_zookeeper.service.liveness import fail_silent_instances
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.records import COMMANDS, INSTANCES, RECORDINGS, REPLAYS
from ainimal_zookeeper.service.status_parsing import forget_warnings


@pytest.fixture
def store() -> InMemoryDocumentStore:
    forget_warnings()
    documents = InMemoryDocumentStore(retry_transactions=True)
    documents.put(INSTANCES, "i", {"id": "i", "model": "Counter", "status": "RUNNING"})
    return documents


def test_settled_commands_and_ended_recordings_and_replays_hold_plain_status_strings(store):
    projection = Projection(store, Notifier())
    store.put(COMMANDS, "c1", {"id": "c1", "instance": "i", "status": "sent"})
    store.put(COMMANDS, "c2", {"id": "c2", "instance": "i", "status": "sent"})
    store.put(RECORDINGS, "r", {"id": "r", "instance": "i", "status": "recording"})
    store.put(REPLAYS, "p", {"id": "p", "instance": "i", "status": "running"})
    projection.apply(ev.CommandApplied("i", command_id="c1", command_kind="Pause", status="PAUSED"))
    projection.apply(ev.CommandRejected("i", command_id="c2", command_kind="Pause", error="no"))
    projection.apply(ev.RecordingStopped("i", recording_id="r", status="failed", error="disk full", chunks=2))
    projection.apply(ev.ReplayProgress("i", replay_id="p", status="complete", steps=9))
    written = {
        "instance": store.get(INSTANCES, "i")["status"],
        "applied": store.get(COMMANDS, "c1")["status"],
        "rejected": store.get(COMMANDS, "c2")["status"],
        "recording": store.get(RECORDINGS, "r")["status"],
        "replay": store.get(REPLAYS, "p")["status"],
    }
    expected = {"instance": "PAUSED", "applied": "applied", "rejected": "rejected"}
    assert written == {**expected, "recording": "failed", "replay": "complete"}
    assert all(type(value) is str for value in written.values())
    assert store.get(RECORDINGS, "r")["cutShort"] is True


def test_a_status_a_worker_reports_that_this_version_does_not_know_changes_nothing_and_is_warned_once(store, caplog):
    projection = Projection(store, Notifier())
    store.put(RECORDINGS, "r", {"id": "r", "instance": "i", "status": "recording"})
    store.put(REPLAYS, "p", {"id": "p", "instance": "i", "status": "running"})
    store.put(COMMANDS, "c", {"id": "c", "instance": "i", "status": "sent"})
    with caplog.at_level(logging.WARNING, logger="ainimal_zookeeper.service.status_parsing"):
        for step in (1, 2, 3):
            projection.apply(ev.Progress("i", time=float(step), step=step, status="HIBERNATING"))
        projection.apply(ev.CommandApplied("i", command_id="c", command_kind="Pause", status="HIBERNATING"))
        projection.apply(ev.RecordingStopped("i", recording_id="r", status="archived"))
        projection.apply(ev.ReplayProgress("i", replay_id="p", status="rewinding", steps=4))
    doc = store.get(INSTANCES, "i")
    assert doc["status"] == "RUNNING" and doc["step"] == 3  # the progress itself still lands
    assert store.get(COMMANDS, "c")["status"] == "applied"  # the command was applied all the same
    assert store.get(RECORDINGS, "r")["status"] == "recording"
    assert store.get(REPLAYS, "p")["status"] == "running"
    warned = [r.getMessage() for r in caplog.records]
    assert len([m for m in warned if "'HIBERNATING'" in m]) == 1
    assert any("'archived'" in m and "RecordingStatus" in m for m in warned)
    assert any("'rewinding'" in m and "ReplayStatus" in m for m in warned)


def test_the_liveness_watch_fails_a_silent_instance_with_the_plain_string_failed(store):
    store.update(INSTANCES, "i", {"lastHeartbeat": 100.0})
    assert fail_silent_instances(store, max_silence=30, now=200.0) == ["i"]
    status = store.get(INSTANCES, "i")["status"]
    assert status == "FAILED" and type(status) is str


def test_the_event_stream_leaves_out_a_status_the_api_could_not_show_and_keeps_final_ones():
    strange = instance_event(ev.CommandApplied("i", command_id="c", command_kind="Pause", status="HIBERNATING"))
    assert strange is not None and strange["status"] is None and strange["kind"] == "COMMAND_APPLIED"
    paused = instance_event(ev.CommandApplied("i", command_id="c", command_kind="Pause", status="PAUSED"))
    assert paused is not None and paused["status"] == "PAUSED" and type(paused["status"]) is str
    failed = instance_event(ev.InstanceFailed("i", error="boom"))
    assert failed is not None and (failed["kind"], failed["status"]) == ("FAILED", "FAILED")
    ended = instance_event(ev.InstanceTerminated("i"))
    assert ended is not None and (ended["kind"], ended["status"]) == ("TERMINATED", "TERMINATED")
