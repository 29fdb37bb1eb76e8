"""The worker runtime over the real local bus: commands apply once, whatever the bus repeats."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox, LocalEventOutbox
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.runtime import WorkerRuntime

AGENTS = str(Path(__file__).resolve().parents[1] / "fixtures" / "agents.py")


class Recorder:
    def __init__(self):
        self.events: list[ev.Event] = []
        self.changed = threading.Condition()

    def __call__(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait(self, match, timeout=10):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(match(e) for e in self.events):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"event not seen; got {[e.kind for e in self.events]}"
                self.changed.wait(remaining)

    def count(self, kind):
        return sum(1 for e in self.events if e.kind == kind)


def test_a_checkpoint_command_delivered_twice_is_applied_once(tmp_path):
    hub, recorder = LocalBusHub(), Recorder()
    hub.subscribe(recorder)
    spec = WorkerSpec(
        instance_id="w1",
        model={"name": "Counter", "type": "ainimal", "path": AGENTS, "class_name": "CountingAgent"},
        environment={"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"},
        init_params={},
        env_init_params={},
        mode="INFER",
        connection={},
        seed=1,
    )
    bus = hub.worker_connection("w1")
    inbox = LocalCommandInbox(bus["commands"], "w1", bus)
    outbox = LocalEventOutbox(bus["events"], bus)
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"))
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(runtime.run()))
    thread.start()
    try:
        recorder.wait(lambda e: e.kind == "WorkerStarted")
        save = cmd.SaveCheckpoint("w1", checkpoint_id="c1", tag="once")
        for delivery in (1, 2):  # the second send is a redelivery of the same command id
            hub.send(save)
            recorder.wait(lambda e, n=delivery: sum(x.kind == "CommandApplied" for x in recorder.events) >= n)
        assert recorder.count("CheckpointSaved") == 1
        hub.send(cmd.Terminate("w1"))
        thread.join(10)
        assert codes == [0]
        recorder.wait(lambda e: e.kind == "InstanceTerminated")
    finally:
        thread.join(10)
        inbox.close()
        outbox.close()
        hub.close()
