"""Replay a recording through this worker's AInimal, a batch of steps between command polls.

open_loop feeds the recorded inputs to `forward` (the env is not touched); closed_loop puts
the env back where the recording started (its saved state, else the first recorded episode's
seed), lets the AInimal act, and starts each of its episodes as the recording's began
(`EpisodeStarts`). Either way the AInimal's outputs (and the recorded layers'
activations) go into a new recording, row for row with the recorded steps, so the control
plane can compare the two. The instance's own run (env, random generators) is put back after.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Protocol

import numpy as np

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.recordings import ChunkBuffer, column_values, read_recording
from ainimal_zookeeper.worker import harness_state
from ainimal_zookeeper.worker.episode_starts import EpisodeStarts
from ainimal_zookeeper.worker.recorder import Recorder, start_key
from ainimal_zookeeper.worker.torch_layers import ActivationProbe, copying_hook

log = logging.getLogger(__name__)

MODES = ("open_loop", "closed_loop")
STEPS_PER_BATCH = 256


class ReplayHost(Protocol):
    """What a replay uses of the worker hosting it (`WorkerRuntime`)."""

    observation: Any  # what the instance's next step acts on; a closed-loop replay puts it back

    @property
    def spec(self) -> WorkerSpec: ...

    @property
    def agent(self) -> Any: ...

    @property
    def env(self) -> Any: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def modalities(self) -> dict[str, dict[str, Any]]: ...

    @property
    def probe(self) -> ActivationProbe | None: ...

    @property
    def layer_names(self) -> list[str]: ...

    def restart_episode(self) -> None:
        """Begin a fresh episode (the env could not be put back after a closed-loop replay)."""
        ...


class ReplayRun:
    """One replay in progress; `advance` runs a batch and says when it is done."""

    def __init__(self, runtime: ReplayHost, command: cmd.Replay) -> None:
        if command.mode not in MODES:
            raise InvalidInput(f"replay mode must be one of {', '.join(MODES)}, got {command.mode!r}")
        if command.mode == "closed_loop" and runtime.env is None:
            raise InvalidInput("a closed-loop replay needs the instance to have an environment")
        self.runtime, self.command = runtime, command
        table = read_recording(runtime.blobs, command.chunk_keys)
        if "inputs/observation" not in table.column_names:
            raise InvalidInput(f"recording {command.recording_id} did not record inputs, so it cannot be replayed")
        self.total = table.num_rows
        self.inputs = column_values(table, "inputs/observation")
        self.steps = column_values(table, "step")
        self.episodes = column_values(table, "episode")
        self.layers = [
            name.split("/", 1)[1]
            for name in table.column_names
            if name.startswith("activations/") and name.split("/", 1)[1] in runtime.layer_names
        ]
        self.starts = EpisodeStarts.of(table)
        self.start = _load_start(runtime, command.recording_id)
        self.index = 0
        self._saved = self._save_run()
        try:
            if self.start and "rng" in self.start:
                # Agents drawing from the global generators then draw what they drew when recorded.
                harness_state.restore_rng(self.start["rng"])
            if command.mode == "closed_loop":
                self._observation = self._closed_loop_start()
        except Exception:
            self._restore_run()  # the instance goes on as it was
            raise
        # Last, once nothing above can fail: a writer thread and hooks that _finish takes down.
        self.recorder = Recorder(
            command.output_recording_id,
            runtime.spec.instance_id,
            runtime.blobs,
            runtime.outbox,
            ChunkBuffer(command.output_recording_id, runtime.modalities),
            retry_seconds=runtime.spec.recording_retry_seconds,
        )
        # The layers' outputs, refilled by hooks that stay on for the whole replay.
        self._captured: dict[str, Any] = {}
        self._release_hooks = (
            runtime.probe.hold({name: copying_hook(self._captured, name) for name in self.layers})
            if self.layers and runtime.probe is not None
            else None
        )
        self._progress("running")

    def advance(self) -> bool:
        """Replay up to a batch of steps; True once the replay has ended (either way)."""
        try:
            end = min(self.index + STEPS_PER_BATCH, self.total)
            for i in range(self.index, end):
                self._step(i)
            self.index = end
        except Exception as exc:  # noqa: BLE001  # a replay that breaks fails alone, not the instance
            log.warning("replay %s failed: %s", self.command.replay_id, exc)
            self._finish("failed", f"step {self.index}: {type(exc).__name__}: {exc}")
            return True
        if self.index >= self.total:
            self._finish("complete", None)
            return True
        if not self.recorder.maybe_flush(time.monotonic()):  # chunks as it goes, not one at the end
            self._finish("failed", self.recorder.failure)
            return True
        self._progress("running")
        return False

    # one step

    def _step(self, i: int) -> None:
        runtime = self.runtime
        if self.command.mode == "open_loop":
            observation = self.inputs[i]
        else:
            observation = self._observation
        outputs, captured = self._forward({"observation": observation})
        row: dict[str, Any] = {
            "step": self.steps[i],
            "episode": self.episodes[i],
            "inputs/observation": observation,
            **{f"outputs/{name}": value for name, value in outputs.items()},
            **{f"activations/{name}": value for name, value in captured.items()},
        }
        if self.command.mode == "closed_loop":
            assert runtime.env is not None
            next_obs, reward, terminated, truncated, _info = runtime.env.step(outputs["action"])
            self.starts.followed(i, outputs["action"])
            row.update(reward=float(reward), terminated=bool(terminated), truncated=bool(truncated))
            if terminated or truncated:
                row["final/observation"] = next_obs
                next_obs = self.starts.reset(runtime.env, i + 1)
            self._observation = next_obs
        self.recorder.buffer.append(row)

    def _forward(self, inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        self._captured.clear()
        outputs = self.runtime.agent.forward(inputs)
        return outputs, dict(self._captured)

    # start and end

    def _closed_loop_start(self) -> Any:
        env = self.runtime.env
        assert env is not None
        start = self.start or {}
        if "env" in start and "observation" in start and harness_state.restore_env(env, start["env"]):
            self.starts.put_back()
            dtype = getattr(env.observation_space, "dtype", None)
            return np.asarray(start["observation"], dtype=dtype)
        # The env cannot be put back mid-episode: begin where the first recorded episode began.
        if self.starts.starts:
            return self.starts.reset(env, 0)
        observation, _ = env.reset(seed=start.get("episode_seed"))
        return observation

    def _save_run(self) -> dict[str, Any]:
        runtime = self.runtime
        saved: dict[str, Any] = {"rng": harness_state.capture_rng()}
        if runtime.env is not None and self.command.mode == "closed_loop":
            saved["env"] = harness_state.capture_env(runtime.env)
            saved["observation"] = runtime.observation
        return saved

    def _restore_run(self) -> None:
        runtime = self.runtime
        harness_state.restore_rng(self._saved["rng"])
        if "env" not in self._saved:
            return
        assert runtime.env is not None
        if harness_state.restore_env(runtime.env, self._saved["env"]):
            runtime.observation = self._saved["observation"]
        else:
            runtime.restart_episode()  # the env cannot be put back: a fresh episode after the replay

    def _finish(self, status: str, error: str | None) -> None:
        final = {"observation": self._observation} if self.command.mode == "closed_loop" else None
        try:
            if self._release_hooks is not None:
                self._release_hooks()
            self.recorder.stop(final, "complete" if status == "complete" else "failed", error)
        finally:
            self._restore_run()
            self._progress(status, error)

    def _progress(self, status: str, error: str | None = None) -> None:
        self.runtime.outbox.publish(
            ev.ReplayProgress(
                self.runtime.spec.instance_id,
                replay_id=self.command.replay_id,
                status=status,
                steps=self.index,
                error=error,
            )
        )


def _load_start(runtime: ReplayHost, recording_id: str) -> dict[str, Any] | None:
    key = start_key(recording_id)
    if not runtime.blobs.exists(key):
        return None
    try:
        loaded = json.loads(runtime.blobs.get(key))
    except ValueError:
        log.warning("start state of recording %s is unreadable; replaying without it", recording_id)
        return None
    return loaded if isinstance(loaded, dict) else None
