"""The worker publishes metric points: episodes, train results, rates and what the AInimal logs."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.metric_points import MetricPointsCollector
from ainimal_zookeeper.worker.runtime import WorkerRuntime

AGENTS = str(Path(__file__).resolve().parents[1] / "fixtures" / "metric_agents.py")
CARTPOLE = {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}


class Inbox:
    doorbell = None  # none: the worker asks `receive` on a timer

    def __init__(self) -> None:
        self.commands: queue.Queue[cmd.Command] = queue.Queue()

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        try:
            return [self.commands.get(timeout=timeout) if timeout > 0 else self.commands.get_nowait()]
        except queue.Empty:
            return []

    def ack(self, command: cmd.Command) -> None:
        pass

    def close(self) -> None:
        pass


class Outbox:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def publish(self, event: ev.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def points(self) -> dict[str, list[float | None]]:
        found: dict[str, list[float | None]] = {}
        for event in list(self.events):
            if isinstance(event, ev.MetricPoints):
                for series in event.series:
                    found.setdefault(series["name"], []).extend(series["values"])
        return found


def run_worker(tmp_path, model, params=None, until=None, timeout=20.0):
    """Run a TRAIN worker (flushing every 0.05 s) until `until(outbox)` holds; terminate it."""
    spec = WorkerSpec(
        instance_id="m1",
        model=model,
        environment=CARTPOLE,
        init_params=params or {},
        env_init_params={},
        mode="TRAIN",
        connection={},
        seed=3,
    )
    inbox, outbox = Inbox(), Outbox()
    runtime = WorkerRuntime(spec, inbox, outbox, LocalBlobStore(tmp_path / "blobs"))
    runtime.episodes.metric_points = MetricPointsCollector("m1", lambda: runtime.step_count, outbox, flush_seconds=0.05)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(runtime.run()))
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and not (until and until(outbox)) and time.monotonic() < deadline:
        time.sleep(0.02)
    inbox.commands.put(cmd.Terminate("m1"))
    thread.join(10)
    assert not thread.is_alive()
    return codes[0], outbox


LOGGER = {"name": "Logger", "type": "ainimal", "path": AGENTS, "class_name": "LoggingAgent"}


def test_an_ainimals_logged_scalars_and_train_dict_are_published_with_the_harness_metrics(tmp_path):
    wanted = {"episode_return", "episode_length", "steps_per_second", "loss", "entropy", "cart/position"}
    wanted.add("train/trajectory_length")

    def enough(outbox: Outbox) -> bool:
        flushes = sum(isinstance(e, ev.MetricPoints) for e in outbox.events)
        return flushes >= 5 and wanted <= set(outbox.points())

    code, outbox = run_worker(tmp_path, LOGGER, until=enough)
    assert code == 0
    points = outbox.points()
    assert wanted <= set(points)
    assert all(v == 0.5 for v in points["entropy"])
    assert all(isinstance(v, float) for v in points["cart/position"])
    flushes = [e for e in outbox.events if isinstance(e, ev.MetricPoints)]
    assert [e.seq for e in flushes] == list(range(1, len(flushes) + 1))
    assert flushes[-1].final, "the worker's last flush says so"
    assert all(len(s["steps"]) <= 33 for e in flushes for s in e.series), "bounded per name and flush"
    progress = [e for e in outbox.events if isinstance(e, ev.Progress)]
    assert any("cart/position" in p.metrics and "entropy" in p.metrics for p in progress), (
        "the latest logged values are in the instance's current metrics too"
    )


def test_a_non_number_logged_fails_the_instance_naming_the_metric_and_the_type(tmp_path):
    code, outbox = run_worker(tmp_path, LOGGER, params={"bad_after": 30})
    assert code == 1
    (failed,) = [e for e in outbox.events if isinstance(e, ev.InstanceFailed)]
    assert failed.error == "forward raised log('reward_avg') expects a number (int or float), got str 'abc'"
    assert "cart/position" in outbox.points(), "the points up to the failure are published"


def test_a_plain_class_whose_train_returns_a_dict_gets_its_scalars_kept(tmp_path):
    plain = {"name": "PlainLearner", "type": "python_class", "path": AGENTS, "class_name": "PlainLearner"}
    code, outbox = run_worker(tmp_path, plain, until=lambda o: {"loss", "updates"} <= set(o.points()))
    assert code == 0
    points = outbox.points()
    assert set(points["loss"]) == {0.25}
    assert points["updates"] == sorted(points["updates"])
