"""The worker's loop: host one AInimal and its env, step them, obey commands, report.

The loop is the hot path: per step it does the agent's forward, the env's step and a clock
read; commands are polled every 2 ms and progress is published four times a second, so the
harness costs little next to a bare gymnasium loop.

Observing and overriding take a second, instrumented path (`_instrumented_step`): the lean
loop runs whenever no override is in force, and an observed instance takes the instrumented
path only on the steps it samples for telemetry. A recording adds one call per step to
either path (`StepColumns.add`), plus forward hooks that write each recorded layer's output
in place.
"""

from __future__ import annotations

import base64
import copy
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ainimal_zookeeper.catalog.factory import build_agent, build_env
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.event_origin import checkpoint_prefix
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.domain.streams import StreamSelection, check_recordable, parse_streams
from ainimal_zookeeper.errors import Conflict, InvalidInput, ZookeeperError
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import CommandInbox, EventOutbox
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.recordings import ChunkEncoder
from ainimal_zookeeper.sdk.timestep import Timestep
from ainimal_zookeeper.worker import harness_state
from ainimal_zookeeper.worker.budgets import Budgets, CheckpointSchedule, Saved
from ainimal_zookeeper.worker.checkpoint_files import MODEL_DIR, fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.worker.frames import encode_frame, render_rgb
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.introspection import describe_agent
from ainimal_zookeeper.worker.metric_points import MetricPointsCollector
from ainimal_zookeeper.worker.observers import ObserverLeases
from ainimal_zookeeper.worker.pacing import Pacer, RateMeter, realtime_pace
from ainimal_zookeeper.worker.recorder import Recorder
from ainimal_zookeeper.worker.replay import ReplayRun
from ainimal_zookeeper.worker.step_columns import StepColumns
from ainimal_zookeeper.worker.telemetry import TelemetryCapture
from ainimal_zookeeper.worker.torch_layers import ActivationProbe, filling_hook, named_layers

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.25
#: A poll of the bus costs 10-20 µs in a busy loop (a system call or two): every 0.5 ms that was
#: 3-4% of a 40 µs step, every 2 ms it is under 1%; commands still apply within about 2 ms.
COMMAND_POLL_EVERY_SECONDS = 0.002
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
        self._train_slice = max(1, spec.train_slice_steps)  # the most steps `train` gets at once
        self._applied: deque[str] = deque(maxlen=1024)
        self._inputs_seen: deque[str] = deque(maxlen=256)  # Act / RenewTakeover ids: a resent one counts once
        self._terminated = False
        self._next_poll = 0.0
        self._next_progress = 0.0
        self._rate = RateMeter()
        # Pacing, budgets and the checkpoint schedule (worker/pacing.py, worker/budgets.py);
        # set up for real once the instance is built (a checkpoint may move its step count).
        self._pacer = Pacer()
        self._budgets = Budgets(None, 0, 0)
        self._schedule = CheckpointSchedule(None, 0)
        self._stop_reason: str | None = None
        # While a recording runs, each episode starts from a seed drawn here, so the recording can
        # name it (closed-loop replay); otherwise resets are unseeded, since reseeding an env
        # builds a new generator (tens of microseconds, a share of a cheap agent's episode).
        self._seed_rng = np.random.default_rng(spec.seed)
        self._episode_seed: int | None = spec.seed
        self._leases = ObserverLeases()
        self._recorder: Recorder[StepColumns] | None = None
        self._release_recording_hooks: Callable[[], None] | None = None
        self._record_state: Callable[[], None] | None = None  # a recording of `state` (no torch layers)
        self._replay: ReplayRun | None = None
        self.probe: ActivationProbe | None = None  # reads and patches torch layers (None: no torch)
        self.layer_names: list[str] = []
        self.observation: Any = None  # what the next step acts on
        # The last step's (inputs, outputs, reward, extra activations), for telemetry frames.
        self._last: tuple[Any, Any, Any, dict[str, Any]] = (None, None, None, {})
        # One-shot frame queries (`latestFrame`) the next step answers: (streams, request id).
        self._one_shots: list[tuple[StreamSelection, str]] = []
        self.metric_points = MetricPointsCollector(spec.instance_id, lambda: self.step_count, outbox)

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
        self.metric_points.flush(final=True)
        self.outbox.publish(
            ev.InstanceTerminated(
                self.spec.instance_id, step=self.step_count, episode=self.episode, reason=self._stop_reason
            )
        )
        return 0

    # building

    def _build(self) -> None:
        self._seed(self.spec.seed)
        self.agent = build_agent(self.spec.model, self.spec.init_params)
        self.metric_points.attach(self.agent)
        self.env = build_env(self.spec.environment, self.spec.env_init_params) if self.spec.environment else None
        _limit_torch_threads(self.spec.torch_threads)
        self.agent.mode = self.mode.value
        if self.env is not None:
            self.env.action_space.seed(self.spec.seed)
            self.observation, _ = self.env.reset(seed=self.spec.seed)
            if hasattr(self.agent, "discrete_actions"):
                self.agent.discrete_actions = hasattr(self.env.action_space, "n")
        self.telemetry = TelemetryCapture(self.agent, self.env, named_layers(self.agent))
        if self.spec.checkpoint_blob_key:
            self._restore(self.spec.checkpoint_blob_key)
        description = describe_agent(self.agent, self.env, self.observation)
        self._setup_instruments(description)
        self._setup_pacing()
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

    def _setup_instruments(self, description: dict[str, Any]) -> None:
        layers = named_layers(self.agent)
        self.probe = ActivationProbe(layers) if layers else None
        self.layer_names = list(layers)
        self.modalities = {
            **{f"inputs/{k}": v for k, v in (description.get("inputModalities") or {}).items()},
            **{f"outputs/{k}": v for k, v in (description.get("outputModalities") or {}).items()},
        }
        self.interventions = Interventions(
            description.get("inputModalities"),
            description.get("outputModalities"),
            {layer["name"]: layer.get("output_shape") for layer in description.get("layers") or []},
            self.probe,
            max_input_age_seconds=self.spec.max_input_age_seconds,
        )

    def _setup_pacing(self) -> None:
        spec = self.spec
        self._pacer.configure(realtime_pace(self.env))
        self._pacer.choose(spec.pace, spec.realtime)
        self._budgets = Budgets(spec.stop_after, self.step_count, self.episode)
        self._schedule = CheckpointSchedule(spec.checkpoint_every, self.step_count)

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
            if self._replay is not None:
                self._advance_replay()
            elif self.status is InstanceStatus.RUNNING and self.mode.acts and self.env is not None:
                if self._pacer.update(self.interventions.takeover_active) is not None:
                    self._run_paced_step(clock)
                elif self._instrumented:
                    self._run_instrumented_steps(clock)
                else:
                    self._run_steps(clock)
                    if (self._one_shots or self._leases.due(clock())) and self._stepping:
                        self._instrumented_step(clock(), sample=True)
            else:
                self._pacer.rest()  # no burst to catch up when it steps again
                self._poll(IDLE_POLL_SECONDS)
        self._finish_recording("complete", None)

    @property
    def _instrumented(self) -> bool:
        recording_frames = self._recorder is not None and self._recorder.buffer.wants_frames
        return self.interventions.active or recording_frames

    @property
    def _steps_soon(self) -> bool:
        """Whether the loop is about to take a step (so a frame query can wait for it)."""
        return self._stepping and self.mode.acts and self.env is not None

    @property
    def _stepping(self) -> bool:
        return not self._terminated and self._replay is None and self.status is InstanceStatus.RUNNING

    def _run_steps(self, clock: Any) -> None:
        """Step until the next command poll is due (the hot path: keep it lean)."""
        assert self.env is not None
        forward, env_step, learns = self.agent.forward, self.env.step, self.mode.learns
        record = self._recorder.buffer.add if self._recorder is not None else None
        record_state = self._record_state
        step_limit = self._budgets.step_limit
        while True:
            observation = self.observation
            try:
                outputs = forward({"observation": observation})
                action = outputs["action"]
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
                if len(self._trajectory) >= self._train_slice:  # an endless episode is trained in slices
                    self._train()
            ended = terminated or truncated
            if record is not None:
                record(
                    self.step_count,
                    self.episode,
                    self._episode_seed,
                    observation,
                    outputs,
                    reward,
                    terminated,
                    truncated,
                    next_obs if ended else None,
                )
                if record_state is not None:
                    record_state()
            self.observation = next_obs
            if ended:
                self._end_episode()
            if clock() >= self._next_poll or self.step_count >= step_limit:
                self._poll(0.0)
                return

    def _run_instrumented_steps(self, clock: Any) -> None:
        """Step with overrides, recording and sampling until the next command poll is due."""
        while True:
            now = clock()
            self._instrumented_step(now, sample=bool(self._one_shots) or self._leases.due(now))
            if not self._stepping or not self._instrumented:
                return
            if clock() >= self._next_poll or self.step_count >= self._budgets.step_limit:
                self._poll(0.0)
                return

    def _run_paced_step(self, clock: Any) -> None:
        """One step when its deadline comes; until then the worker sleeps in the command inbox."""
        now = clock()
        wait = self._pacer.wait(now)
        if wait > 0:
            self._poll(wait)  # returns early when a command comes, so commands apply at once
            return
        self._pacer.started(now)
        self._instrumented_step(now, sample=bool(self._one_shots) or self._leases.due(now))
        if clock() >= self._next_poll or self.step_count >= self._budgets.step_limit:
            self._poll(0.0)

    def _instrumented_step(self, now: float, sample: bool) -> None:
        """One step with everything that watches or steers it; the lean loop's slow twin."""
        assert self.env is not None
        interventions, recorder = self.interventions, self._recorder
        waiting = interventions.lockstep_waiting() if interventions.active else None
        if waiting is not None and not self._await_human(waiting):
            return
        used: list[str] = []
        inputs = interventions.apply_inputs({"observation": self.observation}, used)
        # A recording's layers are filled by its own hooks; a sampled step may want more.
        extra = self._sampled_layers() if sample else ()
        try:
            if extra and self.probe is not None:
                with self.probe.capture(extra) as captured:
                    outputs = self.agent.forward(inputs)
            else:
                captured, outputs = {}, self.agent.forward(inputs)
        except Exception as exc:
            raise UserCodeFailed(f"forward raised {_describe(exc)}") from exc
        outputs = interventions.apply_outputs(outputs, used)
        used.extend(interventions.patched_layers())
        action = outputs["action"]
        try:
            next_obs, reward, terminated, truncated, info = self.env.step(action)
        except Exception as exc:
            raise UserCodeFailed(f"env.step raised {_describe(exc)}") from exc
        self.step_count += 1
        self._episode_length += 1
        self._episode_return += reward
        ended = bool(terminated or truncated)
        if self.mode.learns:
            self._trajectory.append(
                Timestep(
                    inputs["observation"],
                    action,
                    float(reward),
                    bool(terminated),
                    bool(truncated),
                    next_obs,
                    info,
                    overridden=bool(used),
                )
            )
            if len(self._trajectory) >= self._train_slice:
                self._train()
        if recorder is not None:
            self._record(
                recorder, now, inputs, outputs, reward, terminated, truncated, used, next_obs if ended else None
            )
        self._last = (inputs, outputs, reward, captured)
        if sample:
            self._publish_samples(now)
        self.observation = next_obs
        if ended:
            self._end_episode()

    def _publish_samples(self, now: float) -> None:
        """The frames this step answers: the observers' (when due) and the one-shot queries'."""
        if self._leases.selection is not None and self._leases.due(now):
            self._publish_frame(self._leases.selection, None)
            self._leases.sampled(now)
        for selection, request_id in self._one_shots:
            self._publish_frame(selection, request_id)
        self._one_shots.clear()

    def _answer_one_shots_now(self) -> None:
        """Frame queries that no step will answer soon (paused, waiting for a person): where it stands."""
        for selection, request_id in self._one_shots:
            self._publish_snapshot(selection, request_id)
        self._one_shots.clear()

    def _sampled_layers(self) -> list[str]:
        """Layers a sampled step captures beyond those a recording holds."""
        if self.probe is None:
            return []
        selections = [selection for selection, _ in self._one_shots]
        if self._leases.selection is not None:
            selections.append(self._leases.selection)
        wanted: dict[str, None] = {}
        for selection in selections:
            if selection.activations:
                wanted.update(dict.fromkeys(selection.layer_names(self.layer_names)))
        recorded = self._recorder.buffer.blocks if self._recorder is not None else {}
        return [name for name in wanted if name not in recorded]

    def _record(
        self,
        recorder: Recorder[StepColumns],
        now: float,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        reward: Any,
        terminated: Any,
        truncated: Any,
        used: list[str],
        final_observation: Any,
    ) -> None:
        columns = recorder.buffer
        columns.add(
            self.step_count,
            self.episode,
            self._episode_seed,
            inputs["observation"],
            outputs,
            reward,
            terminated,
            truncated,
            final_observation,
            used,
        )
        if self._record_state is not None:
            self._record_state()
        if columns.wants_frames and recorder.frame_due(now):
            rgb = render_rgb(self.env)
            if rgb is not None:
                columns.add_frame(base64.b64decode(encode_frame(rgb, fmt="png")["data"]))

    def _await_human(self, takeover: Any) -> bool:
        """Lockstep: wait for the person's action (commands still apply); False if the step is off."""
        deadline = time.monotonic() + takeover.timeout  # never forever: a bad timeout is the default
        while interventions_waiting(self.interventions, takeover):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True  # the AInimal acts for this step
            self._poll(min(remaining, 0.02))
            self._answer_one_shots_now()
            if not self._stepping:
                return False
        return True

    def _publish_frame(self, selection: StreamSelection | None, request_id: str | None) -> None:
        if selection is None:
            return
        inputs, outputs, reward, captured = self._last
        if self._recorder is not None and self._recorder.buffer.blocks:
            captured = {**self._recorder.buffer.latest_activations(), **captured}
        streams = self.telemetry.streams(
            selection,
            inputs=inputs,
            outputs=outputs,
            reward=reward,
            metrics=self.metrics,
            activations=captured,
        )
        self.outbox.publish(
            ev.TelemetryFrame(
                self.spec.instance_id,
                step=self.step_count,
                episode=self.episode,
                streams=streams,
                request_id=request_id,
            )
        )

    def _advance_replay(self) -> None:
        assert self._replay is not None
        if self._replay.advance():
            self._replay = None
        if time.monotonic() >= self._next_poll:
            self._poll(0.0)

    def _finish_recording(self, status: str, error: str | None) -> None:
        recorder, self._recorder = self._recorder, None
        self._record_state = None
        release, self._release_recording_hooks = self._release_recording_hooks, None
        if release is not None:
            release()
        if recorder is not None:
            recorder.stop({"observation": self.observation}, status, error)

    def restart_episode(self) -> None:
        """Begin a fresh episode from this episode's seed (after a replay that could not put the
        env back where it was)."""
        assert self.env is not None
        self.observation, _ = self.env.reset(seed=self._episode_seed)
        self._episode_return, self._episode_length = 0.0, 0

    def _end_episode(self) -> None:
        assert self.env is not None
        self.episode += 1
        self._episode_return = float(self._episode_return)
        self._returns.append(self._episode_return)
        self.metrics.update(
            episode_return=self._episode_return,
            episode_length=self._episode_length,
            mean_return=sum(self._returns) / len(self._returns),  # np.mean costs ~5 µs an episode
        )
        self.metric_points.episode(self._episode_return, self._episode_length)
        if self.mode.learns and self._trajectory:
            self._train()
        self._trajectory = []
        self._episode_return, self._episode_length = 0.0, 0
        if self.episode >= self._budgets.episode_limit:
            self._next_poll = 0.0  # the loop polls after this step, and the budget ends the run
        self._episode_seed = int(self._seed_rng.integers(2**31)) if self._recorder is not None else None
        try:
            self.observation, _ = self.env.reset(seed=self._episode_seed)
        except Exception as exc:
            raise UserCodeFailed(f"env.reset raised {_describe(exc)}") from exc

    def _train(self) -> None:
        """Train on the trajectory so far (an episode, or a slice of a long one), then drop it."""
        trajectory, self._trajectory = self._trajectory, []
        try:
            loss = self.agent.train(trajectory)
        except Exception as exc:
            raise UserCodeFailed(f"train raised {_describe(exc)}") from exc
        self.telemetry.weights_changed()
        try:
            self.metrics.update(self.metric_points.trained(loss))
        except ZookeeperError as exc:
            raise UserCodeFailed(f"train's result: {exc}") from exc

    def _poll(self, timeout: float) -> None:
        now = time.monotonic()
        self._next_poll = now + COMMAND_POLL_EVERY_SECONDS
        # An emergency stop goes before whatever else is queued with it (a stable sort).
        for command in sorted(self.inbox.receive(timeout), key=lambda c: not isinstance(c, cmd.EmergencyStop)):
            self._apply(command)
        if self.interventions.active:
            self._expire_takeovers()
        if self._one_shots and not self._steps_soon:
            self._answer_one_shots_now()
        if self._recorder is not None and not self._recorder.maybe_flush(now):
            self._finish_recording("failed", None)  # a chunk could not be stored: its error says so
        if time.monotonic() >= self._next_progress:
            self._leases.expire(time.monotonic())
            self._publish_progress()
        self._keep_schedule()

    def _keep_schedule(self) -> None:
        """Budgets and scheduled checkpoints, looked at each poll (a few compares when there are none)."""
        if self._replay is not None or self._terminated:
            return
        reason = self._budgets.spent(self.step_count, self.episode)
        if reason is not None:
            log.info("instance %s stops: %s", self.spec.instance_id, reason)
            self._stop_reason = reason
            self.status = InstanceStatus.STOPPING
            self._terminated = True
            return
        due = self._schedule.due(self.step_count) if self._schedule.active else None
        if due is not None:
            self._save_scheduled(due)

    def _save_scheduled(self, due: Saved) -> None:
        command = cmd.SaveCheckpoint(self.spec.instance_id, checkpoint_id=cmd.new_id()[:16], tag=due.tag)
        try:
            self._save(command, keep=due.keep)
        except Exception as exc:  # noqa: BLE001  # a failed save must not stop the run; the next one may work
            log.warning("scheduled checkpoint %s failed: %s", due.tag, _describe(exc))

    def _publish_progress(self) -> None:
        now = time.monotonic()
        self._next_progress = now + PROGRESS_EVERY_SECONDS
        rate = self._rate.mark(now, self.step_count)
        if rate is not None:
            self.metrics["steps_per_second"] = rate
        if self._pacer.steps:
            self.metrics.update(steps_due=self._pacer.due, steps_late=self._pacer.late)
        self.metrics["episodes"] = self.episode
        if self.interventions.dropped_inputs:
            self.metrics["dropped_inputs"] = self.interventions.dropped_inputs
        self.metric_points.on_progress(self.metrics)
        self.outbox.publish(
            ev.Progress(
                self.spec.instance_id,
                status=self.status.value,
                mode=self.mode.value,
                step=self.step_count,
                episode=self.episode,
                metrics=dict(self.metrics),
                state=_safe_state(self.agent),
                pace=self._pacer.pace,
                waiting_for=self.interventions.waiting_for() if self._stepping else None,
            )
        )
        if self.parent_pid is not None and not _parent_alive(self.parent_pid):
            # The control plane is gone; a worker nobody can reach must not run on.
            log.warning("control plane %s is gone; worker %s stops", self.parent_pid, self.spec.instance_id)
            self._terminated = True

    # commands

    def _apply(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.Act | cmd.RenewTakeover):
            self.inbox.ack(command)
            if command.command_id in self._inputs_seen:
                return  # the bus delivers at least once
            self._inputs_seen.append(command.command_id)
        if isinstance(command, cmd.Act):
            # A person's action, many a second: applied without confirmation events.
            try:
                self.interventions.act(command.target, command.value, command.sent_at)
            except ZookeeperError as exc:
                log.info("action for %s ignored: %s", command.target, exc)
            return
        if isinstance(command, cmd.RenewTakeover):  # fire and forget, like Act
            self.interventions.renew(command.override_id)
            return
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
        elif isinstance(command, cmd.EmergencyStop):
            self.status = InstanceStatus.PAUSED
            for override_id, target in self.interventions.clear_all():
                self._announce_override(override_id, target, "", False, None, None, reason="emergency stop")
        elif isinstance(command, cmd.Resume):
            self.status = InstanceStatus.RUNNING
        elif isinstance(command, cmd.SetMode):
            self._set_mode(RunMode(command.mode))
        elif isinstance(command, cmd.Terminate):
            self.status = InstanceStatus.STOPPING
            self._terminated = True
        elif isinstance(command, cmd.SaveCheckpoint):
            self._save(command)
        elif isinstance(command, cmd.ObserveStreams | cmd.SampleTelemetry):
            self._observe(command)
        elif isinstance(command, cmd.SetOverride | cmd.ClearOverride):
            self._override(command)
        elif isinstance(command, cmd.StartRecording):
            self._start_recording(command)
        elif isinstance(command, cmd.StopRecording):
            if self._recorder is None or self._recorder.recording_id != command.recording_id:
                return  # already stopped (a repeated command, or the recording ended with an episode)
            self._finish_recording("complete", None)
        elif isinstance(command, cmd.Replay):
            self._start_replay(command)
        elif isinstance(command, cmd.SetPace):
            self._pacer.choose(command.pace, command.realtime)
            self._pacer.update(self.interventions.takeover_active)
            self._publish_progress()  # before the confirmation: setPace answers with the pace in force
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

    def _observe(self, command: cmd.ObserveStreams | cmd.SampleTelemetry) -> None:
        if isinstance(command, cmd.SampleTelemetry):
            selection = parse_streams(command.streams)
            if self._steps_soon:
                self._one_shots.append((selection, command.request_id))  # answered by the next step
            else:
                self._publish_snapshot(selection, command.request_id)  # paused: where it stands
            return
        if self._leases.set(command.observer_id, command.streams, command.max_hz, command.lease_seconds):
            # A new watcher sees where the instance is at once, even if it is paused.
            self._publish_snapshot(parse_streams(command.streams), None)

    def _publish_snapshot(self, selection: StreamSelection, request_id: str | None) -> None:
        """A frame of where the instance is now: the observation it will act on next."""
        current = {"observation": self.observation} if self.env is not None else None
        saved = self._last
        self._last = (current, *saved[1:])
        try:
            self._publish_frame(selection, request_id)
        finally:
            self._last = saved

    def _override(self, command: cmd.SetOverride | cmd.ClearOverride) -> None:
        if isinstance(command, cmd.SetOverride):
            self.interventions.set(command)
            self._announce_override(
                command.override_id, command.target, command.mode, True, command.set_by, command.takeover
            )
            return
        where = self.interventions.describe(command.override_id)
        if self.interventions.clear(command.override_id) and where is not None:
            self._announce_override(command.override_id, "/".join(where), "", False, None, None)

    def _expire_takeovers(self) -> None:
        """Give control back to the AInimal where a takeover's holder stopped renewing it."""
        for override_id, target, holder in self.interventions.expire():
            log.info("takeover %s of %s by %s: lease expired", override_id, target, holder)
            self._announce_override(override_id, target, "", False, None, None, reason="takeover lease expired")

    def _announce_override(
        self,
        override_id: str,
        target: str,
        mode: str,
        active: bool,
        set_by: str | None,
        takeover: str | None,
        reason: str | None = None,
    ) -> None:
        self.outbox.publish(
            ev.OverrideChanged(
                self.spec.instance_id,
                override_id=override_id,
                target=target,
                mode=mode,
                active=active,
                set_by=set_by,
                takeover=takeover,
                step=self.step_count,
                reason=reason,
            )
        )

    def _start_recording(self, command: cmd.StartRecording) -> None:
        if self._recorder is not None:
            if self._recorder.recording_id == command.recording_id:
                return
            raise Conflict(f"instance is already recording ({self._recorder.recording_id}); stop that one first")
        if self.env is None:
            raise InvalidInput("an instance without an environment has no steps to record")
        selection = parse_streams(command.streams, default=("inputs", "outputs", "reward"))
        check_recordable(selection)
        # A model without torch layers records as activations what it exposes in `state`.
        known = self.layer_names if self.probe is not None else list(_safe_state(self.agent) or {})
        unknown = [name for name in selection.layers if name not in known]
        if unknown:
            raise InvalidInput(f"unknown layers {', '.join(unknown)}; layers: {', '.join(known) or 'none'}")
        layers = selection.layer_names(self.layer_names) if self.probe is not None and selection.activations else []
        encoder = ChunkEncoder(
            command.recording_id,
            {**self.modalities, "final/observation": self.modalities.get("inputs/observation", {})},
        )
        columns = StepColumns(
            layers, encoder, selection.wants("inputs"), selection.wants("outputs"), selection.wants("frame")
        )
        if self.probe is not None and layers:
            hooks = {name: filling_hook(columns.blocks[name], columns.page) for name in layers}
            self._release_recording_hooks = self.probe.hold(hooks)
        elif self.probe is None and selection.activations:
            names = None if selection.all_layers else list(selection.layers)
            self._record_state = partial(_add_state_row, self.agent, columns, names)
        self._recorder = Recorder(
            command.recording_id,
            self.spec.instance_id,
            self.blobs,
            self.outbox,
            columns,
            start_state={**self._harness_state(), "episode_seed": self._episode_seed},
            retry_seconds=self.spec.recording_retry_seconds,
        )

    def _start_replay(self, command: cmd.Replay) -> None:
        if self._replay is not None:
            raise Conflict("a replay is already running on this instance")
        self._replay = ReplayRun(self, command)

    def _set_mode(self, mode: RunMode) -> None:
        if mode.learns != self.mode.learns:
            # A trajectory half collected under another mode would teach the wrong thing.
            self._trajectory = []
        self.mode = mode
        self.agent.mode = mode.value

    def _save(self, command: cmd.SaveCheckpoint, keep: int = 0) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="zk-ckpt-"))
        try:
            folder = scratch / "content"
            (folder / MODEL_DIR).mkdir(parents=True)
            self.agent.save(str(folder / MODEL_DIR))
            key, size = store_checkpoint(
                self.blobs, folder, self._harness_state(), checkpoint_prefix(self.spec.instance_id)
            )
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
                keep=keep,
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
            "seed_rng": self._seed_rng.bit_generator.state,
            "episode_seed": self._episode_seed,
        }
        if self.env is not None:
            harness["env"] = harness_state.capture_env(self.env)
            if isinstance(self.observation, np.ndarray):
                harness["observation"] = self.observation.tolist()
        return harness

    def _restore(self, blob_key: str) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="zk-restore-"))
        try:
            harness = fetch_checkpoint(self.blobs, blob_key, scratch)
            self.agent.load(str(scratch / MODEL_DIR))
            self.telemetry.weights_changed()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        old_step, old_episode = self.step_count, self.episode
        self.step_count, self.episode = harness["step"], harness["episode"]
        self._budgets.moved(old_step, self.step_count, old_episode, self.episode)
        self._schedule.moved(harness["step"])
        self.metrics = dict(harness.get("metrics", {}))
        self._returns = deque(harness.get("returns", []), maxlen=RETURN_WINDOW)
        self._episode_return = harness.get("episode_return", 0.0)
        self._episode_length = harness.get("episode_length", 0)
        self._trajectory = []
        self._rate.reset()
        harness_state.restore_rng(harness["rng"])
        if "seed_rng" in harness:
            self._seed_rng.bit_generator.state = harness["seed_rng"]
            self._episode_seed = harness.get("episode_seed", self._episode_seed)
        if self.env is not None:
            self._restore_env(harness)

    def _restore_env(self, harness: dict[str, Any]) -> None:
        assert self.env is not None
        restored = "env" in harness and harness_state.restore_env(self.env, harness["env"])
        if restored and "observation" in harness:
            dtype = getattr(self.env.observation_space, "dtype", None)
            self.observation = np.asarray(harness["observation"], dtype=dtype)
        else:
            # The env cannot be put back where it was: start a fresh episode instead.
            self.observation, _ = self.env.reset()
            self._episode_return, self._episode_length = 0.0, 0
        self.metrics["env_state_restored"] = bool(restored)

    def _fail(self, message: str, exc: BaseException | None) -> int:
        if exc is not None:
            log.error(  # a "traceback" line in the instance's logs (worker/log_capture.py)
                "instance %s failed: %s\n%s",
                self.spec.instance_id,
                message,
                "".join(traceback.format_exception(exc)),
                extra={"log_stream": "traceback"},
            )
        try:
            self._finish_recording("failed", message)
        except Exception:  # the failure report matters more than the last chunk
            log.exception("could not close the recording")
        try:
            self.metric_points.flush(final=True)  # the points up to the failure show why
        except Exception:
            log.exception("could not publish the last metric points")
        self.outbox.publish(ev.InstanceFailed(self.spec.instance_id, error=message))
        return 1


def interventions_waiting(interventions: Interventions, takeover: Any) -> bool:
    """Whether a lockstep takeover is still in force and still has no action for this step."""
    return interventions.lockstep_waiting() is takeover


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ZookeeperError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _add_state_row(agent: Any, columns: StepColumns, names: list[str] | None) -> None:
    """Record the step's `state` (all of it, or `names`); a step whose state cannot be read gets None."""
    try:
        state = agent.state
    except Exception as exc:  # noqa: BLE001  # a broken `state` must not stop the agent
        log.debug("state not recorded: %s", _describe(exc))
        return
    if not isinstance(state, dict):
        return
    chosen = state if names is None else {name: state.get(name) for name in names}
    # Copies: an agent may update its arrays and lists in place at the next step.
    columns.add_state({name: _snapshot(value) for name, value in chosen.items()})


def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, dict)):
        return copy.deepcopy(value)
    return value


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
