"""Progress reports: where the instance stands, four times a second and after each command."""

from __future__ import annotations

import os
from collections.abc import Callable

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.ports.bus import EventOutbox
from ainimal_zookeeper.worker.episodes import Episodes
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.pacing import Pacer, RateMeter
from ainimal_zookeeper.worker.user_code import safe_state

PROGRESS_EVERY_SECONDS = 0.25


class ProgressReports:
    """Publishes Progress events with the harness's metrics; `due` says when the next one is."""

    def __init__(
        self,
        outbox: EventOutbox,
        episodes: Episodes,
        pacer: Pacer,
        parent_pid: int | None,
        clock: Callable[[], float],
    ) -> None:
        self.outbox, self.episodes, self.pacer, self.clock = outbox, episodes, pacer, clock
        self.parent_pid = parent_pid
        self.rate = RateMeter()
        self.due = 0.0  # monotonic time of the next report

    def publish(self, status: str, mode: str, interventions: Interventions, stepping: bool) -> bool:
        """Report now; False when the control plane that started this worker is gone."""
        now = self.clock()
        self.due = now + PROGRESS_EVERY_SECONDS
        book, pacer = self.episodes, self.pacer
        metrics = book.metrics
        rate = self.rate.mark(now, book.step_count)
        if rate is not None:
            metrics["steps_per_second"] = rate
        if pacer.steps:
            metrics.update(steps_due=pacer.due, steps_late=pacer.late)
        metrics["episodes"] = book.episode
        if interventions.dropped_inputs:
            metrics["dropped_inputs"] = interventions.dropped_inputs
        book.metric_points.on_progress(metrics)
        self.outbox.publish(
            ev.Progress(
                book.instance_id,
                status=status,
                mode=mode,
                step=book.step_count,
                episode=book.episode,
                metrics=dict(metrics),
                state=safe_state(book.agent),
                pace=pacer.pace,
                waiting_for=interventions.waiting_for() if stepping else None,
            )
        )
        return self.parent_pid is None or _alive(self.parent_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
