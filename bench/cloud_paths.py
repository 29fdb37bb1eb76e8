"""The cloud shape's hot paths against their local twins, in one run, on the real emulators.

1. Command latency: pause / resume round trips (send to the worker's CommandApplied event)
   to a real worker process (LocalProcessCompute), through the local ZeroMQ bus and through
   the Pub/Sub emulator (PubSubCommandBus + PubSubEventBus; blobs stay local).
2. Telemetry latency: from a frame's creation in the worker (its timestamp) to its arrival at
   a control-plane subscriber (a subscription of its own on Pub/Sub, as each SSE stream has),
   for frames of inputs, outputs and reward observed at 60 Hz.
3. DocumentStore operations per second, SQLite (a temp file) vs the Firestore emulator: get
   of one document, put of one ~1 KB instance document, a find with ("status", "in", [...])
   over 100 documents, and run_in_transaction(get + update) as the projection does it.

Both emulators are started here (Google Cloud CLI) and stopped at the end, error or not.
Figures are ratios against the local baseline measured in the same run, not targets.

Run: cd /work/main && PYTHONPATH=src .venv/bin/python bench/cloud_paths.py [--rounds 200] [--seconds 2]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.gcp.firestore_documents import FirestoreDocumentStore
from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubCommandBus, PubSubEventBus
from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports import DocumentStore

from workers import WorkerBench, policy_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local_emulator"))
import emulators  # the no-Docker emulators, imported from their folder

PROJECT = "ainimal-zookeeper-bench"
INSTANCES = "instances"
STATUSES = ["PENDING", "STARTING", "RUNNING", "PAUSED", "STOPPING", "TERMINATED", "FAILED"]
ACTIVE = STATUSES[:5]
WARM_UP_COMMANDS = 10

# -- emulators


@contextmanager
def running_emulators() -> Iterator[None]:
    """Start the Pub/Sub and Firestore emulators, point the clients at them; stop both after."""
    with ExitStack() as stack:
        for start in (emulators.start_pubsub, emulators.start_firestore):
            emulator = start()
            stack.callback(emulator.log.unlink, missing_ok=True)
            stack.callback(emulator.stop)
            os.environ.update(emulator.env)
        # Before any worker: the fork server the workers come from inherits this environment.
        os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT
        yield


# -- command latency


def round_trips(bench: WorkerBench, instance: str, rounds: int) -> list[float]:
    """Milliseconds from sending each pause / resume to its CommandApplied event."""
    samples = []
    for i in range(rounds):
        command = cmd.Pause(instance) if i % 2 == 0 else cmd.Resume(instance)
        start = time.perf_counter()
        bench.commands.send(command)
        bench.wait_for(lambda e, c=command: isinstance(e, ev.CommandApplied) and e.command_id == c.command_id)
        samples.append((time.perf_counter() - start) * 1000)
        time.sleep(0.005)  # let the worker step between commands
    return samples


def latency_on(bench: WorkerBench, rounds: int) -> dict[str, float]:
    """p50 / p99 ms of `rounds` round trips on a fresh stepping worker (after a warm-up)."""
    try:
        instance = bench.launch(policy_model())
        round_trips(bench, instance, WARM_UP_COMMANDS)  # connections, first pulls
        samples = sorted(round_trips(bench, instance, rounds))
    finally:
        bench.close()
    return {"p50": statistics.median(samples), "p99": samples[math.ceil(len(samples) * 0.99) - 1]}


def local_latency(folder: Path, rounds: int) -> dict[str, float]:
    """Round trips through the local ZeroMQ hub."""
    return latency_on(WorkerBench(folder / "local-blobs"), rounds)


def pubsub_latency(folder: Path, rounds: int) -> dict[str, float]:
    """Round trips through the Pub/Sub emulator (commands and events both)."""
    prefix = f"bench{uuid.uuid4().hex[:6]}-"
    commands = PubSubCommandBus(PROJECT, prefix=prefix)
    try:
        events = PubSubEventBus(PROJECT, prefix=prefix)
        try:
            bench = WorkerBench(folder / "pubsub-blobs", commands, events, commands.connection)
            return latency_on(bench, rounds)
        finally:
            events.close()
    finally:
        commands.close()


# -- telemetry latency


def frame_latencies(bench: WorkerBench, seconds: float) -> dict[str, float]:
    """p50 / p99 ms from frame creation in the worker to a subscriber, over `seconds` at 60 Hz."""
    samples: list[float] = []

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.TelemetryFrame):
            samples.append((time.time() - event.time) * 1000)

    try:
        instance = bench.launch(policy_model())
        unsubscribe = bench.event_bus.subscribe(on_event)
        observe = cmd.ObserveStreams(
            instance, observer_id="bench", streams=["inputs", "outputs", "reward"], max_hz=60, lease_seconds=60
        )
        bench.commands.send(observe)
        time.sleep(1.0)  # warm-up: the first pulls and connections
        samples.clear()
        time.sleep(seconds)
        unsubscribe()
    finally:
        bench.close()
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p99": ordered[math.ceil(len(ordered) * 0.99) - 1],
        "frames/s": len(ordered) / seconds,
    }


def telemetry_latency(folder: Path, seconds: float) -> tuple[dict[str, float], dict[str, float]]:
    """Frame latency through the local ZeroMQ hub, then through the Pub/Sub emulator."""
    local = frame_latencies(WorkerBench(folder / "local-telemetry"), seconds)
    prefix = f"bench{uuid.uuid4().hex[:6]}-"
    commands = PubSubCommandBus(PROJECT, prefix=prefix)
    events = PubSubEventBus(PROJECT, prefix=prefix)
    try:
        pubsub = frame_latencies(
            WorkerBench(folder / "pubsub-telemetry", commands, events, commands.connection), seconds
        )
    finally:
        events.close()
        commands.close()
    return local, pubsub


# -- document stores


def instance_doc(i: int) -> dict[str, Any]:
    """A document shaped like the service's instance documents (about 1 KB of JSON)."""
    return {
        "id": f"inst{i:04d}",
        "model": "MlpPolicy",
        "environment": "CartPole",
        "status": STATUSES[i % len(STATUSES)],
        "mode": "INFER",
        "parameters": {"hidden_sizes": [64, 64], "learning_rate": 0.0003, "gamma": 0.99, "seed_note": "x" * 120},
        "environmentParameters": {"max_episode_steps": 500, "render_mode": None},
        "step": 123456 + i,
        "episode": 789,
        "metrics": {"episode_reward": 187.5, "episode_length": 188, "loss": 0.0123, "fps": 9876.5},
        "owner": "alice@example.com",
        "createdAt": "2024-05-01T12:00:00.000000+00:00",
        "updatedAt": "2024-05-01T12:34:56.000000+00:00",
        "createdEpoch": 1714564800.0,
        "seed": 1234567,
        "modes": ["TRAIN", "INFER", "BOTH", "NONE"],
        "parentCheckpoint": "c" * 32,
        "headCheckpoint": "d" * 32,
        "error": None,
        "notes": "n" * 200,
    }


def store_operations(store: DocumentStore) -> dict[str, Callable[[int], object]]:
    """The timed operations on a store seeded by `seed`; each takes the iteration number."""
    active = [("status", "in", ACTIVE)]

    def read_and_update(tx: DocumentStore, doc_id: str) -> None:
        doc = tx.get(INSTANCES, doc_id)
        assert doc is not None
        tx.update(INSTANCES, doc_id, {"step": doc["step"] + 1})

    return {
        "get": lambda i: store.get(INSTANCES, "inst0000"),
        "put (~1 KB)": lambda i: store.put("bench_puts", f"put{i % 100:03d}", instance_doc(i % 100)),
        "find status in [...] of 100": lambda i: store.find(INSTANCES, active),
        "transaction get+update": lambda i: store.run_in_transaction(lambda tx: read_and_update(tx, "inst0001")),
    }


def seed(store: DocumentStore) -> None:
    """100 instance documents, 5 of every 7 in an active status."""
    for i in range(100):
        store.put(INSTANCES, f"inst{i:04d}", instance_doc(i))
    found = len(store.find(INSTANCES, [("status", "in", ACTIVE)]))
    assert found == sum(1 for i in range(100) if i % len(STATUSES) < len(ACTIVE)), found


def rate(operation: Callable[[int], object], seconds: float) -> float:
    """Calls per second of `operation`, over `seconds` after a few warm-up calls."""
    for i in range(5):
        operation(i)
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        operation(calls)
        calls += 1
    return calls / elapsed


def store_rates(store: DocumentStore, seconds: float) -> dict[str, float]:
    """Operations per second for each operation on `store` (seeded first)."""
    try:
        seed(store)
        return {name: rate(op, seconds) for name, op in store_operations(store).items()}
    finally:
        store.close()


# -- report


def print_latency(local: dict[str, float], pubsub: dict[str, float], rounds: int) -> None:
    """The command latency lines."""
    print(f"command round trip over {rounds} pause/resume commands (worker process, CartPole):")
    for name, figures in (("local ZeroMQ", local), ("Pub/Sub emulator", pubsub)):
        print(f"  {name:<18} p50 {figures['p50']:7.2f} ms   p99 {figures['p99']:7.2f} ms")
    print(f"  Pub/Sub / ZeroMQ   p50 {pubsub['p50'] / local['p50']:6.1f}x     p99 {pubsub['p99'] / local['p99']:6.1f}x")


def print_stores(sqlite: dict[str, float], firestore: dict[str, float], seconds: float) -> None:
    """The DocumentStore table."""
    print(f"DocumentStore ops/s ({seconds:g} s per op per store, one thread):")
    print(f"  {'operation':<30} {'SQLite':>10} {'Firestore em.':>14} {'Firestore/SQLite':>17}")
    for name, local in sqlite.items():
        print(f"  {name:<30} {local:>10,.0f} {firestore[name]:>14,.0f} {firestore[name] / local:>16.4f}x")


def main(rounds: int, seconds: float) -> None:
    """Start the emulators, measure both comparisons, stop the emulators, print."""
    started = time.perf_counter()
    with running_emulators(), tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        local = local_latency(folder, rounds)
        pubsub = pubsub_latency(folder, rounds)
        frames_local, frames_pubsub = telemetry_latency(folder, max(seconds, 3.0))
        sqlite = store_rates(SqliteDocumentStore(folder / "bench.sqlite3"), seconds)
        firestore = store_rates(
            FirestoreDocumentStore(project=PROJECT, prefix=f"bench{uuid.uuid4().hex[:6]}_"), seconds
        )
    print_latency(local, pubsub, rounds)
    print("telemetry, frame created in the worker -> a control-plane subscriber (60 Hz):")
    for name, figures in (("local ZeroMQ", frames_local), ("Pub/Sub emulator", frames_pubsub)):
        print(
            f"  {name:<18} p50 {figures['p50']:7.2f} ms   p99 {figures['p99']:7.2f} ms   "
            f"{figures['frames/s']:.0f} frames/s"
        )
    print_stores(sqlite, firestore, seconds)
    print(f"(whole run {time.perf_counter() - started:.0f} s, emulators included)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="timed commands per bus")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per operation per store")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.seconds)
