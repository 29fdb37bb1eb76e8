"""Run control: status, mode and whether the run goes on, and the commands that change them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain.instance import InstanceStatus, RunMode
from ainimal_zookeeper.errors import Conflict
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.pacing import Pacer
from ainimal_zookeeper.worker.replay import ReplayHost, ReplayRun
from ainimal_zookeeper.worker.steering import Steering


class RunControl:
    """Whether the instance runs, pauses or stops, in which mode, and the replay it runs, if any.

    `publish_progress` reports at once (setPace answers with the pace in force).
    """

    def __init__(
        self,
        mode: RunMode,
        episodes: Episodes,
        pacer: Pacer,
        steering: Steering,
        replay_host: ReplayHost,
        publish_progress: Callable[[], None],
    ) -> None:
        self.status = InstanceStatus.RUNNING
        self.mode = mode
        self.terminated = False
        self.stop_reason: str | None = None  # why the run stopped by itself (a budget), if it did
        self.replay: ReplayRun | None = None
        self.episodes, self.pacer, self.steering = episodes, pacer, steering
        self.replay_host = replay_host
        self.publish_progress = publish_progress

    @property
    def stepping(self) -> bool:
        """Whether the instance runs its own steps (not paused, stopped or replaying)."""
        return not self.terminated and self.replay is None and self.status is InstanceStatus.RUNNING

    @property
    def steps_soon(self) -> bool:
        """Whether the loop is about to take a step (so a frame query can wait for it)."""
        return self.stepping and self.mode.acts and self.episodes.env is not None

    def handlers(self) -> dict[type[cmd.Command], Callable[[Any], None]]:
        """This module's part of the command table."""
        return {
            cmd.Pause: self.pause,
            cmd.EmergencyStop: self.emergency_stop,
            cmd.Resume: self.resume,
            cmd.Terminate: self.terminate,
            cmd.SetMode: self.set_mode,
            cmd.SetPace: self.set_pace,
            cmd.Replay: self.start_replay,
        }

    def pause(self, _command: cmd.Pause) -> None:
        self.status = InstanceStatus.PAUSED

    def emergency_stop(self, _command: cmd.EmergencyStop) -> None:
        """Pause and clear every override and takeover."""
        self.status = InstanceStatus.PAUSED
        self.steering.emergency_stop()

    def resume(self, _command: cmd.Resume) -> None:
        self.status = InstanceStatus.RUNNING

    def terminate(self, _command: cmd.Terminate) -> None:
        self.stop(None)

    def stop(self, reason: str | None) -> None:
        """End the run (asked to, with no reason; or a budget is spent)."""
        self.stop_reason = reason
        self.status = InstanceStatus.STOPPING
        self.terminated = True

    def set_mode(self, command: cmd.SetMode) -> None:
        mode = RunMode(command.mode)
        self.episodes.set_mode(self.mode, mode)
        self.mode = mode

    def set_pace(self, command: cmd.SetPace) -> None:
        self.pacer.choose(command.pace, command.realtime)
        interventions = self.steering.interventions
        self.pacer.update(interventions is not None and interventions.takeover_active)
        self.publish_progress()  # before the confirmation: setPace answers with the pace in force

    def start_replay(self, command: cmd.Replay) -> None:
        if self.replay is not None:
            raise Conflict("a replay is already running on this instance")
        self.replay = ReplayRun(self.replay_host, command)
