"""What a poll looks after besides commands: takeover leases, one-shot queries, recording
chunks, progress reports, budgets and scheduled checkpoints.

None of it needs the promptness commands get, so the loop does it every
`HOUSEKEEPING_EVERY_SECONDS`, or at once after a command or when a step or episode budget is
reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ainimal_zookeeper.worker.budgets import Budgets, CheckpointSchedule
from ainimal_zookeeper.worker.checkpoints import Checkpoints
from ainimal_zookeeper.worker.control import RunControl
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.progress import ProgressReports
from ainimal_zookeeper.worker.recording_session import RecordingSession
from ainimal_zookeeper.worker.sampling import TelemetrySampling
from ainimal_zookeeper.worker.steering import Steering

log = logging.getLogger(__name__)

#: How often a stepping loop does the housekeeping. Nothing here needs it sooner: takeover
#: leases last seconds, progress goes out 4 times a second, recording chunks once a second,
#: scheduled checkpoints at least 0.25 s apart. And it is not free beyond its own time: code run
#: between the agent's steps slows the agent's next steps (caches), so every 2 ms cost a torch
#: agent about 1 point more of its steps/s than every 10 ms (docs/performance.md).
HOUSEKEEPING_EVERY_SECONDS = 0.01


class Housekeeping:
    """The budgets and checkpoint schedule in force, and the work each poll does besides commands.

    `publish_progress` reports where the instance stands (and stops a worker whose control
    plane is gone).
    """

    def __init__(
        self,
        instance_id: str,
        episodes: Episodes,
        control: RunControl,
        steering: Steering,
        sampling: TelemetrySampling,
        recording: RecordingSession,
        checkpoints: Checkpoints,
        progress: ProgressReports,
        publish_progress: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        self.instance_id, self.episodes, self.control = instance_id, episodes, control
        self.steering, self.sampling, self.recording = steering, sampling, recording
        self.checkpoints, self.progress, self.publish_progress = checkpoints, progress, publish_progress
        self.clock = clock
        self.due = 0.0  # monotonic time of the next housekeeping
        # Set up for real once the instance is built (a checkpoint may move its step count).
        self.budgets = Budgets(None, 0, 0)
        self.schedule = CheckpointSchedule(None, 0)

    def configure(self, stop_after: dict | None, checkpoint_every: dict | None) -> None:
        """The spec's budgets and schedule, counted from where the built instance stands."""
        book = self.episodes
        self.budgets = Budgets(stop_after, book.step_count, book.episode, self.clock)
        self.schedule = CheckpointSchedule(checkpoint_every, book.step_count, self.clock)

    def moved(self, old_step: int, old_episode: int, schedule_step: int) -> None:
        """A checkpoint was restored: the budgets and the schedule count from its position."""
        book = self.episodes
        self.budgets.moved(old_step, book.step_count, old_episode, book.episode)
        self.schedule.moved(schedule_step)

    def wanted(self, now: float) -> bool:
        """Whether a poll at `now` is to do the housekeeping (due, or a budget is reached)."""
        book, budgets = self.episodes, self.budgets
        return now >= self.due or book.step_count >= budgets.step_limit or book.episode >= budgets.episode_limit

    def __call__(self, now: float) -> None:
        self.due = now + HOUSEKEEPING_EVERY_SECONDS
        interventions, sampling = self.steering.interventions, self.sampling
        if interventions is not None and interventions.active:
            self.steering.expire_takeovers()
        if sampling.one_shots and not self.control.steps_soon:
            sampling.answer_one_shots_now()
        self.recording.maybe_flush(now)
        if self.clock() >= self.progress.due:
            sampling.leases.expire(self.clock())
            self.publish_progress()
        self._keep_schedule()

    def _keep_schedule(self) -> None:
        """Budgets and scheduled checkpoints (a few compares when there are none)."""
        control, book = self.control, self.episodes
        if control.replay is not None or control.terminated:
            return
        reason = self.budgets.spent(book.step_count, book.episode)
        if reason is not None:
            log.info("instance %s stops: %s", self.instance_id, reason)
            control.stop(reason)
            return
        due = self.schedule.due(book.step_count) if self.schedule.active else None
        if due is not None:
            self.checkpoints.save_scheduled(due.tag, due.keep)
