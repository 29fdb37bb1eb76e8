"""`train` gets trajectories of bounded length: an episode longer than the slice is trained in slices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.runtime import WorkerRuntime

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SLICE = 64


class StopAfterTraining:
    """An inbox that terminates the worker once `train` ran `times` times, watching the trajectory held."""

    doorbell = None  # none: the worker asks `receive` on a timer

    def __init__(self, times: int, first: list[cmd.Command] | None = None) -> None:
        self.times = times
        self.first = list(first or [])  # delivered at the first poll
        self.runtime: WorkerRuntime | None = None
        self.most_held = 0

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        runtime = self.runtime
        assert runtime is not None
        self.most_held = max(self.most_held, len(runtime.episodes.trajectory))
        if self.first:
            first, self.first = self.first, []
            return first
        agent = getattr(runtime, "agent", None)
        if agent is not None and len(agent.trained) >= self.times:
            return [cmd.Terminate("i")]
        return []

    def ack(self, command: cmd.Command) -> None:
        pass

    def close(self) -> None:
        pass


class Outbox:
    def publish(self, event: Any) -> None:
        pass

    def close(self) -> None:
        pass


def run(
    tmp_path: Path,
    environment: dict[str, Any],
    times: int,
    env_params: dict[str, Any] | None = None,
    first: list[cmd.Command] | None = None,
) -> tuple[WorkerRuntime, StopAfterTraining]:
    spec = WorkerSpec(
        instance_id="i",
        model={
            "name": "Lengths",
            "type": "ainimal",
            "path": str(FIXTURES / "agents.py"),
            "class_name": "TrajectoryLengthAgent",
        },
        environment=environment,
        init_params={},
        env_init_params=env_params or {},
        mode="TRAIN",
        connection={},
        seed=1,
        train_slice_steps=SLICE,
    )
    inbox = StopAfterTraining(times, first)
    runtime = WorkerRuntime(spec, inbox, Outbox(), LocalBlobStore(tmp_path / "blobs"))  # type: ignore[arg-type]
    inbox.runtime = runtime
    assert runtime.run() == 0
    return runtime, inbox


ENDLESS = {"name": "Endless", "type": "ainimal", "path": str(FIXTURES / "envs.py"), "class_name": "EndlessEnv"}


def test_an_episode_that_never_ends_is_trained_in_slices_and_never_held_whole(tmp_path):
    runtime, inbox = run(tmp_path, ENDLESS, times=20)  # many slices: far past the bound
    trained = runtime.agent.trained  # type: ignore[attr-defined]
    assert len(trained) >= 20
    # Each slice is the bound's length, and none ends the episode (it goes on).
    assert set(trained) == {(SLICE, False, False)}
    assert runtime.episode == 0 and runtime.step_count >= 20 * SLICE
    assert inbox.most_held < SLICE  # memory: never more than one slice in progress


def test_an_episode_longer_than_a_slice_is_trained_in_slices_then_its_rest(tmp_path):
    echo = {"name": "Echo", "type": "ainimal", "path": str(FIXTURES / "envs.py"), "class_name": "EchoEnv"}
    runtime, _ = run(tmp_path, echo, times=3, env_params={"episode_steps": 150})
    trained = runtime.agent.trained  # type: ignore[attr-defined]
    # 150 steps = 64 + 64 + 22; the last slice ends the episode (truncated by the env).
    assert trained[:3] == [(SLICE, False, False), (SLICE, False, False), (150 - 2 * SLICE, False, True)]


def test_overridden_steps_are_trained_in_slices_too(tmp_path):
    override = cmd.SetOverride("i", override_id="o", target="outputs/action", value=1)
    runtime, inbox = run(tmp_path, ENDLESS, times=5, first=[override])  # the instrumented path
    assert runtime.interventions.active  # the steps took the instrumented path
    trained = runtime.agent.trained  # type: ignore[attr-defined]
    assert len(trained) >= 5 and set(trained) == {(SLICE, False, False)}
    assert inbox.most_held < SLICE
