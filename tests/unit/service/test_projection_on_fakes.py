"""The projection folds a worker's events and exit into its instance's documents (on in-memory ports).

The worker is played by the test: it publishes through the in-memory bus, which believes it only
about its own instance, and ends through the in-memory compute, which reports the exit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ainimal_zookeeper.adapters.memory import FakeClock, InMemoryBus, InMemoryCompute, InMemoryDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.service.notifier import Notifier
from ainimal_zookeeper.service.projection import Projection
from ainimal_zookeeper.service.records import CHECKPOINTS, COMMANDS, INSTANCES, RECORDINGS, REPLAYS


@dataclass
class Zoo:
    """The projection wired to fakes as the control plane wires it to the real ports."""

    documents: InMemoryDocumentStore
    bus: InMemoryBus
    compute: InMemoryCompute
    clock: FakeClock
    projection: Projection

    def launch(self, instance_id: str, status: str = "STARTING") -> Worker:
        self.documents.put(INSTANCES, instance_id, {"id": instance_id, "status": status, "model": "Counter"})
        spec = WorkerSpec(instance_id, {"name": "Counter"}, None, {}, {}, "INFER", {"bus": self.bus.connection}, 1)
        self.compute.start(spec)
        return Worker(self, instance_id)

    def instance(self, instance_id: str) -> dict:
        return self.documents.get(INSTANCES, instance_id)


@dataclass
class Worker:
    """The test's stand-in for a worker process: it publishes events stamped with the clock's time."""

    zoo: Zoo
    instance_id: str

    def say(self, kind: type[ev.Event], **fields) -> None:
        fields.setdefault("time", self.zoo.clock.time())
        self.zoo.bus.outbox(self.instance_id).publish(kind(self.instance_id, **fields))


@pytest.fixture
def zoo() -> Zoo:
    # Transactions run twice, as Firestore retries them: the projection must not care.
    documents = InMemoryDocumentStore(retry_transactions=True)
    bus, compute, clock = InMemoryBus(), InMemoryCompute(), FakeClock()
    projection = Projection(documents, Notifier(), progress_interval=1.0, clock=clock)
    bus.subscribe(projection.apply)
    compute.on_exit(projection.worker_exited)
    return Zoo(documents, bus, compute, clock, projection)


def test_a_started_worker_makes_its_instance_running_with_its_architecture_and_heartbeat(zoo):
    worker = zoo.launch("i")
    worker.say(ev.WorkerStarted, architecture={"layers": 2}, pid=42)
    doc = zoo.instance("i")
    assert doc["status"] == "RUNNING" and doc["architecture"] == {"layers": 2} and doc["pid"] == 42
    assert doc["lastHeartbeat"] == zoo.clock.time()


@pytest.mark.parametrize("skew", [3600.0 * 24 * 365, -3600.0, float("inf")])
def test_a_worker_whose_clock_is_off_or_lies_is_judged_by_the_control_planes_clock(zoo, skew):
    """A year ahead (hostile model code), an hour behind (another machine's clock): heartbeats are
    when events arrive, so the instance fails once it falls silent, and its progress is not throttled
    away after a dated-ahead event."""
    from ainimal_zookeeper.service.liveness import fail_silent_instances

    worker = zoo.launch("i", status="RUNNING")
    for step in range(40):  # 10 s of progress at four a second, each dated by the worker's clock
        worker.say(ev.Progress, step=step, time=zoo.clock.time() + skew)
        zoo.clock.advance(0.25)
    doc = zoo.instance("i")
    assert doc["step"] == 36 and doc["lastHeartbeat"] == zoo.clock.time() - 1.0  # one write a second
    assert fail_silent_instances(zoo.documents, max_silence=30, now=zoo.clock.time()) == []
    zoo.clock.advance(31)  # silent
    assert fail_silent_instances(zoo.documents, max_silence=30, now=zoo.clock.time()) == ["i"]
    assert zoo.instance("i")["status"] == "FAILED"


def test_progress_is_written_once_an_interval_over_many_intervals_and_a_status_change_lands_at_once(zoo):
    worker = zoo.launch("i", status="RUNNING")
    written = set()
    for step in range(80):  # 20 s of progress at four a second
        worker.say(ev.Progress, step=step, metrics={"steps_per_second": 4.0})
        written.add(zoo.instance("i")["step"])
        zoo.clock.advance(0.25)
    assert written == set(range(0, 80, 4))  # one write a second, on the second
    assert zoo.instance("i")["stepsPerSecond"] == 4.0
    worker.say(ev.Progress, step=80, status="PAUSED")
    assert zoo.instance("i")["status"] == "PAUSED" and zoo.instance("i")["step"] == 80
    worker.say(ev.Progress, step=81, status="PAUSED", waiting_for="lockstep takeover by alice")
    assert zoo.instance("i")["waitingFor"] == "lockstep takeover by alice"  # who it waits for: at once too


def test_a_stopping_instance_stays_stopping_until_its_worker_ends_and_nothing_revives_an_ended_one(zoo):
    worker = zoo.launch("i", status="STOPPING")
    worker.say(ev.Progress, step=5)
    assert zoo.instance("i")["status"] == "STOPPING" and zoo.instance("i")["step"] == 5
    zoo.clock.advance(1)
    worker.say(ev.InstanceTerminated, step=6, episode=1)
    assert zoo.instance("i")["status"] == "TERMINATED" and zoo.instance("i")["endedAt"]
    zoo.clock.advance(5)
    worker.say(ev.Progress, step=99)
    worker.say(ev.CheckpointRestored, checkpoint_id="c", step=98)
    assert zoo.instance("i")["status"] == "TERMINATED" and zoo.instance("i")["step"] == 6


def test_an_applied_command_is_settled_and_moves_mode_and_step_but_a_stopping_status_is_not_written(zoo):
    worker = zoo.launch("i", status="RUNNING")
    for command_id in ("c1", "c2", "c3"):
        zoo.documents.put(COMMANDS, command_id, {"id": command_id, "instance": "i", "status": "sent"})
    worker.say(
        ev.CommandApplied, command_id="c1", command_kind="Pause", status="PAUSED", mode="TRAIN", step=7, episode=1
    )
    doc = zoo.instance("i")
    assert (doc["status"], doc["mode"], doc["step"], doc["episode"]) == ("PAUSED", "TRAIN", 7, 1)
    command = zoo.documents.get(COMMANDS, "c1")
    assert command["status"] == "applied" and command["error"] is None and command["settledAt"]
    worker.say(ev.CommandApplied, command_id="c2", command_kind="Terminate", status="STOPPING")
    assert zoo.instance("i")["status"] == "PAUSED" and zoo.documents.get(COMMANDS, "c2")["status"] == "applied"
    worker.say(ev.CommandRejected, command_id="c3", command_kind="SetMode", error="no such mode")
    assert zoo.documents.get(COMMANDS, "c3") | {"settledAt": None} == {
        "id": "c3",
        "instance": "i",
        "status": "rejected",
        "error": "no such mode",
        "settledAt": None,
    }


def test_saved_checkpoints_become_documents_and_only_the_newest_scheduled_ones_stay(zoo):
    worker = zoo.launch("i", status="RUNNING")
    prefix = checkpoint_prefix("i")
    worker.say(ev.CheckpointSaved, checkpoint_id="manual", blob_key=f"{prefix}m.json", step=1, size_bytes=10)
    for n in range(5):
        zoo.clock.advance(1)
        worker.say(ev.CheckpointSaved, checkpoint_id=f"s{n}", blob_key=f"{prefix}s{n}.json", step=10 * n, keep=2)
    kept = {d["id"] for d in zoo.documents.find(CHECKPOINTS, [("instance", "==", "i")])}
    assert kept == {"manual", "s3", "s4"}
    assert zoo.instance("i")["headCheckpoint"] == "s4"
    manual = zoo.documents.get(CHECKPOINTS, "manual")
    assert manual["tag"] == "step-1" and manual["model"] == "Counter" and manual["scheduled"] is False


def test_a_worker_cannot_claim_another_instances_checkpoint_or_speak_for_another_instance(zoo):
    zoo.launch("victim", status="RUNNING")
    liar = zoo.launch("liar", status="RUNNING")
    liar.say(ev.CheckpointSaved, checkpoint_id="x", blob_key=f"{checkpoint_prefix('victim')}x.json")
    zoo.bus.outbox("liar").publish(ev.InstanceFailed("victim", error="forged"))
    assert zoo.documents.get(CHECKPOINTS, "x") is None and zoo.instance("victim")["status"] == "RUNNING"
    assert zoo.bus.refused == 2


def test_a_restored_checkpoint_moves_the_head_step_and_episode(zoo):
    worker = zoo.launch("i", status="RUNNING")
    worker.say(ev.CheckpointRestored, checkpoint_id="c9", step=900, episode=12)
    doc = zoo.instance("i")
    assert (doc["headCheckpoint"], doc["step"], doc["episode"]) == ("c9", 900, 12)


def test_a_failing_worker_fails_its_instance_with_its_message_and_cuts_its_recording_short(zoo):
    worker = zoo.launch("i", status="RUNNING")
    zoo.documents.put(RECORDINGS, "r", {"id": "r", "instance": "i", "status": "recording", "chunks": 0})
    worker.say(ev.InstanceFailed, error="ValueError: bad observation")
    doc = zoo.instance("i")
    assert doc["status"] == "FAILED" and doc["error"] == "ValueError: bad observation"
    recording = zoo.documents.get(RECORDINGS, "r")
    assert recording["status"] == "failed" and recording["cutShort"] is True
    zoo.compute.kill("i")  # its exit, seen afterwards, keeps the worker's own message
    assert zoo.instance("i")["error"] == "ValueError: bad observation"


def test_a_worker_exiting_while_stopping_ends_terminated_and_one_killed_while_running_fails_saying_so(zoo):
    zoo.launch("stopping", status="STOPPING")
    zoo.launch("running", status="RUNNING")
    zoo.launch("crashed", status="PAUSED")
    zoo.compute.exit("stopping", 0)
    zoo.compute.kill("running")
    zoo.compute.exit("crashed", 3)
    assert zoo.instance("stopping")["status"] == "TERMINATED" and "error" not in zoo.instance("stopping")
    assert zoo.instance("running")["status"] == "FAILED"
    assert (
        zoo.instance("running")["error"] == "the worker process was killed by signal 9 while the instance was RUNNING"
    )
    assert zoo.instance("crashed")["error"] == "the worker process exited with code 3 while the instance was PAUSED"


def test_a_budget_end_told_after_the_exit_turns_the_failure_into_termination_with_its_reason(zoo):
    worker = zoo.launch("i", status="RUNNING")
    zoo.compute.exit("i", 0)
    assert zoo.instance("i")["status"] == "FAILED"
    worker.say(ev.InstanceTerminated, step=100, episode=3, reason="budget: 100 steps")
    doc = zoo.instance("i")
    assert (doc["status"], doc["stopReason"], doc["step"], doc["error"]) == (
        "TERMINATED",
        "budget: 100 steps",
        100,
        None,
    )


def test_recording_chunks_are_counted_once_even_when_announced_again_and_a_stop_is_recorded_once(zoo):
    worker = zoo.launch("i", status="RUNNING")
    zoo.documents.put(RECORDINGS, "r", {"id": "r", "instance": "i", "status": "recording", "chunks": 0})
    for index in (0, 1, 1, 0, 2):  # an at-least-once bus may repeat an announcement
        worker.say(
            ev.RecordingChunkWritten,
            recording_id="r",
            chunk_index=index,
            rows=64,
            size_bytes=1000,
            last_step=64 * index + 63,
        )
    record = zoo.documents.get(RECORDINGS, "r")
    assert (record["chunks"], record["steps"], record["sizeBytes"], record["lastStep"]) == (3, 192, 3000, 191)
    worker.say(ev.RecordingStopped, recording_id="r", status="complete", chunks=3, rows=192)
    stopped_at = zoo.documents.get(RECORDINGS, "r")["stoppedAt"]
    worker.say(ev.RecordingStopped, recording_id="r", status="failed", error="late", chunks=3)
    record = zoo.documents.get(RECORDINGS, "r")
    assert record["status"] == "complete" and record["stoppedAt"] == stopped_at and "error" not in record


def test_a_replay_reports_its_progress_until_it_finishes_and_nothing_after(zoo):
    worker = zoo.launch("i", status="RUNNING")
    zoo.documents.put(REPLAYS, "p", {"id": "p", "instance": "i", "status": "running", "steps": 0})
    worker.say(ev.ReplayProgress, replay_id="p", steps=50)
    assert zoo.documents.get(REPLAYS, "p")["steps"] == 50
    worker.say(ev.ReplayProgress, replay_id="p", status="complete", steps=120)
    worker.say(ev.ReplayProgress, replay_id="p", status="failed", steps=121, error="late")
    assert zoo.documents.get(REPLAYS, "p") == {
        "id": "p",
        "instance": "i",
        "status": "complete",
        "steps": 120,
        "error": None,
    }


def test_events_about_unknown_instances_are_ignored_and_the_projection_goes_on(zoo):
    ghost = Worker(zoo, "ghost")
    ghost.say(ev.Progress, step=1)
    ghost.say(ev.CommandApplied, command_id="c", status="PAUSED")
    zoo.compute.exit("ghost", 1)  # never started: nothing reported
    assert zoo.documents.get(INSTANCES, "ghost") is None
    worker = zoo.launch("i")
    worker.say(ev.Progress, step=2)
    assert zoo.instance("i")["step"] == 2


def test_metric_points_and_log_lines_are_stored_for_their_instance(zoo):
    worker = zoo.launch("i", status="RUNNING")
    now = zoo.clock.time()
    series = [{"name": "loss", "steps": [1, 2], "times": [now, now + 0.5], "values": [0.5, float("nan")]}]
    worker.say(ev.MetricPoints, seq=1, series=series)
    worker.say(ev.LogLines, seq=1, lines=[{"time": now, "stream": "stdout", "text": "hello"}])
    [chunk] = zoo.documents.find("metricChunks", [("instance", "==", "i")])
    assert chunk["series"][0]["values"] == [0.5, None]
    [lines] = zoo.documents.find("logChunks", [("instance", "==", "i")])
    assert lines["lines"] == [{"time": now, "stream": "stdout", "text": "hello"}]
