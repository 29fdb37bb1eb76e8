"""A worker runtime's surroundings for tests that run it in one thread: a scripted inbox and a
clock the test owns (no server, no bus).

The inbox delivers each command at its time on the test's clock; waiting for commands moves
that clock (to the next command or the wait's end), and a running loop's clock reads move it a
little each (`tick`), so leases, timeouts and schedules run for many periods in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
START = 1000.0
#: The test gives up (a bug, not a slow machine) once its clock passes this many seconds.
GIVE_UP_SECONDS = 120.0


class Clock:
    """Monotonic seconds that move when waited on, and by `tick` at each read."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now, self.tick = START, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - START


class ScriptedInbox:
    """Delivers `script` ((seconds from the start, command) in time order) as the clock reaches each time."""

    doorbell = None  # none: the worker asks `receive` on a timer

    def __init__(self, clock: Clock, script: list[tuple[float, cmd.Command]]) -> None:
        self.clock, self.script = clock, list(script)
        self.acked: list[str] = []

    def receive(self, timeout: float = 0.0) -> list[cmd.Command]:
        due = self._due()
        if not due and timeout > 0:
            # Waiting: time passes until the next command or the end of the wait.
            next_at = START + self.script[0][0] if self.script else float("inf")
            self.clock.now = max(self.clock.now, min(self.clock.now + timeout, next_at))
            due = self._due()
        assert self.clock.elapsed < GIVE_UP_SECONDS, "the worker never ended; the script ends with Terminate"
        return due

    def _due(self) -> list[cmd.Command]:
        due = [command for at, command in self.script if START + at <= self.clock.now]
        self.script = self.script[len(due) :]
        return due

    def ack(self, command: cmd.Command) -> None:
        self.acked.append(command.command_id)

    def close(self) -> None:
        pass


class Outbox:
    """Keeps each event with the test clock's time when it was published."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timed: list[tuple[float, ev.Event]] = []

    def publish(self, event: ev.Event) -> None:
        self.timed.append((self.clock.elapsed, event))

    def close(self) -> None:
        pass

    def of(self, kind: type[ev.Event]) -> list[Any]:
        return [event for _, event in self.timed if isinstance(event, kind)]

    def times(self, kind: type[ev.Event]) -> list[float]:
        return [at for at, event in self.timed if isinstance(event, kind)]
