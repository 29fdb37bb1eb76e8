"""A plain env class without spaces runs in a worker, seeded with the instance's seed."""

from __future__ import annotations

import threading
from pathlib import Path

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.adapters.local.zmq_bus import LocalBusHub, LocalCommandInbox, LocalEventOutbox
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.runtime import WorkerRuntime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_plain_env_without_spaces_launches_in_a_worker_and_gets_the_instance_seed(tmp_path):
    hub, events, seen = LocalBusHub(), [], threading.Event()

    def record(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.Progress) and event.step >= 50:
            seen.set()

    hub.subscribe(record)
    spec = WorkerSpec(
        instance_id="plain1",
        model={
            "name": "Counter",
            "type": "ainimal",
            "path": str(FIXTURES / "agents.py"),
            "class_name": "CountingAgent",
        },
        environment={
            "name": "Walk",
            "type": "python_class",
            "path": str(FIXTURES / "plain_envs.py"),
            "class_name": "SeededWalk",
        },
        init_params={},
        env_init_params={"size": 5},
        mode="INFER",
        connection={},
        seed=1234,
    )
    bus = hub.worker_connection("plain1")
    inbox = LocalCommandInbox(bus["commands"], "plain1", bus)
    outbox = LocalEventOutbox(bus["events"], bus)
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"))
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(runtime.run()))
    thread.start()
    try:
        assert seen.wait(20), [e.kind for e in events]
        started = next(e for e in events if isinstance(e, ev.WorkerStarted))
        assert started.architecture is not None
        assert started.architecture["inputModalities"]["observation"]["shape"] == [2]
        assert runtime.env is not None and 1234 in runtime.env.target.seeds_seen  # the first reset had its seed
        hub.send(cmd.Terminate("plain1"))
        thread.join(10)
        assert codes == [0]
    finally:
        thread.join(10)
        inbox.close()
        outbox.close()
        hub.close()
