"""The Pub/Sub CommandBus (control plane) and CommandInbox (worker); see `pubsub_bus` for the design."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions as gexc
from google.cloud.pubsub_v1.publisher import exceptions as publish_exceptions

from ainimal_zookeeper import wire
from ainimal_zookeeper.adapters.counting_doorbell import CountingDoorbell
from ainimal_zookeeper.adapters.gcp.event_signing import (
    SENT_AT_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    command_signed_with,
    sign_command,
    worker_key,
)
from ainimal_zookeeper.adapters.gcp.pubsub_bus import (
    ACK_DEADLINE_SECONDS,
    DEFAULT_PREFIX,
    RETRY,
    RPC_TIMEOUT_SECONDS,
    PubSubNames,
    delete_quietly,
    make_publisher,
    make_subscriber,
    provision_instance,
    translate,
)
from ainimal_zookeeper.domain.commands import Command, command_from_dict
from ainimal_zookeeper.errors import InvalidInput, ZookeeperError

__all__ = ["PubSubCommandBus", "PubSubCommandInbox"]

log = logging.getLogger(__name__)

_PUBLISH_ERRORS = (gexc.GoogleAPIError, TimeoutError, publish_exceptions.PublishToPausedOrderingKeyException)
#: A signed command older than this is refused: every request waiting for one gave up long before.
MAX_COMMAND_AGE_SECONDS = 300.0


class PubSubCommandBus:
    """Control-plane side: one topic + subscription per instance; implements `CommandBus`.

    A `publisher` passed in must have message ordering enabled. With `signing_secret` each
    command is signed with the key of the instance it is for (event_signing.py).
    """

    def __init__(
        self,
        project: str | None,
        prefix: str = DEFAULT_PREFIX,
        publisher: pubsub_v1.PublisherClient | None = None,
        subscriber: pubsub_v1.SubscriberClient | None = None,
        signing_secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        self._signing_secret = signing_secret
        self._clock = clock  # wall clock: workers compare it with their own
        self._own_clients = publisher is None, subscriber is None
        # A command is waited for anyway: send it at once instead of after the 10 ms batch window.
        self._publisher = publisher or make_publisher(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True),
            batch_settings=pubsub_v1.types.BatchSettings(max_latency=0.001),
        )
        self._subscriber = subscriber or make_subscriber()
        self._provisioned: set[str] = set()
        self._lock = threading.Lock()

    @property
    def connection(self) -> dict[str, Any]:
        """How a worker reaches its inbox (goes into `WorkerSpec.connection['bus']`)."""
        return {"type": "pubsub", "project": self.names.project, "prefix": self.names.prefix}

    def ensure_instance(self, instance_id: str) -> None:
        """Create the instance's topic and subscription if missing (idempotent, cached)."""
        with self._lock:
            if instance_id in self._provisioned:
                return
        provision_instance(self._publisher, self._subscriber, self.names, instance_id)
        with self._lock:
            self._provisioned.add(instance_id)

    def send(self, command: Command) -> None:
        """Publish `command` to its instance; raises Unavailable if Pub/Sub did not take it."""
        self.ensure_instance(command.instance_id)
        try:
            self._publish(command)
        except gexc.NotFound:
            # Another control plane forgot the instance: provision again and retry once.
            with self._lock:
                self._provisioned.discard(command.instance_id)
            self.ensure_instance(command.instance_id)
            try:
                self._publish(command)
            except gexc.NotFound as exc:
                raise translate(exc, f"send {command.kind} to {command.instance_id}") from exc

    def _publish(self, command: Command) -> None:
        topic = self.names.commands_topic(command.instance_id)
        data = wire.dumps(command.to_dict())
        signature = {}
        if self._signing_secret is not None:
            key = worker_key(self._signing_secret, command.instance_id)
            sent_at = f"{self._clock():.3f}"
            signature = {SENT_AT_ATTRIBUTE: sent_at, SIGNATURE_ATTRIBUTE: sign_command(key, data, sent_at)}
        future = self._publisher.publish(
            topic,
            data,
            ordering_key=command.instance_id,
            instance_id=command.instance_id,
            kind=command.kind,
            command_id=command.command_id,
            **signature,
        )
        try:
            future.result(timeout=RPC_TIMEOUT_SECONDS)
        except _PUBLISH_ERRORS as exc:
            # A failed ordered publish pauses its key; resume so the next send can go through.
            self._publisher.resume_publish(topic, command.instance_id)
            if isinstance(exc, gexc.NotFound):
                raise
            raise translate(exc, f"send {command.kind} to {command.instance_id}") from exc

    def forget(self, instance_id: str) -> None:
        """Delete the instance's subscription and topic (and whatever is queued in them)."""
        with self._lock:
            self._provisioned.discard(instance_id)
        subscription = self.names.commands_subscription(instance_id)
        topic = self.names.commands_topic(instance_id)
        delete_quietly(
            lambda: self._subscriber.delete_subscription(subscription=subscription, retry=RETRY), subscription
        )
        delete_quietly(lambda: self._publisher.delete_topic(topic=topic, retry=RETRY), topic)

    def close(self) -> None:
        """Release the clients this bus created."""
        own_publisher, own_subscriber = self._own_clients
        if own_publisher:
            self._publisher.stop()
            self._publisher.transport.close()
        if own_subscriber:
            self._subscriber.close()


class PubSubCommandInbox:
    """Worker side: pulls the instance's subscription in a background thread; a `CommandInbox`.

    `receive` only reads a local buffer, so it never blocks the agent's loop for an RPC (a
    pull costs milliseconds against the emulator and tens of them against Pub/Sub). The
    stepping worker reads `doorbell` at every step and calls `receive` when it moved.

    With `signing_key` (this worker's, event_signing.py) a command counts only when the control
    plane signed it with that key, less than `max_command_age` seconds before (by `clock`, the
    wall clock): any other goes to the dead-letter topic unapplied.
    """

    def __init__(
        self,
        project: str | None,
        instance_id: str,
        prefix: str = DEFAULT_PREFIX,
        subscriber: pubsub_v1.SubscriberClient | None = None,
        publisher: pubsub_v1.PublisherClient | None = None,
        max_messages: int = 20,
        pull_timeout: float = 1.0,
        idle_interval: float = 0.02,
        signing_key: str | None = None,
        max_command_age: float = MAX_COMMAND_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.names = PubSubNames(project, prefix)
        self.instance_id = instance_id
        self._signing_key = signing_key
        self._max_command_age, self._clock = max_command_age, clock
        self._subscription = self.names.commands_subscription(instance_id)
        self._own_clients = subscriber is None, publisher is None
        self._subscriber = subscriber or make_subscriber()
        self._publisher = publisher or make_publisher()  # admin calls and dead-lettering; unordered
        self._max_messages, self._pull_timeout, self._idle_interval = max_messages, pull_timeout, idle_interval
        provision_instance(self._publisher, self._subscriber, self.names, instance_id)
        self._buffer: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.doorbell = CountingDoorbell()  # counts commands into and out of `_buffer`
        self._held: dict[str, set[str]] = {}  # command_id -> ack ids taken but not yet acked
        self._lock = threading.Lock()
        self._fatal: ZookeeperError | None = None
        self._stop = threading.Event()
        # Acks go out from their own thread so that `ack` never waits for an RPC either.
        self._acks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zk-pubsub-ack")
        self._thread = threading.Thread(target=self._run, name=f"zk-pubsub-inbox-{instance_id}", daemon=True)
        self._thread.start()

    def receive(self, timeout: float = 0.0) -> list[Command]:
        """Commands that arrived, waiting at most `timeout` seconds for the first."""
        if self._fatal is not None:
            raise self._fatal
        try:
            first = self._buffer.get(timeout=timeout) if timeout > 0 else self._buffer.get_nowait()
        except queue.Empty:
            return []
        commands = [first]
        while True:
            try:
                commands.append(self._buffer.get_nowait())
            except queue.Empty:
                self.doorbell.taken(len(commands))
                return commands

    def ack(self, command: Command) -> None:
        """Acknowledge every delivery of `command` (call only after applying it)."""
        with self._lock:
            ack_ids = self._held.pop(command.command_id, set())
        if ack_ids:
            self._acks.submit(self._settle, sorted(ack_ids), None)

    def nack(self, command: Command) -> None:
        """Hand `command` back unapplied: Pub/Sub delivers it again at once."""
        with self._lock:
            ack_ids = self._held.pop(command.command_id, set())
        if ack_ids:
            self._acks.submit(self._settle, sorted(ack_ids), 0)

    def close(self) -> None:
        """Stop pulling and hand back what was taken but not applied, for the next worker."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=self._pull_timeout + RPC_TIMEOUT_SECONDS)
        with self._lock:
            ack_ids = sorted(a for held in self._held.values() for a in held)
            self._held.clear()
        if ack_ids:
            self._acks.submit(self._settle, ack_ids, 0)
        self._acks.shutdown(wait=True)
        own_subscriber, own_publisher = self._own_clients
        if own_subscriber:
            self._subscriber.close()
        if own_publisher:
            self._publisher.stop()
            self._publisher.transport.close()

    # the pulling thread

    def _run(self) -> None:
        next_lease = time.monotonic() + ACK_DEADLINE_SECONDS / 3
        failures = 0
        while not self._stop.is_set():
            if time.monotonic() >= next_lease:
                next_lease = time.monotonic() + ACK_DEADLINE_SECONDS / 3
                self._extend_leases()
            if not self._buffer.empty():
                # The agent has not taken what it has; pulling more would only hold more leases.
                self._stop.wait(self._idle_interval)
                continue
            try:
                response = self._subscriber.pull(
                    subscription=self._subscription,
                    max_messages=self._max_messages,
                    timeout=self._pull_timeout,
                    retry=None,
                )
            except gexc.DeadlineExceeded:
                continue  # nothing within the long poll
            except (gexc.NotFound, gexc.PermissionDenied) as exc:
                self._fatal = translate(exc, f"pull commands from {self._subscription} (deleted or expired?)")
                log.error("%s", self._fatal)
                return
            except (gexc.GoogleAPIError, TimeoutError) as exc:
                failures += 1
                if failures == 1 or failures % 100 == 0:
                    log.warning("pulling %s failed %d time(s): %s", self._subscription, failures, exc)
                self._stop.wait(min(2.0, self._idle_interval * 2**failures))
                continue
            failures = 0
            for received in response.received_messages:
                self._take(received)
            if not response.received_messages:
                # The emulator answers an empty pull at once instead of long-polling: don't spin.
                self._stop.wait(self._idle_interval)

    def _take(self, received: Any) -> None:
        try:
            if self._signing_key is not None:
                self._check_signed(received.message)
            command = command_from_dict(wire.loads(received.message.data))
            if command.instance_id != self.instance_id:
                raise InvalidInput(f"addressed to {command.instance_id!r}, not {self.instance_id!r}")
        except (ValueError, InvalidInput) as exc:
            self._dead_letter(received, exc)
            return
        with self._lock:
            self._held.setdefault(command.command_id, set()).add(received.ack_id)
        self._buffer.put(command)
        self.doorbell.delivered()

    def _check_signed(self, message: Any) -> None:
        """InvalidInput unless the control plane signed `message` for this instance, recently."""
        signature = str(message.attributes.get(SIGNATURE_ATTRIBUTE, ""))
        sent_at = str(message.attributes.get(SENT_AT_ATTRIBUTE, ""))
        if not signature or not command_signed_with(self._signing_key or "", message.data, sent_at, signature):
            raise InvalidInput("not signed by the control plane for this instance")
        try:
            age = self._clock() - float(sent_at)
        except ValueError:
            raise InvalidInput("signed, but its sent_at is not a time") from None
        if not age <= self._max_command_age:  # NaN too
            raise InvalidInput(
                f"sent {age:.0f} s ago, more than the {self._max_command_age:g} s a command is valid for "
                "(a replay, or it waited too long)"
            )

    def _dead_letter(self, received: Any, error: Exception) -> None:
        topic = self.names.dead_letter_topic()
        log.warning("a command for %s is refused (%s); moving it to %s", self.instance_id, error, topic)
        attributes = dict(received.message.attributes)
        attributes.update(
            dead_letter_source_subscription=self._subscription,
            dead_letter_error=str(error)[:1000],
            dead_letter_delivery_attempt=str(received.delivery_attempt),
        )
        try:
            self._publisher.publish(topic, received.message.data, **attributes).result(timeout=RPC_TIMEOUT_SECONDS)
        except (gexc.GoogleAPIError, TimeoutError) as exc:
            # Not acked: the subscription's dead-letter policy moves it after a few attempts.
            log.warning("could not dead-letter it (%s); handing it back", exc)
            self._settle([received.ack_id], 0)
            return
        self._settle([received.ack_id], None)

    def _extend_leases(self) -> None:
        with self._lock:
            ack_ids = sorted(a for held in self._held.values() for a in held)
        if ack_ids:
            self._settle(ack_ids, ACK_DEADLINE_SECONDS)

    def _settle(self, ack_ids: list[str], deadline: int | None) -> None:
        """Acknowledge (`deadline` None) or set the ack deadline of `ack_ids`; failures only log."""
        try:
            if deadline is None:
                self._subscriber.acknowledge(subscription=self._subscription, ack_ids=ack_ids, retry=RETRY)
            else:
                self._subscriber.modify_ack_deadline(
                    subscription=self._subscription, ack_ids=ack_ids, ack_deadline_seconds=deadline, retry=RETRY
                )
        except (gexc.GoogleAPIError, TimeoutError) as exc:
            # At worst the commands come again, and the worker drops ids it has applied.
            log.warning("could not settle %d command(s) on %s: %s", len(ack_ids), self._subscription, exc)
