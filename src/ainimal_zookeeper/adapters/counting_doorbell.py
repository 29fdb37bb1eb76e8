"""A `CommandDoorbell` for inboxes that buffer commands in the worker's own process.

The Pub/Sub inbox's pulling thread and the in-memory bus put commands into a buffer; the
stepping loop reads this doorbell at every step instead of asking the buffer on a timer
(see `ports.bus.CommandDoorbell`). The side that buffers counts commands in, `receive`
counts them out; each count has one writer, so plain integers suffice under the
interpreter lock.
"""

from __future__ import annotations

__all__ = ["CountingDoorbell"]


class CountingDoorbell:
    """`count[0]`: commands put into the buffer; `received`: commands taken out of it."""

    def __init__(self) -> None:
        self.count = [0]
        self.received = 0

    def delivered(self, commands: int = 1) -> None:
        """`commands` more are in the buffer (call after putting them there)."""
        self.count[0] += commands

    def taken(self, commands: int) -> None:
        """`receive` took `commands` out of the buffer."""
        self.received += commands
