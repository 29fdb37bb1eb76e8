"""The Pub/Sub EventBus (control plane) and EventOutbox (worker); see `pubsub_bus` for the design."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1.publisher import exceptions as publish_exceptions
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler
from google.protobuf import duration_pb2

from ainimal_zookeeper import wire
from ainimal_zookeeper.adapters.gcp.event_signing import SIGNATURE_ATTRIBUTE, sign, signed_by
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
from ainimal_zookeeper.domain.event_origin import refusal
from ainimal_zookeeper.domain.events import Event, event_from_dict
from ainimal_zookeeper.errors import InvalidInput, ZookeeperError

__all__ = ["PubSubEventBus", "PubSubEventOutbox", "stream_subscription_request"]

log = logging.getLogger(__name__)


#: Pub/Sub's least message retention: a stream's subscription serves live events only.
STREAM_RETENTION_SECONDS = 10 * 60
#: At most one warning about refused events per stream per this many seconds (the rest are counted).
_WARN_EVERY_SECONDS = 10.0


def stream_subscription_request(name: str, topic: str) -> dict[str, Any]:
    """CreateSubscription for one subscriber: ordered, the shortest retention and expiry Pub/Sub allows.

    The expiration policy (one day without a pull, Pub/Sub's minimum) removes the
    subscription of a process that died without unsubscribing.
    """
    request = subscription_request(name, topic)
    request["message_retention_duration"] = duration_pb2.Duration(seconds=STREAM_RETENTION_SECONDS)
    request["labels"] = {"ainimal-zookeeper": "event-stream"}
    return request


class PubSubEventBus:
    """Control-plane side: every `subscribe` gets its own subscription on the events topic; an `EventBus`.

    Each subscriber (the projection, each open SSE stream) reads through a subscription of its
    own, `{prefix}events-{uuid}`, with its own streaming pull and handler thread, so every
    subscriber sees every event and a slow or failing one holds up nobody else. Its unsubscribe
    function stops the pull and deletes the subscription; `close` deletes those still open.

    The first subscription is created with the bus, so that events published between start and
    the first `subscribe` (the projection's) wait in it. With `subscription_name`, that first
    subscriber reads a named subscription instead, which control planes sharing the name split
    the events of and which outlives them (never deleted here); later subscribers get their own.
    """

    def __init__(
        self,
        project: str | None,
        prefix: str = DEFAULT_PREFIX,
        subscription_name: str | None = None,
        subscriber: pubsub_v1.SubscriberClient | None = None,
        publisher: pubsub_v1.PublisherClient | None = None,
        max_outstanding: int = 1000,
        signing_secret: str | None = None,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        # With a secret, only events signed by their own instance's worker count (event_signing.py).
        self._signing_secret = signing_secret
        self._topic = self.names.events_topic()
        self._own_subscriber = subscriber is None
        self._subscriber = subscriber or make_subscriber()
        admin = publisher or make_publisher()  # topic administration lives on the publisher API
        try:
            ensure_topic(admin, self._topic)
        finally:
            if publisher is None:
                admin.transport.close()
        self._max_outstanding = max_outstanding
        self._lock = threading.Lock()
        self._streams: dict[str, _Stream] = {}
        self._closed = False
        if subscription_name is None:
            self._reserved: tuple[str, bool] | None = (self._create(), True)
        else:
            self._reserved = (self.names.events_subscription(subscription_name), False)
            ensure_subscription(self._subscriber, subscription_request(self._reserved[0], self._topic))
        #: The subscription the first subscriber reads.
        self.subscription = self._reserved[0]

    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        """Call `handler` for each event from now on (from this subscription's thread).

        Returns:
            A function that stops the delivery and deletes the subscription (safe to call twice).

        Raises:
            Unavailable: Pub/Sub could not create the subscription.
        """
        with self._lock:
            if self._closed:
                return lambda: None
            reserved, self._reserved = self._reserved, None
        name, owned = reserved if reserved is not None else (self._create(), True)
        stream = _Stream(self._subscriber, name, handler, owned, self._max_outstanding, self._signing_secret)
        with self._lock:
            closed = self._closed
            if not closed:
                self._streams[name] = stream
        if closed:  # closed while the subscription was being made
            self._delete(name, owned)
            return lambda: None
        stream.start()
        return functools.partial(self._unsubscribe, name)

    def open_subscriptions(self) -> list[str]:
        """The subscriptions of the subscribers that are still subscribed."""
        with self._lock:
            return sorted(self._streams)

    def _create(self) -> str:
        name = self.names.events_subscription(f"{self.names.prefix}events-{uuid.uuid4().hex}")
        ensure_subscription(self._subscriber, stream_subscription_request(name, self._topic))
        return name

    def _unsubscribe(self, name: str) -> None:
        with self._lock:
            stream = self._streams.pop(name, None)
        if stream is not None:
            stream.stop()
            self._delete(name, stream.owned)

    def _delete(self, name: str, owned: bool) -> None:
        """Delete an owned subscription; a failure is logged, the expiration policy mops up."""
        if not owned:
            return
        try:
            delete_quietly(lambda: self._subscriber.delete_subscription(subscription=name, retry=RETRY), name)
        except ZookeeperError as exc:
            log.warning("could not delete %s (it expires after a day unused): %s", name, exc)

    def close(self) -> None:
        """Stop every stream, delete the subscriptions this bus made, release the client."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            streams, self._streams = list(self._streams.values()), {}
            reserved, self._reserved = self._reserved, None
        try:
            for stream in streams:
                stream.stop()
            for stream in streams:
                self._delete(stream.name, stream.owned)
            if reserved is not None:
                self._delete(*reserved)
        finally:
            if self._own_subscriber:
                self._subscriber.close()


class _Stream:
    """One subscriber: a streaming pull on its subscription, calling its handler on one thread."""

    def __init__(
        self,
        subscriber: pubsub_v1.SubscriberClient,
        name: str,
        handler: Callable[[Event], None],
        owned: bool,
        max_outstanding: int,
        signing_secret: str | None = None,
    ) -> None:
        self.name, self.owned = name, owned
        self._signing_secret = signing_secret
        self.refused = 0
        self._last_warning = 0.0
        self._subscriber, self._handler = subscriber, handler
        self._max_outstanding = max_outstanding
        self._thread_prefix = f"zk-events-{uuid.uuid4().hex[:8]}"
        self._stopped = False
        self._pull: Any = None

    def start(self) -> None:
        self._pull = self._subscriber.subscribe(
            self.name,
            self._on_message,
            flow_control=pubsub_v1.types.FlowControl(max_messages=self._max_outstanding),
            # One handler thread per subscriber, as on the local bus: handlers need not be thread-safe.
            scheduler=ThreadScheduler(ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._thread_prefix)),
        )
        self._pull.add_done_callback(self._on_pull_done)

    def stop(self) -> None:
        """Stop the pull; waits for it unless called from this stream's own handler."""
        self._stopped = True
        pull = self._pull
        if pull is None:
            return
        pull.cancel()
        if threading.current_thread().name.startswith(self._thread_prefix):
            return  # an unsubscribe from inside the handler: the shutdown proceeds without us
        try:
            pull.result(timeout=10)
        except (futures.CancelledError, futures.TimeoutError, gexc.GoogleAPIError) as exc:
            log.debug("event stream %s ended: %r", self.name, exc)

    def _on_message(self, message: Any) -> None:
        if self._stopped:
            return  # unsubscribed: neither handled nor acked (the subscription is going away)
        try:
            event = event_from_dict(wire.loads(message.data))
            reason = self._refusal(message, event)
            if reason is not None:
                self._refused(reason)
                message.ack()
                return
        except (ValueError, InvalidInput) as exc:
            # Redelivering a malformed event would not mend it: drop it, as the local bus does.
            log.warning("dropped a malformed event from %s: %s", message.attributes.get("instance_id", "?"), exc)
            message.ack()
            return
        try:
            self._handler(event)
        except Exception:  # a failing subscriber must not stop its own stream either
            log.exception("event handler failed on %s", event.kind)
        message.ack()

    def _refusal(self, message: Any, event: Event) -> str | None:
        """Why the event does not count: unsigned or not signed by its instance's worker, or not its to say."""
        if self._signing_secret is None:
            return None
        sender = str(message.attributes.get("instance_id", ""))
        signature = str(message.attributes.get(SIGNATURE_ATTRIBUTE, ""))
        if not signature or not signed_by(self._signing_secret, sender, message.data, signature):
            return f"an event for {sender[:64]!r} without its worker's signature"
        return refusal(sender, event)

    def _refused(self, what: str) -> None:
        """Count refused events; warn at most once per `_WARN_EVERY_SECONDS`."""
        self.refused += 1
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("event bus refused %s (%d refused so far)", what, self.refused)

    def _on_pull_done(self, future: Any) -> None:
        if not self._stopped and not future.cancelled() and future.exception() is not None:
            log.error("event stream from %s stopped: %s", self.name, future.exception())


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
        signing_key: str | None = None,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        self._signing_key = signing_key  # this worker's (event_signing.py); None: unsigned
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
        data = wire.dumps(event.to_dict())
        signature = {SIGNATURE_ATTRIBUTE: sign(self._signing_key, data)} if self._signing_key else {}
        try:
            future = self._publisher.publish(
                self._topic,
                data,
                ordering_key=event.instance_id,
                instance_id=event.instance_id,
                kind=event.kind,
                **signature,
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
