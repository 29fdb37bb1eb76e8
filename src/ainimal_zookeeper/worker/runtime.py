"""The worker's loop: host one AInimal and its env, step them, obey commands, report.

The hot path is `LeanLoop`: per step the agent's forward, the env's step, a clock read and a
look at the inbox's doorbell; the rest of a poll is done every 10 ms, so the harness costs
little next to a bare gymnasium loop. Observing and overriding take a second, instrumented
path (`InstrumentedStep`), which an observed instance takes only on the steps it samples.
Collaborators do the rest, one job each: `Episodes` (where the run stands, the
bookkeeping both paths share), `RunControl`, `CommandTable`, `Housekeeping` (budgets, progress,
leases), `Checkpoints`, `RecordingSession`, `TelemetrySampling`, `Steering` (override commands)
and `ProgressReports`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.ports.blobs import BlobStore
from ainimal_zookeeper.ports.bus import CommandInbox, EventOutbox
from ainimal_zookeeper.ports.compute import WorkerSpec
from ainimal_zookeeper.worker.building import build_agent_and_env, instruments, telemetry_capture
from ainimal_zookeeper.worker.checkpoints import Checkpoints
from ainimal_zookeeper.worker.commands import CommandTable, Handler
from ainimal_zookeeper.worker.control import RunControl
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.housekeeping import Housekeeping
from ainimal_zookeeper.worker.instrumented import InstrumentedStep
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.lean_loop import COMMAND_POLL_EVERY_SECONDS, LeanLoop
from ainimal_zookeeper.worker.metric_points import MetricPointsCollector
from ainimal_zookeeper.worker.pacing import Pacer, realtime_pace
from ainimal_zookeeper.worker.progress import ProgressReports
from ainimal_zookeeper.worker.recording_session import RecordingSession
from ainimal_zookeeper.worker.sampling import TelemetrySampling
from ainimal_zookeeper.worker.steering import Steering
from ainimal_zookeeper.worker.telemetry import TelemetryCapture
from ainimal_zookeeper.worker.torch_layers import ActivationProbe
from ainimal_zookeeper.worker.user_code import UserCodeFailed, log_failure
from ainimal_zookeeper.worker.user_code import describe as _describe

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.1


class WorkerRuntime:
    """Runs one instance until it is terminated or fails."""

    def __init__(
        self,
        spec: WorkerSpec,
        inbox: CommandInbox,
        outbox: EventOutbox,
        blobs: BlobStore,
        parent_pid: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock`: monotonic seconds, for every lease, timeout and schedule of the loop (tests pass theirs)."""
        self.spec, self._clock = spec, clock
        self.inbox, self.outbox, self.blobs = inbox, outbox, blobs
        self.parent_pid = parent_pid
        self._next_poll = 0.0
        self._pacer = Pacer(clock)  # set up for real once the instance is built
        # What is built from the spec (`_build`); read by replays (`ReplayHost`) and tests.
        self.agent: Any = None
        self.env: Any = None
        self.telemetry: TelemetryCapture | None = None
        self.probe: ActivationProbe | None = None  # reads and patches torch layers (None: no torch)
        self.layer_names: list[str] = []
        self.modalities: dict[str, Any] = {}
        self.interventions = Interventions(None, None, {})  # none in force until the AInimal is built
        book = self.episodes = Episodes(
            spec.instance_id,
            spec.seed,
            spec.train_slice_steps,
            MetricPointsCollector(spec.instance_id, lambda: self.episodes.step_count, outbox),
            self._weights_changed,
        )
        self.progress = ProgressReports(outbox, book, self._pacer, parent_pid, clock)
        self.checkpoints = Checkpoints(blobs, outbox, book, spec.checkpoint_id)
        self.recording = RecordingSession(blobs, outbox, book, spec.recording_retry_seconds)
        self.sampling = TelemetrySampling(
            outbox,
            book,
            self.recording.recorded_blocks,
            self.recording.latest_activations,
            lambda: control.steps_soon,
            clock,
        )
        self.instrumented = InstrumentedStep(book, self.sampling, self.recording)
        self.steering = Steering(spec.instance_id, outbox, lambda: book.step_count)
        control = self.control = RunControl(
            RunMode(spec.mode), book, self._pacer, self.steering, self, self._publish_progress
        )
        handlers: dict[type[cmd.Command], Handler] = {
            **control.handlers(),
            cmd.SaveCheckpoint: self.checkpoints.save,
            cmd.RestoreCheckpoint: self._restore_checkpoint,
            cmd.ObserveStreams: self.sampling.observe,
            cmd.SampleTelemetry: self.sampling.observe,
            cmd.SetOverride: self.steering.override,
            cmd.ClearOverride: self.steering.override,
            cmd.StartRecording: self.recording.start,
            cmd.StopRecording: self.recording.stop,
        }
        inputs: dict[type[cmd.Command], Handler] = {cmd.Act: self.steering.act, cmd.RenewTakeover: self.steering.renew}
        self.housekeeping = Housekeeping(
            spec.instance_id,
            book,
            control,
            self.steering,
            self.sampling,
            self.recording,
            self.checkpoints,
            self.progress,
            self._publish_progress,
            clock,
        )
        self.lean = LeanLoop(
            book, control, inbox, self.recording, self.housekeeping, self.sampling, self._end_episode, clock
        )
        standing = lambda: (control.status.value, control.mode.value, book.step_count, book.episode)  # noqa: E731
        self.commands = CommandTable(spec.instance_id, inbox, outbox, handlers, inputs, standing, self._progress_soon)

    # where the run stands (Episodes holds it), for tests and replays

    @property
    def step_count(self) -> int:
        return self.episodes.step_count

    @property
    def episode(self) -> int:
        return self.episodes.episode

    @property
    def observation(self) -> Any:
        """What the next step acts on (a closed-loop replay puts it back)."""
        return self.episodes.observation

    @observation.setter
    def observation(self, value: Any) -> None:
        self.episodes.observation = value

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
        self.episodes.metric_points.flush(final=True)
        self.outbox.publish(
            ev.InstanceTerminated(
                self.spec.instance_id, step=self.step_count, episode=self.episode, reason=self.control.stop_reason
            )
        )
        return 0

    def _build(self) -> None:
        spec, book, control = self.spec, self.episodes, self.control
        build_agent_and_env(spec, book, control.mode.value)
        self.agent, self.env = book.agent, book.env
        self.episodes.metric_points.attach(self.agent)
        self.telemetry = self.sampling.telemetry = telemetry_capture(book)
        if spec.checkpoint_blob_key:
            self._restore(spec.checkpoint_blob_key)
        built = instruments(spec, book, self._clock)
        self.probe = self.sampling.probe = self.recording.probe = self.instrumented.probe = built.probe
        self.layer_names = self.sampling.layer_names = self.recording.layer_names = built.layer_names
        self.modalities = self.recording.modalities = built.modalities
        self.interventions = self.steering.interventions = self.instrumented.interventions = built.interventions
        self._pacer.configure(realtime_pace(self.env))
        self._pacer.choose(spec.pace, spec.realtime)
        self.housekeeping.configure(spec.stop_after, spec.checkpoint_every)
        self.outbox.publish(
            ev.WorkerStarted(
                spec.instance_id,
                status=control.status.value,
                mode=control.mode.value,
                step=book.step_count,
                episode=book.episode,
                metrics=dict(book.metrics),
                architecture=built.description,
                pid=os.getpid(),
            )
        )

    # the loop

    def _loop(self) -> None:
        clock, sampling, control = self._clock, self.sampling, self.control
        while not control.terminated:
            if control.replay is not None:
                self._advance_replay()
            elif control.status is InstanceStatus.RUNNING and control.mode.acts and self.env is not None:
                if self._pacer.update(self.interventions.takeover_active) is not None:
                    self._run_paced_step(clock)
                elif self.interventions.active or self.recording.wants_frames:
                    self._run_instrumented_steps(clock)
                else:
                    self._poll(0.0, self.lean.run(self._next_poll))
                    if (sampling.one_shots or sampling.leases.due(clock())) and control.stepping:
                        self._instrumented_step(clock(), sample=True)
            else:
                self._pacer.rest()  # no burst to catch up when it steps again
                self._poll(IDLE_POLL_SECONDS)
        self.recording.finish("complete", None)

    def _run_instrumented_steps(self, clock: Any) -> None:
        """Step with overrides, recording and sampling until the next command poll is due."""
        while True:
            now = clock()
            self._instrumented_step(now, sample=self.sampling.due(now))
            if not self.control.stepping or not (self.interventions.active or self.recording.wants_frames):
                return
            if clock() >= self._next_poll or self.step_count >= self.housekeeping.budgets.step_limit:
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
        self._instrumented_step(now, sample=self.sampling.due(now))
        if clock() >= self._next_poll or self.step_count >= self.housekeeping.budgets.step_limit:
            self._poll(0.0)

    def _instrumented_step(self, now: float, sample: bool) -> None:
        interventions = self.interventions
        waiting = interventions.lockstep_waiting() if interventions.active else None
        if waiting is not None and not self._await_human(waiting):
            return
        learns = self.control.mode.learns
        if self.instrumented(now, sample, learns):
            self._end_episode(learns)

    def _end_episode(self, learns: bool) -> bool:
        """Close the episode and reset the env; True when that spent the episode budget (poll now)."""
        book = self.episodes
        book.end_episode(learns, self.recording.reseed_every)
        if book.episode >= self.housekeeping.budgets.episode_limit:
            self._next_poll = 0.0  # the budget's housekeeping ends the run at this poll
            return True
        return False

    def _await_human(self, takeover: Any) -> bool:
        """Lockstep: wait for the person's action (commands still apply); False if the step is off."""
        deadline = self._clock() + takeover.timeout  # never forever: a bad timeout is the default
        while self.interventions.lockstep_waiting() is takeover:  # in force, and no action yet
            remaining = deadline - self._clock()
            if remaining <= 0:
                return True  # the AInimal acts for this step
            self._poll(min(remaining, 0.02))
            self.sampling.answer_one_shots_now()
            if not self.control.stepping:
                return False
        return True

    def _advance_replay(self) -> None:
        assert self.control.replay is not None
        if self.control.replay.advance():
            self.control.replay = None
        if self._clock() >= self._next_poll:
            self._poll(0.0)

    def restart_episode(self) -> None:
        """Begin a fresh episode (after a replay that could not put the env back where it was)."""
        self.episodes.restart()

    def _weights_changed(self) -> None:
        if self.telemetry is not None:
            self.telemetry.weights_changed()

    def _poll(self, timeout: float, received: list[cmd.Command] | None = None) -> None:
        """Apply the commands `received` (or waiting up to `timeout` s), then housekeeping if wanted."""
        now = self._clock()
        self._next_poll = now + COMMAND_POLL_EVERY_SECONDS
        if not received:
            received = self.inbox.receive(timeout)
            if timeout > 0:
                now = self._clock()
        if received:
            self.commands.apply_all(received)
        if received or self.housekeeping.wanted(now):
            self.housekeeping(now)

    def _progress_soon(self) -> None:  # a command changed the instance: say so at this poll
        self.progress.due = 0.0

    def _publish_progress(self) -> None:
        control = self.control
        if not self.progress.publish(control.status.value, control.mode.value, self.interventions, control.stepping):
            # The control plane is gone; a worker nobody can reach must not run on.
            log.warning("control plane %s is gone; worker %s stops", self.parent_pid, self.spec.instance_id)
            control.terminated = True

    def _restore_checkpoint(self, command: cmd.RestoreCheckpoint) -> None:
        self._restore(command.blob_key)
        self.checkpoints.restored(command)

    def _restore(self, blob_key: str) -> None:
        """A checkpoint restored (the spec's, or a command's) moves the run, its budgets and schedule."""
        old_step, old_episode = self.step_count, self.episode
        harness = self.checkpoints.restore(blob_key, self._weights_changed)
        self.housekeeping.moved(old_step, old_episode, harness["step"])
        self.progress.rate.reset()

    def _fail(self, message: str, exc: BaseException | None) -> int:
        if exc is not None:
            log_failure(self.spec.instance_id, message, exc)
        try:
            self.recording.finish("failed", message)
        except Exception:  # the failure report matters more than the last chunk
            log.exception("could not close the recording")
        try:
            self.episodes.metric_points.flush(final=True)  # the points up to the failure show why
        except Exception:
            log.exception("could not publish the last metric points")
        self.outbox.publish(ev.InstanceFailed(self.spec.instance_id, error=message))
        return 1
