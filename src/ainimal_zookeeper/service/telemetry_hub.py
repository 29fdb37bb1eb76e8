"""Live telemetry for open `telemetry` streams and one-shot `latestFrame` queries.

Each open stream subscribes to the event bus on its own (on Pub/Sub: its own short-lived
subscription), holds a lease at its instance's worker for the streams it wants (renewed while
it is open, ended when it closes), and receives frames filtered to its streams and its rate.
Frames cross from the bus thread into a bounded queue on the stream's event loop: a reader
that falls behind loses its oldest frames (counted in `dropped`), never slows the worker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.streams import StreamSelection
from ainimal_zookeeper.errors import Unavailable
from ainimal_zookeeper.ports.bus import CommandBus, EventBus
from ainimal_zookeeper.service.activation_summaries import with_summaries

log = logging.getLogger(__name__)

#: Frames a slow reader may have waiting; older ones make room for new ones.
QUEUE_FRAMES = 8
LEASE_SECONDS = 15.0
#: A frame may come up to this share of 1/maxHz before its slot and still be sent: worker
#: timing jitters, and a rule on the gap since the last frame (at most 10 % early) dropped every
#: frame that came a little early after one that came late (70-85 % of the rate under load).
EARLY_SHARE = 0.5


def select_streams(streams: dict[str, Any], selection: StreamSelection) -> dict[str, Any]:
    """The part of a frame's streams that a subscriber asked for."""
    chosen: dict[str, Any] = {}
    for name, value in streams.items():
        head, _, rest = name.partition("/")
        if (
            name in selection.simple
            or (head == "activations" and rest and (selection.all_layers or rest in selection.layers))
            or (head == "weights" and rest and (selection.all_params or rest in selection.params))
        ):
            chosen[name] = value
    return chosen


#: Put in a subscriber's queue when its instance ends (never dropped: it is the last item).
_ENDED: dict[str, Any] = {}


class FrameRate:
    """Which frames a subscriber of `max_hz` gets, judged on the times the frames were made.

    Slots every 1/maxHz keep the phase: a late frame does not push the next one back. A frame
    is sent when it is at most half an interval early for its slot and half an interval after
    the last one sent, so no more than maxHz go out on average, and never in a burst.
    """

    def __init__(self, max_hz: float) -> None:
        self.interval = 1.0 / max_hz
        self._last_sent = 0.0
        self._next_slot = 0.0

    def admit(self, made: float) -> bool:
        """Whether a frame made at `made` (seconds) is sent; if so it takes its slot."""
        early = EARLY_SHARE * self.interval
        if made < self._last_sent:
            self._next_slot = made  # a clock set back (another machine's worker): start afresh
        elif made < self._next_slot - early or made < self._last_sent + early:
            return False
        self._last_sent = made
        # After a silence (a pause) the slots start again from this frame: nothing to catch up.
        self._next_slot = max(self._next_slot + self.interval, made + early)
        return True


class _Subscriber:
    """One open stream: its filter, its rate and its queue on its event loop."""

    def __init__(self, instance_id: str, selection: StreamSelection, max_hz: float) -> None:
        self.instance_id, self.selection = instance_id, selection
        self.rate = FrameRate(max_hz)
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_FRAMES)
        self.dropped = 0

    def on_event(self, event: ev.Event) -> None:
        """On the bus thread: keep this instance's live frames, at this subscriber's rate."""
        if event.instance_id != self.instance_id:
            return
        if isinstance(event, ev.InstanceTerminated | ev.InstanceFailed):
            self.loop.call_soon_threadsafe(self._offer, _ENDED)  # the stream completes
            return
        if not isinstance(event, ev.TelemetryFrame):
            return
        if event.request_id is not None:
            return  # someone's one-shot answer
        # Frames arrive in order (one ordered stream per instance); a step lower than the last
        # means a checkpoint was restored, and the stream follows the instance back.
        # The rate is judged on the frames' own times: the worker samples on a steady clock,
        # while arrival times jitter with the bus and this machine's load (judged on arrival,
        # a frame delivered late made the next, punctual one look too early: 53 of 60 Hz).
        if not self.rate.admit(event.time):
            return
        item = _frame(event, select_streams(event.streams, self.selection))
        self.loop.call_soon_threadsafe(self._offer, item)

    def _offer(self, item: dict[str, Any]) -> None:
        if self.queue.full() and item is not _ENDED:
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class TelemetryHub:
    """Opens telemetry streams and answers one-shot frame queries."""

    def __init__(self, commands: CommandBus, events: EventBus, lease_seconds: float = LEASE_SECONDS) -> None:
        self.commands, self.events = commands, events
        self.lease_seconds = lease_seconds

    async def stream(
        self, instance_id: str, selection: StreamSelection, max_hz: float
    ) -> AsyncIterator[dict[str, Any]]:
        """Frames of one instance until the caller stops reading."""
        subscriber = _Subscriber(instance_id, selection, max_hz)
        observer_id = uuid.uuid4().hex
        unsubscribe = await asyncio.to_thread(self.events.subscribe, subscriber.on_event)
        renewing = asyncio.create_task(self._hold_lease(instance_id, observer_id, selection, max_hz))
        try:
            while True:
                item = await subscriber.queue.get()
                if item is _ENDED:
                    return
                yield {**item, "dropped": subscriber.dropped}
        finally:
            renewing.cancel()
            await asyncio.to_thread(self._end_lease, instance_id, observer_id, unsubscribe)

    async def _hold_lease(self, instance_id: str, observer_id: str, selection: StreamSelection, hz: float) -> None:
        # The worker also sends one frame at once when a new observer arrives.
        while True:
            # A fresh command id each time: the worker applies an id once, so resending one
            # renewal would be taken as a duplicate and the lease would lapse (streams froze
            # after one lease period).
            command = cmd.ObserveStreams(
                instance_id,
                observer_id=observer_id,
                streams=list(selection.names),
                max_hz=hz,
                lease_seconds=self.lease_seconds,
            )
            try:
                await asyncio.to_thread(self.commands.send, command)
            except Exception:  # a bus hiccup: the next renewal tries again
                log.exception("could not renew the telemetry lease of %s", instance_id)
            await asyncio.sleep(self.lease_seconds / 3)

    def _end_lease(self, instance_id: str, observer_id: str, unsubscribe: Callable[[], None]) -> None:
        try:
            self.commands.send(cmd.ObserveStreams(instance_id, observer_id=observer_id, streams=[]))
        except Exception:  # noqa: BLE001  # the lease then simply expires
            log.warning("could not end the telemetry lease of %s; it expires by itself", instance_id)
        unsubscribe()

    def sample(self, instance_id: str, selection: StreamSelection, timeout: float) -> dict[str, Any]:
        """One frame of `selection`, fresh from the worker (blocks: call it off the event loop)."""
        request_id = uuid.uuid4().hex
        answered = threading.Event()
        answer: list[dict[str, Any]] = []

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.TelemetryFrame) and event.request_id == request_id and not answer:
                answer.append(_frame(event, select_streams(event.streams, selection)))
                answered.set()

        unsubscribe = self.events.subscribe(on_event)
        try:
            self.commands.send(cmd.SampleTelemetry(instance_id, request_id=request_id, streams=list(selection.names)))
            if not answered.wait(timeout):
                raise Unavailable(f"the worker of instance {instance_id} sent no frame within {timeout:.0f}s")
            return answer[0]
        finally:
            unsubscribe()


def _frame(event: ev.TelemetryFrame, streams: dict[str, Any]) -> dict[str, Any]:
    return {
        "instance": event.instance_id,
        "step": event.step,
        "episode": event.episode,
        "time": event.time,
        "streams": with_summaries(streams),  # the statistics the worker leaves to the control plane
        "dropped": 0,
    }
