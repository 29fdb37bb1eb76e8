"""The use-case services on in-memory doubles, with a clock that moves only when they wait."""

from __future__ import annotations

from datetime import datetime

import pytest
from usecase_doubles import Zoo, make_zoo

from ainimal_zookeeper.domain.access import Resource, Viewer
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.domain.statuses import RecordingStatus, ReplayStatus
from ainimal_zookeeper.errors import Conflict, Forbidden, NotFound, Unavailable
from ainimal_zookeeper.service.launching import LaunchRequest
from ainimal_zookeeper.service.records import COMMANDS, INSTANCES, RECORDINGS, REPLAYS, Instance, Recording, Replay
from ainimal_zookeeper.service.timeouts import Timeouts

ANN = Viewer(username="ann", roles=())


def launched(zoo: Zoo, viewer: Viewer = ANN) -> Instance:
    return zoo.services.launching.launch(viewer, LaunchRequest(model="Balancer", environment="CartPole"))


# records


def test_an_instance_document_round_trips_through_its_record_keeping_fields_the_record_does_not_name():
    doc = {
        "id": "i1",
        "model": "Balancer",
        "environment": "CartPole",
        "status": "RUNNING",
        "mode": "TRAIN",
        "step": 7,
        "public": True,
        "createdAt": "2026-01-01T00:00:00+00:00",
        "headCheckpoint": "c1",
        "pid": 1234,
        "waitingFor": "lockstep takeover by alice",
        "aFieldOfANewerServer": {"kept": True},
    }
    record = Instance.from_document(doc)
    assert record.status is InstanceStatus.RUNNING and record.mode is RunMode.TRAIN
    assert record.head_checkpoint == "c1" and record.public is True and record.step == 7
    assert record.pid == 1234 and record.waiting_for == "lockstep takeover by alice"
    assert record.extra == {"aFieldOfANewerServer": {"kept": True}}
    again = record.to_document()
    assert {key: again[key] for key in doc} == doc
    assert again["status"] == "RUNNING" and type(again["status"]) is str  # plain strings for the API


def test_recording_and_replay_statuses_are_enums_and_stored_as_the_strings_they_always_were():
    recording = Recording.from_document({"id": "r1", "instance": "i1", "status": "complete", "chunks": 3})
    replay = Replay.from_document(
        {"id": "p1", "recording": "r1", "instance": "i1", "status": "running", "outputRecording": "r2"}
    )
    assert recording.status is RecordingStatus.COMPLETE and recording.chunks == 3
    assert replay.status is ReplayStatus.RUNNING and replay.output_recording == "r2"
    assert recording.to_document()["status"] == "complete" and replay.to_document()["outputRecording"] == "r2"


# launching and waiting


def test_a_launch_stores_the_instance_starts_a_worker_and_answers_once_the_worker_runs():
    zoo = make_zoo()
    instance = launched(zoo)
    assert instance.status is InstanceStatus.RUNNING and instance.owner == "ann"
    spec = zoo.compute.spec(instance.id)
    assert spec.mode == "INFER" and spec.connection == {"bus": {"type": "memory"}}
    doc = zoo.documents.get(INSTANCES, instance.id)
    assert doc["model"] == "Balancer" and doc["pid"] == 4242  # as the projection wrote it
    assert instance.pid == 4242 and instance.last_heartbeat is not None


def test_a_launch_whose_worker_never_reports_answers_still_starting_after_the_launch_timeout():
    zoo = make_zoo(Timeouts(launch=5.0))
    zoo.worker.silent = True
    start = zoo.clock.monotonic()
    instance = launched(zoo)
    assert instance.status is InstanceStatus.STARTING
    assert 5.0 - 1e-6 <= zoo.clock.monotonic() - start < 5.2  # it waited the whole timeout, and no longer


def test_a_command_the_worker_never_confirms_is_unavailable_after_its_timeout_and_stays_recorded():
    zoo = make_zoo(Timeouts(command=3.0))
    instance = launched(zoo)
    zoo.worker.silent = True
    start = zoo.clock.monotonic()
    with pytest.raises(Unavailable, match="did not confirm Pause within 3s; the command stays queued"):
        zoo.services.control.pause(ANN, instance.id)
    assert 3.0 - 1e-6 <= zoo.clock.monotonic() - start < 3.2
    [pause] = [c for c in zoo.bus.sent if c.kind == "Pause"]
    assert zoo.documents.get(COMMANDS, pause.command_id)["status"] == "sent"


def test_a_command_the_worker_rejects_is_a_conflict_naming_its_reason():
    zoo = make_zoo()
    instance = launched(zoo)
    zoo.worker.refuse = "the model cannot train"
    with pytest.raises(Conflict, match="SetMode on instance .* failed: the model cannot train"):
        zoo.services.control.set_mode(ANN, instance.id, "TRAIN")


def test_pause_and_resume_answer_with_the_instance_as_the_worker_left_it():
    zoo = make_zoo()
    instance = launched(zoo)
    assert zoo.services.control.pause(ANN, instance.id).status is InstanceStatus.PAUSED
    assert zoo.services.control.resume(ANN, instance.id).status is InstanceStatus.RUNNING


# terminate and the grace


def test_terminate_kills_a_worker_that_does_not_stop_within_the_grace_and_says_so():
    zoo = make_zoo(Timeouts(terminate_grace=2.0))
    instance = launched(zoo)
    zoo.worker.silent = True  # stuck in user code
    start = zoo.clock.monotonic()
    ended = zoo.services.control.terminate(ANN, instance.id)
    assert 2.0 - 1e-6 <= zoo.clock.monotonic() - start < 2.2
    assert ended.status is InstanceStatus.TERMINATED
    assert ended.error == "its worker did not stop within 2s of terminate and was killed"
    assert zoo.compute.stops == [(instance.id, 0)] and zoo.compute.running() == []
    assert zoo.bus.pending(instance.id) == []  # its queued commands were forgotten


def test_a_worker_that_stops_in_time_keeps_the_grace_to_end_and_is_stopped_only_if_still_there_after_it():
    zoo = make_zoo(Timeouts(terminate_grace=2.0))
    instance = launched(zoo)
    zoo.worker.exit_on_terminate = False  # its last event is sent; its process lingers
    ended = zoo.services.control.terminate(ANN, instance.id)
    assert ended.status is InstanceStatus.TERMINATED and ended.error is None
    reaper = zoo.services.reaper
    assert reaper.pending() == 1 and zoo.compute.stops == []
    zoo.clock.advance(1.9)
    assert reaper.run_due() == []  # within its grace
    zoo.clock.advance(0.2)
    assert reaper.run_due() == [instance.id]  # its process was still there: stopped
    assert zoo.documents.get(INSTANCES, instance.id)["error"] is None  # TERMINATED says nothing more


def test_a_worker_lost_to_silence_is_killed_after_the_grace_and_its_failed_instance_says_so():
    zoo = make_zoo(Timeouts(terminate_grace=2.0))
    instance = launched(zoo)
    zoo.worker.silent = True  # stuck: no heartbeat, and it will not stop
    zoo.documents.update(INSTANCES, instance.id, {"status": "FAILED", "error": "no heartbeat for 30s"})
    zoo.services.lifecycle.worker_lost(instance.id)
    assert zoo.bus.sent[-1].kind == "Terminate"
    for _ in range(3):  # several grace periods: killed once, said once
        zoo.clock.advance(2.5)
        zoo.services.reaper.run_due()
    error = zoo.documents.get(INSTANCES, instance.id)["error"]
    assert error == "no heartbeat for 30s; its worker did not stop within 2s and was killed"
    assert zoo.compute.stops == [(instance.id, 0)]


def test_commands_to_an_ended_instance_are_refused_before_they_are_sent():
    zoo = make_zoo()
    instance = launched(zoo)
    zoo.services.control.terminate(ANN, instance.id)
    sent = len(zoo.bus.sent)
    with pytest.raises(Conflict, match="cannot pause instance .*: it is TERMINATED"):
        zoo.services.control.pause(ANN, instance.id)
    assert len(zoo.bus.sent) == sent


# lifecycle


def test_reconcile_marks_instances_without_a_live_worker_failed_and_leaves_the_others():
    zoo = make_zoo()
    alive = launched(zoo)
    gone = Instance(id="gone", model="Balancer", status=InstanceStatus.RUNNING, created_at="2026-01-01T00:00:00")
    zoo.documents.put(INSTANCES, gone.id, gone.to_document())  # its worker went with the last server
    assert zoo.services.lifecycle.reconcile() == 1
    assert zoo.documents.get(INSTANCES, alive.id)["status"] == "RUNNING"
    lost = zoo.documents.get(INSTANCES, gone.id)
    assert lost["status"] == "FAILED" and lost["error"].startswith("worker lost while RUNNING")


def test_stop_all_waits_at_most_the_grace_then_marks_what_is_still_stopping_terminated():
    zoo = make_zoo(Timeouts(terminate_grace=3.0))
    instance = launched(zoo)
    zoo.worker.silent = True
    start = zoo.clock.monotonic()
    zoo.services.lifecycle.stop_all("stopped when the server shut down")
    assert 3.0 - 1e-6 <= zoo.clock.monotonic() - start < 3.2
    doc = zoo.documents.get(INSTANCES, instance.id)
    assert doc["status"] == "TERMINATED" and doc["error"] == "stopped when the server shut down"


# access


class OwnersOnly:
    """Everyone sees everything; only owners act, and only owners inspect."""

    def allows(self, viewer: Viewer, action: str, resource: Resource) -> bool:
        if resource.kind != "instance" or action == "launch":
            return True
        if action == "view":
            return resource.owner == viewer.username or resource.public
        return resource.owner == viewer.username

    def permissions(self, viewer: Viewer) -> dict[str, object]:
        return {}


def test_hidden_instances_look_missing_and_visible_ones_refuse_others_with_forbidden():
    zoo = make_zoo(authorizer=OwnersOnly())
    instance = launched(zoo)
    bob = Viewer(username="bob", roles=())
    with pytest.raises(NotFound, match="unknown instance"):
        zoo.services.control.pause(bob, instance.id)
    assert zoo.services.access.list_visible(bob) == []
    zoo.services.control.set_public(ANN, instance.id, True)
    with pytest.raises(Forbidden, match="bob may not control instance"):
        zoo.services.control.pause(bob, instance.id)
    assert [i.id for i in zoo.services.access.list_visible(bob)] == [instance.id]
    assert zoo.services.access.inspectable(bob, instance.id) is None


def test_disown_clears_the_owner_of_a_deleted_accounts_instances_and_keeps_the_former_owner_on_record():
    zoo = make_zoo()
    instance = launched(zoo)
    assert zoo.services.ownership.disown("ann") == 1
    doc = zoo.documents.get(INSTANCES, instance.id)
    assert doc["owner"] is None and doc["formerOwner"] == "ann"


# takeover leases


def test_a_takeover_lease_runs_hold_seconds_from_each_renewal_or_action_across_many_periods():
    zoo = make_zoo(hold_seconds=5.0)
    instance = launched(zoo)
    overrides = zoo.services.overrides
    takeover = overrides.override(ANN, instance.id, "outputs/action", None, takeover="realtime")
    assert takeover.hold_seconds == 5.0 and takeover.holder == "ann"

    def expires() -> float:
        [record] = overrides.in_force(instance.id)
        return datetime.fromisoformat(record.lease_expires_at or "").timestamp()

    assert expires() == pytest.approx(zoo.clock.time() + 5.0, abs=0.001)
    for _ in range(4):  # four lease periods, each kept alive by its holder
        zoo.clock.advance(4.0)
        overrides.act(ANN, instance.id, None)
        assert expires() == pytest.approx(zoo.clock.time() + 5.0, abs=0.001)
        zoo.clock.advance(4.0)
        overrides.renew(ANN, instance.id, takeover.id)
        assert expires() == pytest.approx(zoo.clock.time() + 5.0, abs=0.001)
    with pytest.raises(Forbidden, match="held by ann; only its holder may renew it"):
        overrides.renew(Viewer(username="bob", roles=("admin",)), instance.id, takeover.id)


# recordings and replays


def test_a_recording_still_recording_on_an_instance_that_ended_reads_as_cut_short():
    zoo = make_zoo()
    instance = launched(zoo)
    recording = zoo.services.recordings.start(ANN, instance.id, None)
    assert recording.status is RecordingStatus.RECORDING and recording.instance == instance.id
    zoo.documents.update(INSTANCES, instance.id, {"status": "FAILED"})
    read = zoo.services.recordings.get(ANN, recording.id)
    assert read is not None and read.status is RecordingStatus.FAILED and read.cut_short
    assert zoo.documents.get(RECORDINGS, recording.id)["cutShort"] is True


def test_a_running_replay_of_an_instance_that_ended_reads_as_failed():
    zoo = make_zoo()
    instance = launched(zoo)
    zoo.documents.put(
        REPLAYS,
        "p1",
        {"id": "p1", "recording": "r1", "instance": instance.id, "status": "running", "outputRecording": "r2"},
    )
    assert zoo.services.replays.get(ANN, "p1").status is ReplayStatus.RUNNING
    zoo.documents.update(INSTANCES, instance.id, {"status": "TERMINATED"})
    replay = zoo.services.replays.get(ANN, "p1")
    assert replay.status is ReplayStatus.FAILED and replay.error == "the instance ended during the replay"
