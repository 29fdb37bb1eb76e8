"""A worker's verdict settles only commands sent to its own instance: a worker (user code may be
hostile) naming another instance's command id changes nothing and is warned about once."""

from __future__ import annotations

import logging

from ainimal_zookeeper.adapters.memory import InMemoryDocumentStore
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.statuses import CommandStatus
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.records import INSTANCES
from ainimal_zookeeper.service.repository import CommandLog
from ainimal_zookeeper.service.status_parsing import forget_warnings


def test_a_verdict_on_another_instances_command_changes_nothing_and_its_own_worker_still_settles_it(caplog):
    forget_warnings()
    documents = InMemoryDocumentStore()
    for instance in ("victim", "intruder"):
        documents.put(INSTANCES, instance, {"id": instance, "model": "M", "status": "RUNNING"})
    log, projection = CommandLog(documents), Projection(documents, Notifier())
    stop = cmd.EmergencyStop("victim")
    log.record(stop)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            projection.apply(
                ev.CommandRejected("intruder", command_id=stop.command_id, command_kind="EmergencyStop", error="no")
            )
            projection.apply(ev.CommandApplied("intruder", command_id=stop.command_id, command_kind="EmergencyStop"))
    assert log.verdict(stop.command_id) == (CommandStatus.SENT, None)  # still waiting for the real worker
    assert sum("another instance" in r.getMessage() for r in caplog.records) == 1  # warned once
    projection.apply(ev.CommandApplied("victim", command_id=stop.command_id, command_kind="EmergencyStop"))
    assert log.verdict(stop.command_id)[0] is CommandStatus.APPLIED
