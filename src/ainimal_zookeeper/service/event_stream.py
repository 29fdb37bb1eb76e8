"""Instance events for live subscribers (`instanceEvents`): status and mode changes,
checkpoints, failures. Worker events arrive on a bus thread; each open stream gets a bounded
asyncio queue on its event loop, and a slow reader loses its oldest events, never stalls the
bus (drops are counted and sent with the next event)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from ainimal_zookeeper.domain import events as ev

#: Worker events that subscribers see, and the `kind` they see them as.
_KINDS = {
    "WorkerStarted": "STARTED",
    "CommandApplied": "COMMAND_APPLIED",
    "CommandRejected": "COMMAND_REJECTED",
    "CheckpointSaved": "CHECKPOINT_SAVED",
    "CheckpointRestored": "CHECKPOINT_RESTORED",
    "InstanceFailed": "FAILED",
    "InstanceTerminated": "TERMINATED",
}


def instance_event(event: ev.Event) -> dict[str, Any] | None:
    """The API's InstanceEvent for a worker event, or None for events not streamed (progress)."""
    kind = _KINDS.get(event.kind)
    if kind is None:
        return None
    status = getattr(event, "status", None) or {"FAILED": "FAILED", "TERMINATED": "TERMINATED"}.get(kind)
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
        "status": status or None,
        "mode": mode or None,
        "message": message,
        "time": event.time,
    }


class _Listener:
    def __init__(self, instance_id: str | None, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.instance_id = instance_id
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, item: dict[str, Any]) -> None:
        """On the listener's loop: enqueue, dropping the oldest when full (newest wins)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class EventFanout:
    """Receives every worker event (subscribe it to the EventBus) and feeds open streams."""

    def __init__(self, queue_size: int = 256) -> None:
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
            if listener.instance_id in (None, event.instance_id):
                listener.loop.call_soon_threadsafe(listener.offer, item)

    async def stream(self, instance_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """Events for one instance (or all, with None) from now until the caller stops."""
        listener = _Listener(instance_id, asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            self._listeners.add(listener)
        try:
            while True:
                item = await listener.queue.get()
                yield {**item, "dropped": listener.dropped}
        finally:
            with self._lock:
                self._listeners.discard(listener)
