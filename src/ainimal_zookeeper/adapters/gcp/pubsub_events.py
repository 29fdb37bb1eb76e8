"""The Pub/Sub EventBus (control plane) and EventOutbox (worker); see `pubsub_bus` for the design."""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1.publisher import exceptions as publish_exceptions
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler

from ainimal_zookeeper import wire
from ainimal_zookeeper.adapters.gcp.pubsub_bus import (
    DEFAULT_PREFIX,
    RETRY,
    PubSubNames,
    delete_quietly,
    ensure_subscription,
    ensure_topic,
    make_publisher,
    make_subscriber,
    subscription_request,
)
from ainimal_zookeeper.domain.events import Event, event_from_dict
from ainimal_zookeeper.errors import InvalidInput

__all__ = ["PubSubEventBus", "PubSubEventOutbox"]

log = logging.getLogger(__name__)


class PubSubEventBus:
    """Control-plane side: streaming pull from a subscription on the events topic; an `EventBus`.

    Without `subscription_name` the bus owns a fresh subscription `{prefix}events-{uuid}`
    (every control plane sees every event) and deletes it at close; with one, control planes
    sharing that name share the events between them, and the subscription outlives them.
    """

    def __init__(
        self,
        project: str | None,
        prefix: str = DEFAULT_PREFIX,
        subscription_name: str | None = None,
        subscriber: pubsub_v1.SubscriberClient | None = None,
        publisher: pubsub_v1.PublisherClient | None = None,
        max_outstanding: int = 1000,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        self._owns_subscription = subscription_name is None
        self.subscription = self.names.events_subscription(subscription_name or f"{prefix}events-{uuid.uuid4().hex}")
        self._own_subscriber = subscriber is None
        self._subscriber = subscriber or make_subscriber()
        admin = publisher or make_publisher()  # topic administration lives on the publisher API
        try:
            ensure_topic(admin, self.names.events_topic())
        finally:
            if publisher is None:
                admin.transport.close()
        # Created now, read from the first `subscribe` on: events published in between wait in it.
        ensure_subscription(self._subscriber, subscription_request(self.subscription, self.names.events_topic()))
        self._max_outstanding = max_outstanding
        self._handlers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        self._pull: Any = None
        self._closed = False

    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        """Call `handler` for each event (from the bus thread); returns an unsubscribe function."""
        with self._lock:
            self._handlers.append(handler)
            if self._pull is None and not self._closed:
                self._pull = self._subscriber.subscribe(
                    self.subscription,
                    self._on_message,
                    flow_control=pubsub_v1.types.FlowControl(max_messages=self._max_outstanding),
                    # One handler thread, as on the local bus: handlers need not be thread-safe.
                    scheduler=ThreadScheduler(ThreadPoolExecutor(max_workers=1, thread_name_prefix="zk-pubsub-events")),
                )
                self._pull.add_done_callback(self._on_pull_done)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def _on_message(self, message: Any) -> None:
        try:
            event = event_from_dict(wire.loads(message.data))
        except (ValueError, InvalidInput) as exc:
            # Redelivering a malformed event would not mend it: drop it, as the local bus does.
            log.warning("dropped a malformed event from %s: %s", message.attributes.get("instance_id", "?"), exc)
            message.ack()
            return
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one failing subscriber must not starve the others
                log.exception("event handler failed on %s", event.kind)
        message.ack()

    def _on_pull_done(self, future: Any) -> None:
        if not self._closed and not future.cancelled() and future.exception() is not None:
            log.error("event stream from %s stopped: %s", self.subscription, future.exception())

    def close(self) -> None:
        """Stop the stream, delete an owned subscription and release the client."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pull = self._pull
        if pull is not None:
            pull.cancel()
            try:
                pull.result(timeout=10)
            except (futures.CancelledError, futures.TimeoutError, gexc.GoogleAPIError) as exc:
                log.debug("event stream ended: %r", exc)
        try:
            if self._owns_subscription:
                delete_quietly(
                    lambda: self._subscriber.delete_subscription(subscription=self.subscription, retry=RETRY),
                    self.subscription,
                )
        finally:
            if self._own_subscriber:
                self._subscriber.close()


class PubSubEventOutbox:
    """Worker side: publishes events in background batches, never blocking; an `EventOutbox`.

    At most `max_buffered` events wait for Pub/Sub; beyond that new ones are dropped and
    counted in `dropped` (newer progress follows). Publishes that failed are counted in `failed`.
    A `publisher` passed in must have message ordering enabled.
    """

    def __init__(
        self,
        project: str | None,
        prefix: str = DEFAULT_PREFIX,
        publisher: pubsub_v1.PublisherClient | None = None,
        max_buffered: int = 10_000,
        flush_timeout: float = 2.0,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        self._topic = self.names.events_topic()
        self._own_publisher = publisher is None
        self._publisher = publisher or make_publisher(
            publisher_options=pubsub_v1.types.PublisherOptions(
                enable_message_ordering=True,
                flow_control=pubsub_v1.types.PublishFlowControl(
                    message_limit=max_buffered,
                    byte_limit=64 * 1024 * 1024,
                    # ERROR fails the publish at once; BLOCK would stall the agent's loop.
                    limit_exceeded_behavior=pubsub_v1.types.LimitExceededBehavior.ERROR,
                ),
            ),
        )
        ensure_topic(self._publisher, self._topic)
        self._flush_timeout = flush_timeout
        self._pending: set[futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.dropped = 0
        self.failed = 0

    def publish(self, event: Event) -> None:
        """Queue `event` for publishing (ordering key = its instance id); never raises, never waits."""
        if self._closed:
            self._count_drop()
            return
        try:
            future = self._publisher.publish(
                self._topic,
                wire.dumps(event.to_dict()),
                ordering_key=event.instance_id,
                instance_id=event.instance_id,
                kind=event.kind,
            )
        except (RuntimeError, ValueError) as exc:  # stopped publisher, message too large
            log.warning("dropped a %s event: %s", event.kind, exc)
            self._count_drop()
            return
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(functools.partial(self._on_done, event.instance_id))

    def _count_drop(self) -> None:
        with self._lock:
            self.dropped += 1

    def _on_done(self, ordering_key: str, future: futures.Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
        exc = future.exception()
        if exc is None:
            return
        if isinstance(exc, publish_exceptions.FlowControlLimitError):
            with self._lock:
                self.dropped += 1
                dropped = self.dropped
            if dropped == 1 or dropped % 1000 == 0:
                log.warning("event buffer full: %d event(s) dropped so far", dropped)
            return
        with self._lock:
            self.failed += 1
            failed = self.failed
        if failed == 1 or failed % 100 == 0:
            log.warning("publishing events to %s failed %d time(s): %s", self._topic, failed, exc)
        # A failed ordered publish pauses its key until resumed; later events should still go.
        self._publisher.resume_publish(self._topic, ordering_key)

    def close(self) -> None:
        """Send what is buffered, waiting at most `flush_timeout` seconds, then release the client."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            pending = list(self._pending)
        futures.wait(pending, timeout=self._flush_timeout)
        if self._own_publisher:
            self._publisher.stop()
            self._publisher.transport.close()
