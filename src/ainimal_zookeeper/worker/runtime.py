"""The worker's loop: host one AInimal and its env, step them, obey commands, report.

The loop is the hot path: per step it does the agent's forward, the env's step and a clock
read; commands are polled at most every half millisecond and progress is published four
times a second, so the harness costs little next to a bare gymnasium loop.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.factory import build_agent, build_env
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.errors import ZookeeperError
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import CommandInbox, EventOutbox
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.sdk.timestep import Timestep
from ainimal_zookeeper.worker import harness_state
from ainimal_zookeeper.worker.checkpoint_files import MODEL_DIR, fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.worker.introspection import describe_agent

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.25
COMMAND_POLL_EVERY_SECONDS = 0.0005
IDLE_POLL_SECONDS = 0.1
RETURN_WINDOW = 20


class UserCodeFailed(Exception):
    """The AInimal or its env raised; the message says which call."""


class WorkerRuntime:
    """Runs one instance until it is terminated or fails."""

    def __init__(
        self,
        spec: WorkerSpec,
        inbox: CommandInbox,
        outbox: EventOutbox,
        blobs: BlobStore,
        parent_pid: int | None = None,
    ) -> None:
        self.spec = spec
        self.inbox, self.outbox, self.blobs = inbox, outbox, blobs
        self.parent_pid = parent_pid
        self.status = InstanceStatus.RUNNING
        self.mode = RunMode(spec.mode)
        self.step_count = 0
        self.episode = 0
        self.metrics: dict[str, Any] = {}
        self.head_checkpoint = spec.checkpoint_id
        self._returns: deque[float] = deque(maxlen=RETURN_WINDOW)
        self._episode_return: Any = 0.0  # a float; env rewards are added unconverted in the hot loop
        self._episode_length = 0
        self._trajectory: list[Timestep] = []
        self._applied: deque[str] = deque(maxlen=1024)
        self._terminated = False
        self._next_poll = 0.0
        self._next_progress = 0.0
        self._rate_mark = (time.monotonic(), 0)

    def run(self) -> int:
        """Build, then loop until terminated; returns the process exit code."""
        try:
            self._build()
        except Exception as exc:  # noqa: BLE001  # any failure of user code becomes FAILED
            return self._fail(f"could not start: {_describe(exc)}", exc)
        try:
            self._loop()
        except UserCodeFailed as exc:
            return self._fail(str(exc), exc.__cause__)
        except Exception as exc:  # noqa: BLE001
            return self._fail(f"worker error: {_describe(exc)}", exc)
        self.outbox.publish(ev.InstanceTerminated(self.spec.instance_id, step=self.step_count, episode=self.episode))
        return 0

    # building

    def _build(self) -> None:
        self._seed(self.spec.seed)
        self.agent = build_agent(self.spec.model, self.spec.init_params)
        self.env = build_env(self.spec.environment, self.spec.env_init_params) if self.spec.environment else None
        _limit_torch_threads(self.spec.torch_threads)
        self.agent.mode = self.mode.value
        if self.env is not None:
            self.env.action_space.seed(self.spec.seed)
            self._observation, _ = self.env.reset(seed=self.spec.seed)
            if hasattr(self.agent, "discrete_actions"):
                self.agent.discrete_actions = hasattr(self.env.action_space, "n")
        if self.spec.checkpoint_blob_key:
            self._restore(self.spec.checkpoint_blob_key)
        description = describe_agent(self.agent, self.env, getattr(self, "_observation", None))
        self.outbox.publish(
            ev.WorkerStarted(
                self.spec.instance_id,
                status=self.status.value,
                mode=self.mode.value,
                step=self.step_count,
                episode=self.episode,
                metrics=dict(self.metrics),
                architecture=description,
                pid=os.getpid(),
            )
        )

    @staticmethod
    def _seed(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.manual_seed(seed)

    # the loop

    def _loop(self) -> None:
        clock = time.monotonic
        while not self._terminated:
            if self.status is InstanceStatus.RUNNING and self.mode.acts and self.env is not None:
                self._run_steps(clock)
            else:
                self._poll(IDLE_POLL_SECONDS)

    def _run_steps(self, clock: Any) -> None:
        """Step until the next command poll is due (the hot path: keep it lean)."""
        assert self.env is not None
        forward, env_step, learns = self.agent.forward, self.env.step, self.mode.learns
        while True:
            observation = self._observation
            try:
                action = forward({"observation": observation})["action"]
            except Exception as exc:
                raise UserCodeFailed(f"forward raised {_describe(exc)}") from exc
            try:
                next_obs, reward, terminated, truncated, info = env_step(action)
            except Exception as exc:
                raise UserCodeFailed(f"env.step raised {_describe(exc)}") from exc
            self.step_count += 1
            self._episode_length += 1
            self._episode_return += reward
            if learns:
                self._trajectory.append(
                    Timestep(observation, action, float(reward), bool(terminated), bool(truncated), next_obs, info)
                )
            self._observation = next_obs
            if terminated or truncated:
                self._end_episode()
            if clock() >= self._next_poll:
                self._poll(0.0)
                return

    def _end_episode(self) -> None:
        assert self.env is not None
        self.episode += 1
        self._episode_return = float(self._episode_return)
        self._returns.append(self._episode_return)
        self.metrics.update(
            episode_return=self._episode_return,
            episode_length=self._episode_length,
            mean_return=float(np.mean(self._returns)),
        )
        if self.mode.learns and self._trajectory:
            try:
                loss = self.agent.train(self._trajectory)
            except Exception as exc:
                raise UserCodeFailed(f"train raised {_describe(exc)}") from exc
            if loss is not None:
                self.metrics["loss"] = float(np.mean(loss))
        self._trajectory = []
        self._episode_return, self._episode_length = 0.0, 0
        try:
            self._observation, _ = self.env.reset()
        except Exception as exc:
            raise UserCodeFailed(f"env.reset raised {_describe(exc)}") from exc

    def _poll(self, timeout: float) -> None:
        now = time.monotonic()
        self._next_poll = now + COMMAND_POLL_EVERY_SECONDS
        for command in self.inbox.receive(timeout):
            self._apply(command)
        if time.monotonic() >= self._next_progress:
            self._publish_progress()

    def _publish_progress(self) -> None:
        now = time.monotonic()
        self._next_progress = now + PROGRESS_EVERY_SECONDS
        mark_time, mark_steps = self._rate_mark
        if now > mark_time:
            self.metrics["steps_per_second"] = (self.step_count - mark_steps) / (now - mark_time)
        self._rate_mark = (now, self.step_count)
        self.metrics["episodes"] = self.episode
        self.outbox.publish(
            ev.Progress(
                self.spec.instance_id,
                status=self.status.value,
                mode=self.mode.value,
                step=self.step_count,
                episode=self.episode,
                metrics=dict(self.metrics),
                state=_safe_state(self.agent),
            )
        )
        if self.parent_pid is not None and not _parent_alive(self.parent_pid):
            # The control plane is gone; a worker nobody can reach must not run on.
            log.warning("control plane %s is gone; worker %s stops", self.parent_pid, self.spec.instance_id)
            self._terminated = True

    # commands

    def _apply(self, command: cmd.Command) -> None:
        if command.command_id in self._applied:
            self.inbox.ack(command)
            self._confirm(command)
            return
        try:
            self._execute(command)
        except Exception as exc:  # noqa: BLE001  # a failed command leaves the instance running
            log.warning("command %s failed: %s", command.kind, _describe(exc))
            self.outbox.publish(
                ev.CommandRejected(
                    self.spec.instance_id,
                    command_id=command.command_id,
                    command_kind=command.kind,
                    error=_describe(exc),
                )
            )
        else:
            self._confirm(command)
        self._applied.append(command.command_id)
        self.inbox.ack(command)

    def _confirm(self, command: cmd.Command) -> None:
        self.outbox.publish(
            ev.CommandApplied(
                self.spec.instance_id,
                command_id=command.command_id,
                command_kind=command.kind,
                status=self.status.value,
                mode=self.mode.value,
                step=self.step_count,
                episode=self.episode,
            )
        )
        self._next_progress = 0.0

    def _execute(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.Pause):
            self.status = InstanceStatus.PAUSED
        elif isinstance(command, cmd.Resume):
            self.status = InstanceStatus.RUNNING
        elif isinstance(command, cmd.SetMode):
            self._set_mode(RunMode(command.mode))
        elif isinstance(command, cmd.Terminate):
            self.status = InstanceStatus.STOPPING
            self._terminated = True
        elif isinstance(command, cmd.SaveCheckpoint):
            self._save(command)
        elif isinstance(command, cmd.RestoreCheckpoint):
            self._restore(command.blob_key)
            self.head_checkpoint = command.checkpoint_id
            self.outbox.publish(
                ev.CheckpointRestored(
                    self.spec.instance_id,
                    command_id=command.command_id,
                    checkpoint_id=command.checkpoint_id,
                    step=self.step_count,
                    episode=self.episode,
                )
            )

    def _set_mode(self, mode: RunMode) -> None:
        if mode.learns != self.mode.learns:
            # A trajectory half collected under another mode would teach the wrong thing.
            self._trajectory = []
        self.mode = mode
        self.agent.mode = mode.value

    def _save(self, command: cmd.SaveCheckpoint) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="zk-ckpt-"))
        try:
            folder = scratch / "content"
            (folder / MODEL_DIR).mkdir(parents=True)
            self.agent.save(str(folder / MODEL_DIR))
            key, size = store_checkpoint(self.blobs, folder, self._harness_state())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.outbox.publish(
            ev.CheckpointSaved(
                self.spec.instance_id,
                command_id=command.command_id,
                checkpoint_id=command.checkpoint_id,
                tag=command.tag,
                blob_key=key,
                parent_id=self.head_checkpoint,
                step=self.step_count,
                episode=self.episode,
                metrics=dict(self.metrics),
                size_bytes=size,
            )
        )
        self.head_checkpoint = command.checkpoint_id

    def _harness_state(self) -> dict[str, Any]:
        harness: dict[str, Any] = {
            "instance_id": self.spec.instance_id,
            "step": self.step_count,
            "episode": self.episode,
            "metrics": self.metrics,
            "returns": list(self._returns),
            "episode_return": self._episode_return,
            "episode_length": self._episode_length,
            "rng": harness_state.capture_rng(),
        }
        if self.env is not None:
            harness["env"] = harness_state.capture_env(self.env)
            if isinstance(self._observation, np.ndarray):
                harness["observation"] = self._observation.tolist()
        return harness

    def _restore(self, blob_key: str) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="zk-restore-"))
        try:
            harness = fetch_checkpoint(self.blobs, blob_key, scratch)
            self.agent.load(str(scratch / MODEL_DIR))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.step_count, self.episode = harness["step"], harness["episode"]
        self.metrics = dict(harness.get("metrics", {}))
        self._returns = deque(harness.get("returns", []), maxlen=RETURN_WINDOW)
        self._episode_return = harness.get("episode_return", 0.0)
        self._episode_length = harness.get("episode_length", 0)
        self._trajectory = []
        self._rate_mark = (time.monotonic(), self.step_count)
        harness_state.restore_rng(harness["rng"])
        if self.env is not None:
            self._restore_env(harness)

    def _restore_env(self, harness: dict[str, Any]) -> None:
        assert self.env is not None
        restored = "env" in harness and harness_state.restore_env(self.env, harness["env"])
        if restored and "observation" in harness:
            dtype = getattr(self.env.observation_space, "dtype", None)
            self._observation = np.asarray(harness["observation"], dtype=dtype)
        else:
            # The env cannot be put back where it was: start a fresh episode instead.
            self._observation, _ = self.env.reset()
            self._episode_return, self._episode_length = 0.0, 0
        self.metrics["env_state_restored"] = bool(restored)

    def _fail(self, message: str, exc: BaseException | None) -> int:
        if exc is not None:
            log.error(
                "instance %s failed: %s\n%s", self.spec.instance_id, message, "".join(traceback.format_exception(exc))
            )
        self.outbox.publish(ev.InstanceFailed(self.spec.instance_id, error=message))
        return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ZookeeperError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _safe_state(agent: Any) -> dict[str, Any] | None:
    from ainimal_zookeeper.catalog.wrappers import json_safe

    try:
        return json_safe(agent.state)
    except Exception as exc:  # noqa: BLE001  # a broken `state` must not stop the agent
        return {"unavailable": _describe(exc)}


def _limit_torch_threads(threads: int) -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, threads))


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
