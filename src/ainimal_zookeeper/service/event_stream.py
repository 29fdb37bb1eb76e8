"""Instance events for live subscribers (`instanceEvents`): status and mode changes,
checkpoints, failures. Worker events arrive on a bus thread; each open stream gets a bounded
asyncio queue on its event loop, and a slow reader loses its oldest events, never stalls the
bus (drops are counted and sent with the next event)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.instance import InstanceStatus
from ainimal_zookeeper.domain.statuses import ReplayStatus
from ainimal_zookeeper.ports.bus import EventBus
from ainimal_zookeeper.service.status_parsing import known_status

#: Worker events that subscribers see, and the `kind` they see them as.
_KINDS = {
    "WorkerStarted": "STARTED",
    "CommandApplied": "COMMAND_APPLIED",
    "CommandRejected": "COMMAND_REJECTED",
    "CheckpointSaved": "CHECKPOINT_SAVED",
    "CheckpointRestored": "CHECKPOINT_RESTORED",
    "InstanceFailed": InstanceStatus.FAILED.value,
    "InstanceTerminated": InstanceStatus.TERMINATED.value,
}

#: The kinds after which an instance sends nothing more (named after the status it ends in).
_LAST_KINDS = frozenset(s.value for s in InstanceStatus if s.is_final)


def instance_event(event: ev.Event) -> dict[str, Any] | None:
    """The API's InstanceEvent for a worker event, or None for events not streamed (progress)."""
    special = _intervention_event(event)
    if special is not None:
        return {"instance": event.instance_id, "status": None, "mode": None, "time": event.time, **special}
    kind = _KINDS.get(event.kind)
    if kind is None:
        return None
    # A status this version does not know is left out (the API's InstanceStatus could not show it).
    status = known_status(InstanceStatus, getattr(event, "status", None) or (kind if kind in _LAST_KINDS else None))
    message = (
        getattr(event, "error", None)
        or (f"{event.command_kind} applied" if isinstance(event, ev.CommandApplied) else None)
        or (
            f"checkpoint {event.checkpoint_id} ({event.tag or 'untagged'})"
            if isinstance(event, ev.CheckpointSaved)
            else None
        )
    )
    mode = getattr(event, "mode", None)
    return {
        "instance": event.instance_id,
        "kind": kind,
        "status": status.value if status is not None else None,
        "mode": mode or None,
        "message": message,
        "time": event.time,
    }


def _intervention_event(event: ev.Event) -> dict[str, Any] | None:
    """Overrides, recordings and replays, told as kind + message."""
    if isinstance(event, ev.OverrideChanged):
        if event.active:
            how = f"{event.takeover} takeover" if event.takeover else f"override ({event.mode})"
            who = f" by {event.set_by}" if event.set_by else ""
            return {"kind": "OVERRIDE_SET", "message": f"{how} of {event.target}{who} from step {event.step}"}
        why = f" ({event.reason})" if event.reason else ""
        return {"kind": "OVERRIDE_CLEARED", "message": f"override of {event.target} cleared at step {event.step}{why}"}
    if isinstance(event, ev.RecordingStopped):
        message = f"recording {event.recording_id} {event.status}: {event.rows} steps in {event.chunks} chunks"
        return {"kind": "RECORDING_STOPPED", "message": message + (f" ({event.error})" if event.error else "")}
    if isinstance(event, ev.ReplayProgress) and event.status != ReplayStatus.RUNNING:
        message = f"replay {event.replay_id} {event.status} after {event.steps} steps"
        return {"kind": "REPLAY_ENDED", "message": message + (f" ({event.error})" if event.error else "")}
    return None


class _Listener:
    def __init__(self, instance_id: str | None, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.instance_id = instance_id
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def deliver(self, instance_id: str, item: dict[str, Any]) -> None:
        """From the bus thread: pass the item to this listener's loop if it is for it."""
        if self.instance_id in (None, instance_id):
            self.loop.call_soon_threadsafe(self.offer, item)

    def offer(self, item: dict[str, Any]) -> None:
        """On the listener's loop: enqueue, dropping the oldest when full (newest wins)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class EventFanout:
    """Feeds open `instanceEvents` streams with worker events.

    Given the event bus, each open stream subscribes to it on its own (on Pub/Sub: a short-lived
    subscription per stream, deleted when the stream closes); without one, the fan-out is
    itself subscribed once and shares every event among the streams.
    """

    def __init__(self, bus: EventBus | None = None, queue_size: int = 256) -> None:
        self._bus = bus
        self._listeners: set[_Listener] = set()
        self._lock = threading.Lock()
        self._queue_size = queue_size

    def __call__(self, event: ev.Event) -> None:
        item = instance_event(event)
        if item is None:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.deliver(event.instance_id, item)

    async def stream(self, instance_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """Events for one instance (or all, with None) from now until the caller stops, or, for
        one instance, until it ends (its TERMINATED or FAILED event is the last)."""
        listener = _Listener(instance_id, asyncio.get_running_loop(), self._queue_size)
        unsubscribe = await self._attach(listener)
        try:
            while True:
                item = await listener.queue.get()
                yield {**item, "dropped": listener.dropped}
                if instance_id is not None and item["kind"] in _LAST_KINDS:
                    return
        finally:
            await asyncio.to_thread(unsubscribe)

    async def _attach(self, listener: _Listener) -> Callable[[], None]:
        if self._bus is not None:

            def on_event(event: ev.Event) -> None:
                item = instance_event(event)
                if item is not None:
                    listener.deliver(event.instance_id, item)

            return await asyncio.to_thread(self._bus.subscribe, on_event)
        with self._lock:
            self._listeners.add(listener)

        def detach() -> None:
            with self._lock:
                self._listeners.discard(listener)

        return detach
