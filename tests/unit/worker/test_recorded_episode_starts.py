"""A recording seeds an episode only every so many steps; a closed-loop replay still starts each
of its episodes where the recording's began, whether it follows the recording or leaves it.

The worker runs in this thread on a scripted inbox and a clock the test owns (scripted_worker.py), on `DriftEnv`, whose every step draws from the env's generator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scripted_worker import FIXTURES, Clock, Outbox, ScriptedInbox

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.catalog.env_adapters import DmEnvAdapter, PythonClassEnv
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.recordings import column_values, read_recording
from ainimal_zookeeper.worker import episode_starts, recording_session
from ainimal_zookeeper.worker.episode_starts import EpisodeStart, EpisodeStarts
from ainimal_zookeeper.worker.runtime import WorkerRuntime

RESEED_EVERY = 12  # short, so that a few hundred steps hold many seeded and continued episodes


def spec(instance_id: str, agent: str, init: dict[str, Any]) -> WorkerSpec:
    return WorkerSpec(
        instance_id=instance_id,
        model={"name": agent, "type": "ainimal", "path": str(FIXTURES / "agents.py"), "class_name": agent},
        environment={"name": "Drift", "type": "ainimal", "path": str(FIXTURES / "envs.py"), "class_name": "DriftEnv"},
        init_params=init,
        env_init_params={},
        mode="INFER",
        connection={},
        seed=7,
    )


def run(blobs: LocalBlobStore, worker: WorkerSpec, script: list[tuple[float, cmd.Command]]) -> Outbox:
    clock = Clock(tick=0.001)
    outbox = Outbox(clock)
    runtime = WorkerRuntime(worker, ScriptedInbox(clock, script), outbox, blobs, clock=clock)  # type: ignore[arg-type]
    assert runtime.run() == 0
    assert not outbox.of(ev.InstanceFailed) and not outbox.of(ev.CommandRejected)
    return outbox


def chunk_keys(outbox: Outbox, recording_id: str) -> list[str]:
    written = [e for e in outbox.of(ev.RecordingChunkWritten) if e.recording_id == recording_id]
    return [e.blob_key for e in sorted(written, key=lambda e: e.chunk_index)]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalBlobStore, list[str]]:
    """About 400 steps of CountingAgent (random actions) on DriftEnv, recorded."""
    monkeypatch.setattr(recording_session, "RESEED_EVERY_STEPS", RESEED_EVERY)
    blobs = LocalBlobStore(tmp_path / "blobs")
    start = cmd.StartRecording("r", recording_id="rec", streams=["inputs", "outputs", "reward"])
    script = [(0.05, start), (0.45, cmd.StopRecording("r", recording_id="rec")), (0.5, cmd.Terminate("r"))]
    outbox = run(blobs, spec("r", "CountingAgent", {}), script)
    return blobs, chunk_keys(outbox, "rec")


@pytest.fixture
def catch_ups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The episode starts a replay reached by stepping the recorded actions (`_catch_up`)."""
    reached: list[int] = []
    original = EpisodeStarts._catch_up

    def counted(self: EpisodeStarts, env: Any, index: int) -> Any:
        reached.append(index)
        return original(self, env, index)

    monkeypatch.setattr(EpisodeStarts, "_catch_up", counted)
    return reached


def replay(blobs: LocalBlobStore, keys: list[str], agent: str, init: dict[str, Any]) -> Any:
    """A closed-loop replay of the recording through `agent` on a new instance; its output recording."""
    command = cmd.Replay(
        "p", replay_id="p1", recording_id="rec", chunk_keys=keys, mode="closed_loop", output_recording_id="out"
    )
    outbox = run(blobs, spec("p", agent, init), [(0.0, cmd.Pause("p")), (0.01, command), (30.0, cmd.Terminate("p"))])
    assert [e.status for e in outbox.of(ev.ReplayProgress)][-1] == "complete"
    return read_recording(blobs, chunk_keys(outbox, "out"))


def starts_of(table: Any) -> list[Any]:
    """The first observation of each episode that begins inside `table`, in order."""
    observations = column_values(table, "inputs/observation")
    terminated, truncated = column_values(table, "terminated"), column_values(table, "truncated")
    return [observations[row + 1] for row in range(len(observations) - 1) if terminated[row] or truncated[row]]


def test_a_recording_seeds_its_first_episode_then_one_every_so_many_steps(recorded):
    blobs, keys = recorded
    starts = EpisodeStarts.of(read_recording(blobs, keys)).starts
    assert len(starts) >= 40
    assert starts[0].seed is not None  # whatever ran before the recording
    last_seeded = starts[0].row
    for start in starts[1:]:
        assert (start.seed is not None) == (start.row - last_seeded >= RESEED_EVERY), start
        if start.seed is not None:
            last_seeded = start.row
    seeded = [start for start in starts if start.seed is not None]
    assert 5 <= len(seeded) < len(starts) / 2  # most episodes of ~4 steps continue the generator


def test_a_replay_that_leaves_the_recording_still_starts_each_episode_where_the_recording_did(recorded, catch_ups):
    blobs, keys = recorded
    recording = read_recording(blobs, keys)
    replayed = replay(blobs, keys, "ConstantAgent", {"action": 1})
    # It did leave: other actions, so its episodes end on other rows.
    assert column_values(replayed, "outputs/action") != column_values(recording, "outputs/action")
    # It began where the recording began (the env's state put back), then each episode it
    # began, as far as the recorded ones go, began as the recording's.
    first = column_values(replayed, "inputs/observation")[0]
    np.testing.assert_array_equal(first, column_values(recording, "inputs/observation")[0])
    recorded_starts, replayed_starts = starts_of(recording), starts_of(replayed)
    reached = min(len(recorded_starts), len(replayed_starts))
    assert reached >= 20
    np.testing.assert_array_equal(replayed_starts[:reached], recorded_starts[:reached])
    assert len(catch_ups) >= 10  # continued episodes, reached by stepping the recorded actions


def test_a_replay_that_follows_the_recording_needs_no_catching_up(recorded, catch_ups):
    blobs, keys = recorded
    recording = read_recording(blobs, keys)
    replayed = replay(blobs, keys, "CountingAgent", {})  # the same global draws: the same actions
    for name in ("inputs/observation", "outputs/action", "terminated"):
        np.testing.assert_array_equal(column_values(replayed, name), column_values(recording, name))
    assert catch_ups == []


class CountingEnv:
    """Stands for an env: counts its resets by seed and its steps."""

    def __init__(self) -> None:
        self.resets: list[int | None] = []
        self.steps: list[Any] = []

    def reset(self, seed: int | None = None) -> tuple[Any, dict]:
        self.resets.append(seed)
        return len(self.resets), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self.steps.append(action)
        return 0, 0.0, False, False, {}


def test_catching_up_resets_to_the_last_seed_and_steps_the_recorded_actions_up_to_the_start():
    # Episodes: rows 0-1 (before), 2-4 seeded 5, 5-6 and 7-9 continued.
    starts = [EpisodeStart(2, 5), EpisodeStart(5, None), EpisodeStart(7, None)]
    actions = list(range(10))
    ends = [row in (1, 4, 6) for row in range(10)]
    env = CountingEnv()
    book = EpisodeStarts(starts, actions, ends)
    book.reset(env, 3)  # a replay off by a row: seeded starts need no catching up
    book.reset(env, 4)
    book.reset(env, 9)
    assert env.resets == [5, 5, None, 5, None, None]
    assert env.steps == [2, 3, 4, 2, 3, 4, 5, 6]


def test_past_the_recorded_episodes_or_without_recorded_actions_an_episode_starts_unseeded(caplog):
    env = CountingEnv()
    book = EpisodeStarts([EpisodeStart(2, None)], None, [False, True, False])
    book.reset(env, 1)
    assert "cannot be put back as recorded" in caplog.text
    book.reset(env, 5)
    assert env.resets == [None, None] and env.steps == []


def test_envs_whose_seed_may_reach_the_global_generators_have_every_recorded_episode_seeded():
    assert DmEnvAdapter.randomness_may_be_global and PythonClassEnv.randomness_may_be_global
    assert episode_starts._same(np.int64(1), 1) and not episode_starts._same([0.5, 1.0], np.array([0.5, 2.0]))
    assert not episode_starts._same(np.ones(2), np.ones(3))  # not comparable: a catch-up, not a crash
