"""InMemoryBus: the command and event buses in one process, with the local bus's delivery rules.

Messages travel in their wire form (`ainimal_zookeeper.wire`), so what would not survive a
real bus does not survive this one. Commands stay pending until acknowledged and are
delivered again to a worker that connects anew (a restarted worker), or on `redeliver()`
(the local bus's periodic HELLO); events are believed only about their sender's own instance
(`domain/event_origin.py`) and reach every subscriber in order, in the publisher's thread,
so a test sees their effect as soon as `publish` returns.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from ainimal_zookeeper import wire
from ainimal_zookeeper.adapters.counting_doorbell import CountingDoorbell
from ainimal_zookeeper.domain.commands import Command, command_from_dict
from ainimal_zookeeper.domain.event_origin import refusal
from ainimal_zookeeper.domain.events import Event, event_from_dict
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)


class InMemoryBus:
    """Control-plane side of both buses (`CommandBus`, `EventBus`); `inbox` / `outbox` are a worker's.

    Keeps what went through for tests: `sent` commands, `delivered` events, `refused` count.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._pending: dict[str, OrderedDict[str, bytes]] = {}
        self._inboxes: dict[str, InMemoryCommandInbox] = {}
        self._handlers: list[Callable[[Event], None]] = []
        self._closed = False
        self.sent: list[Command] = []
        self.delivered: list[Event] = []
        self.refused = 0

    @property
    def connection(self) -> dict[str, Any]:
        """What a WorkerSpec's `connection["bus"]` says (a worker on this bus lives in this process)."""
        return {"type": "memory"}

    # CommandBus
    def send(self, command: Command) -> None:
        body = wire.dumps(command.to_dict())
        with self._lock:
            if self._closed:
                return
            self.sent.append(command)
            self._pending.setdefault(command.instance_id, OrderedDict())[command.command_id] = body
            inbox = self._inboxes.get(command.instance_id)
        if inbox is not None:
            inbox._deliver([body])

    def forget(self, instance_id: str) -> None:
        with self._lock:
            self._pending.pop(instance_id, None)
            self._inboxes.pop(instance_id, None)

    # EventBus
    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._handlers.clear()
            self._inboxes.clear()

    # the workers' side
    def inbox(self, instance_id: str) -> InMemoryCommandInbox:
        """A worker's CommandInbox; connecting delivers what is pending (as a worker's HELLO does)."""
        inbox = InMemoryCommandInbox(self, instance_id)
        with self._lock:
            self._inboxes[instance_id] = inbox
            pending = list(self._pending.get(instance_id, {}).values())
        inbox._deliver(pending)
        return inbox

    def outbox(self, instance_id: str) -> InMemoryEventOutbox:
        """A worker's EventOutbox; its events are believed only about `instance_id`."""
        return InMemoryEventOutbox(self, instance_id)

    def redeliver(self, instance_id: str | None = None) -> None:
        """Deliver every unacknowledged command again (at least once: workers must drop repeats)."""
        with self._lock:
            targets = [(i, inbox) for i, inbox in self._inboxes.items() if instance_id in (None, i)]
            batches = [(inbox, list(self._pending.get(i, {}).values())) for i, inbox in targets]
        for inbox, bodies in batches:
            inbox._deliver(bodies)

    def pending(self, instance_id: str) -> list[Command]:
        """The commands for `instance_id` not acknowledged yet, in the order sent."""
        with self._lock:
            bodies = list(self._pending.get(instance_id, {}).values())
        return [command_from_dict(wire.loads(body)) for body in bodies]

    def _ack(self, instance_id: str, command_id: str) -> None:
        with self._lock:
            self._pending.get(instance_id, OrderedDict()).pop(command_id, None)

    def _disconnect(self, inbox: InMemoryCommandInbox) -> None:
        with self._lock:
            if self._inboxes.get(inbox.instance_id) is inbox:
                del self._inboxes[inbox.instance_id]

    def _publish(self, sender: str, body: bytes) -> None:
        try:
            event = event_from_dict(wire.loads(body))
        except Exception:  # noqa: BLE001  # a malformed event is refused, the bus goes on
            self._refuse(f"a malformed event from instance {sender}'s worker")
            return
        reason = refusal(sender, event)
        if reason is not None:
            self._refuse(f"an event: {reason}")
            return
        with self._lock:
            if self._closed:
                return
            self.delivered.append(event)
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one failing subscriber must not starve others
                log.exception("event handler failed on %s", event.kind)

    def _refuse(self, what: str) -> None:
        with self._lock:
            self.refused += 1
        log.warning("in-memory bus refused %s", what)


class InMemoryCommandInbox:
    """A worker's CommandInbox on an `InMemoryBus`; `receive(timeout)` waits on the bus's clock."""

    def __init__(self, bus: InMemoryBus, instance_id: str) -> None:
        self.bus, self.instance_id = bus, instance_id
        self._queue: deque[bytes] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._closed = False
        self.doorbell = CountingDoorbell()  # counts commands into and out of `_queue`
        #: Ids of the commands this inbox acknowledged (for tests).
        self.acked: list[str] = []

    def receive(self, timeout: float = 0.0) -> list[Command]:
        if timeout > 0 and not self._ready.is_set():
            self.bus.clock.wait(self._ready, timeout)
        with self._lock:
            bodies = list(self._queue)
            self._queue.clear()
            self._ready.clear()
            self.doorbell.taken(len(bodies))
        commands: list[Command] = []
        for body in bodies:
            try:
                commands.append(command_from_dict(wire.loads(body)))
            except Exception:  # a poison message is logged and skipped
                log.exception("dropped a malformed command")
        return commands

    def ack(self, command: Command) -> None:
        self.acked.append(command.command_id)
        self.bus._ack(self.instance_id, command.command_id)

    def close(self) -> None:
        self._closed = True
        self.bus._disconnect(self)

    def _deliver(self, bodies: list[bytes]) -> None:
        if not bodies or self._closed:
            return
        with self._lock:
            self._queue.extend(bodies)
            self.doorbell.delivered(len(bodies))
            self._ready.set()


class InMemoryEventOutbox:
    """A worker's EventOutbox on an `InMemoryBus`; events reach subscribers before `publish` returns."""

    def __init__(self, bus: InMemoryBus, instance_id: str) -> None:
        self.bus, self.instance_id = bus, instance_id
        self._closed = False

    def publish(self, event: Event) -> None:
        if not self._closed:
            self.bus._publish(self.instance_id, wire.dumps(event.to_dict()))

    def close(self) -> None:
        self._closed = True
