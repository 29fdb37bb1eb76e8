"""Budgets (stop after so many steps, episodes or seconds) and scheduled checkpoints.

Both are checked when the worker polls for commands (every few milliseconds), not per step:
the hot loop only compares its step count with `step_limit`, so a steps budget ends on the
exact step; an episodes budget is checked as each episode ends (the loop then polls at once).
Budgets count what this run does: steps and episodes since launch (a restored checkpoint moves
the count with it, so the steps left stay the same), seconds of wall-clock time since launch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Scheduled checkpoints are at most this often, whatever the schedule says: a schedule of
#: every step on a fast agent would otherwise save thousands of times a second.
MIN_SCHEDULED_INTERVAL_SECONDS = 0.25
#: "No limit" as an int, so the hot loop compares two ints.
NO_LIMIT = 2**62


class Budgets:
    """When this run must stop, and why."""

    def __init__(
        self, limits: dict[str, Any] | None, step: int, episode: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        limits = limits or {}
        self._clock = clock
        self.steps: int | None = limits.get("steps")
        self.episodes: int | None = limits.get("episodes")
        self.seconds: float | None = limits.get("seconds")
        self._started = clock()
        # Absolute counts at which the budget is spent (inf: none), compared in the hot loop.
        self.step_limit = step + self.steps if self.steps else NO_LIMIT
        self.episode_limit = episode + self.episodes if self.episodes else NO_LIMIT

    @property
    def any(self) -> bool:
        """Whether there is a budget at all."""
        return bool(self.steps or self.episodes or self.seconds)

    def moved(self, old_step: int, new_step: int, old_episode: int, new_episode: int) -> None:
        """The counts jumped (a checkpoint was restored): keep what is left of each budget."""
        self.step_limit += new_step - old_step
        self.episode_limit += new_episode - old_episode

    def spent(self, step: int, episode: int) -> str | None:
        """Why the run must stop now ("budget: 10000 steps"), or None while it may go on."""
        if step >= self.step_limit:
            return f"budget: {self.steps} steps"
        if episode >= self.episode_limit:
            return f"budget: {self.episodes} episodes"
        if self.seconds is not None and self._clock() - self._started >= self.seconds:
            return f"budget: {_number(self.seconds)} seconds"
        return None


@dataclass
class Saved:
    """A scheduled save to make now: its tag and how many scheduled ones to keep."""

    tag: str
    keep: int


class CheckpointSchedule:
    """When the next scheduled checkpoint is due: every `steps` steps and/or `seconds` seconds."""

    def __init__(
        self,
        schedule: dict[str, Any] | None,
        step: int,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = MIN_SCHEDULED_INTERVAL_SECONDS,
    ) -> None:
        schedule = schedule or {}
        self._clock = clock
        self.steps: int | None = schedule.get("steps")
        self.seconds: float | None = schedule.get("seconds")
        self.keep: int = int(schedule.get("keep") or 1)
        self.min_interval = min_interval
        now = clock()
        self._next_step = step + self.steps if self.steps else math.inf
        self._next_time = now + self.seconds if self.seconds else math.inf
        self._last = -math.inf

    @property
    def active(self) -> bool:
        return bool(self.steps or self.seconds)

    def moved(self, new_step: int) -> None:
        """The step count jumped (a restore): the next save is a full period from here."""
        if self.steps:
            self._next_step = new_step + self.steps

    def due(self, step: int) -> Saved | None:
        """The save to make now, if one is due; the schedule then moves on a period."""
        if not self.active:
            return None
        now = self._clock()
        by_steps, by_time = step >= self._next_step, now >= self._next_time
        if not (by_steps or by_time) or now - self._last < self.min_interval:
            return None
        self._last = now
        if self.steps:
            self._next_step = step + self.steps
        if self.seconds:
            self._next_time = now + self.seconds
        return Saved(f"scheduled@{step}", self.keep)


def _number(value: float) -> str:
    """12.0 -> "12", 0.5 -> "0.5"."""
    return f"{value:g}"
