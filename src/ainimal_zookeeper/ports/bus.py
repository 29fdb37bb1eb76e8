"""The buses between the control plane and workers (Pub/Sub in the cloud, ZeroMQ locally).

Commands go out to one instance's worker, at least once; the worker acknowledges a command
after applying it, and applies each `command_id` once. Events come back from every worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ainimal_zookeeper.domain.commands import Command
from ainimal_zookeeper.domain.events import Event


class CommandBus(Protocol):
    """Control-plane side: send commands to an instance's worker."""

    def send(self, command: Command) -> None:
        """Queue `command` for `command.instance_id`; delivered (again) until acknowledged."""
        ...

    def forget(self, instance_id: str) -> None:
        """Drop what is queued for an instance that has ended."""
        ...

    def close(self) -> None:
        """Release sockets and threads."""
        ...


class CommandDoorbell(Protocol):
    """How a stepping worker sees that a command waits without asking its inbox.

    `count[0]` is how many commands were handed to the inbox, `received` how many it has
    taken; they differ while one waits or is on its way. The worker reads it at every step,
    so reading it must cost no more than a memory load (shared memory, a list the inbox's
    own thread updates). It is a hint: the commands still come from `receive`.
    """

    @property
    def count(self) -> Sequence[int]: ...

    @property
    def received(self) -> int: ...


class CommandInbox(Protocol):
    """Worker side: the commands addressed to this worker's instance.

    `doorbell` is None when the inbox has none: the worker then asks `receive` on a timer.
    """

    @property
    def doorbell(self) -> CommandDoorbell | None: ...

    def receive(self, timeout: float = 0.0) -> list[Command]:
        """Commands that arrived, waiting at most `timeout` seconds for the first."""
        ...

    def ack(self, command: Command) -> None:
        """Tell the bus `command` is applied, so it is not delivered again."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...


class EventBus(Protocol):
    """Control-plane side: events from all workers."""

    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        """Call `handler` for each event (from a bus thread); returns an unsubscribe function."""
        ...

    def close(self) -> None:
        """Release sockets and threads."""
        ...


class EventOutbox(Protocol):
    """Worker side: publish this worker's events."""

    def publish(self, event: Event) -> None:
        """Send `event` without blocking the agent's loop."""
        ...

    def close(self) -> None:
        """Flush briefly and release sockets."""
        ...
