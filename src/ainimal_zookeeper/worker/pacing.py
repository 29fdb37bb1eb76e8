"""Pacing: at most `pace` steps a second, by sleeping between steps, on a steady beat.

Each step has a deadline; the next one's is the last one's plus a period, so the beat does
not drift with how long steps or wake-ups take. A step that starts more than one period
after its deadline is *late*: the beat is then set again from now instead of catching up,
so a paused, waiting or overloaded instance never bursts steps to make up for lost time.

Which pace is in force: the one set by `pace`/`setPace` (a number, or the env's realtime
rate); without one, a takeover in force runs at realtime, since a person cannot steer
thousands of steps a second; otherwise none (as fast as it goes).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

#: The pace `realtime` means when the env does not say (`metadata["render_fps"]`).
DEFAULT_REALTIME_FPS = 50.0
#: A wait shorter than this is not worth a sleep: the step starts that much early, which
#: keeps the beat (the next deadline still counts from this one) and saves a wake-up.
EARLY_SLACK_SECONDS = 0.001


def realtime_pace(env: Any) -> float:
    """The env's own rate (`metadata["render_fps"]`), or 50 when it gives none that is usable."""
    metadata = getattr(env, "metadata", None)
    fps = metadata.get("render_fps") if isinstance(metadata, dict) else None
    if isinstance(fps, (int, float)) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0:
        return float(fps)
    return DEFAULT_REALTIME_FPS


class Pacer:
    """The beat of a paced instance: when the next step is due, and how many started late."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._explicit: float | None = None  # set by launch or setPace (realtime already resolved)
        self._chosen = False  # whether someone chose the pace (None included: "as fast as it goes")
        self._realtime = DEFAULT_REALTIME_FPS
        self.pace: float | None = None  # the pace in force
        self._period = 0.0
        self._deadline: float | None = None
        self.steps = 0  # paced steps taken
        self.due = 0  # steps that fell due: those taken plus the beats skipped while late
        self.late = 0  # of those, started more than a period after their deadline, or skipped

    def configure(self, realtime: float) -> None:
        """The env's realtime rate (known once the env is built)."""
        self._realtime = realtime

    def choose(self, pace: float | None, realtime: bool) -> None:
        """A person's choice (launch or setPace): a pace, realtime, or None for flat out."""
        self._explicit = self._realtime if realtime else pace
        self._chosen = pace is not None or realtime

    def update(self, takeover: bool) -> float | None:
        """Settle the pace in force given whether a takeover is in force; returns it."""
        pace = self._explicit if self._chosen else (self._realtime if takeover else None)
        if pace != self.pace:
            self.pace = pace
            self._period = 1.0 / pace if pace else 0.0
            self._deadline = None  # a new beat starts with the next step
        return pace

    def wait(self, now: float) -> float:
        """Seconds until the next step is due (0: take it now)."""
        if self._deadline is None:
            return 0.0
        remaining = self._deadline - now
        return remaining if remaining > EARLY_SLACK_SECONDS else 0.0

    def started(self, now: float) -> None:
        """A step starts at `now`: count it, and set the next step's deadline."""
        self.steps += 1
        self.due += 1
        deadline = self._deadline
        if deadline is None or now - deadline > self._period:
            if deadline is not None:
                # Late: the beats that passed meanwhile are skipped, each a step that missed its
                # deadline; this step serves the last beat, which is less than a period ago.
                missed = max(1, int((now - deadline) / self._period)) if self._period else 1
                self.late += missed
                self.due += missed
            self._deadline = now + self._period  # start a fresh beat; no catching up
        else:
            self._deadline = deadline + self._period

    def rest(self) -> None:
        """The instance stopped stepping for a while (paused): the next step starts a new beat."""
        self._deadline = None

    def on_time_fraction(self) -> float | None:
        """Share of the steps that fell due which started within a period of their deadline."""
        return 1.0 - self.late / self.due if self.due else None


class RateMeter:
    """Steps per second over the last `window` seconds, from marks taken at progress time.

    Four marks a second over a second or two: a paced instance's rate reads steady (one mark a
    quarter second at 20 steps/s would swing between 16 and 24).
    """

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._marks: deque[tuple[float, int]] = deque()

    def mark(self, now: float, steps: int) -> float | None:
        """Record the step count at `now`; returns the rate over the window (None: not yet)."""
        marks = self._marks
        if marks and steps < marks[-1][1]:
            marks.clear()  # the count went back (a restored checkpoint): measure afresh
        marks.append((now, steps))
        while len(marks) > 2 and now - marks[1][0] >= self.window:
            marks.popleft()
        first_time, first_steps = marks[0]
        if now <= first_time:
            return None
        return (steps - first_steps) / (now - first_time)

    def reset(self) -> None:
        """Forget the marks (the count jumped)."""
        self._marks.clear()
