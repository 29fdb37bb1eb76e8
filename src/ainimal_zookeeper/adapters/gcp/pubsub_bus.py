"""Google Cloud Pub/Sub adapters for the bus ports: the shared naming, clients and provisioning.

The classes live in two modules and are re-exported here:
`pubsub_commands` (PubSubCommandBus, PubSubCommandInbox) and `pubsub_events`
(PubSubEventBus, PubSubEventOutbox).

Design
------
- Commands: ONE TOPIC PER INSTANCE, `{prefix}commands-{instance_id}`, with one subscription of
  the same name. A shared topic with a subscription filter per instance would be cheaper, but
  the emulator ignores filters and would deliver every instance's commands to every worker.
  The control plane creates both on the first `send` (or `ensure_instance`), the worker's inbox
  creates them too if missing (so a worker that starts first loses nothing: Pub/Sub only
  delivers to subscriptions that exist at publish time), and `forget` deletes both.
  The subscription has message ordering (ordering key = instance id, so Pause/Resume keep their
  order), an ack deadline of 10 s, a dead-letter policy to `{prefix}commands-dead-letter` after
  5 delivery attempts, and an expiration policy (1 day without pulls) as a safety net for
  instances nobody forgot. Messages carry the attribute `instance_id`.
- Delivery is at least once: a command is acknowledged only after the worker applied it; the
  worker drops command ids it has already applied. The inbox pulls synchronously in a
  background thread, not inside `receive`: the worker calls `receive(0)` every half
  millisecond while stepping, and even one pull RPC per 20 ms (milliseconds each against the
  emulator, tens against Pub/Sub) would cost it a large share of its steps. The thread keeps
  extending the lease of what it holds, so a slow agent step does not cause redeliveries; a
  worker that dies stops extending, and its commands come back after the ack deadline (after
  `close()`, at once).
- A command that does not decode (poison) is never applied: the inbox forwards it to the
  dead-letter topic and acknowledges it, so the commands behind it keep flowing. If forwarding
  fails it is handed back (not acked) and the subscription's dead-letter policy moves it after
  5 attempts. (Forwarding ourselves instead of leaving it all to the policy: in the emulator,
  a message dead-lettered from an ordered subscription never reaches the dead-letter topic and
  wedges the subscription for good.) IAM: the worker needs publisher on the dead-letter topic;
  the policy needs the Pub/Sub service agent to publish there and to subscribe to the source.
- Events: one topic `{prefix}events`, ordering key = instance id. Every subscriber (the
  projection, and each open SSE stream of `instanceEvents` or `telemetry`) reads through a
  subscription of its own, `{prefix}events-{uuid}`, created when it subscribes and deleted when
  it unsubscribes (expiring after a day unused as the safety net), with streaming pull.
- Bodies are UTF-8 JSON (`ainimal_zookeeper.wire`), never pickle.
- Vendor errors stop here: they become `Unavailable` (may be retried) or `ConfigError`
  (project, prefix, credentials or IAM roles to fix).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth import exceptions as auth_exceptions
from google.protobuf import duration_pb2

from ainimal_zookeeper.errors import ConfigError, InvalidInput, Unavailable, ZookeeperError

if TYPE_CHECKING:
    from ainimal_zookeeper.adapters.gcp.pubsub_commands import PubSubCommandBus, PubSubCommandInbox
    from ainimal_zookeeper.adapters.gcp.pubsub_events import PubSubEventBus, PubSubEventOutbox

__all__ = [
    "ACK_DEADLINE_SECONDS",
    "DEFAULT_PREFIX",
    "MAX_DELIVERY_ATTEMPTS",
    "PubSubCommandBus",
    "PubSubCommandInbox",
    "PubSubEventBus",
    "PubSubEventOutbox",
    "PubSubNames",
]

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "zk-"
ACK_DEADLINE_SECONDS = 10
MAX_DELIVERY_ATTEMPTS = 5  # the least Pub/Sub accepts
EXPIRATION_SECONDS = 24 * 3600  # the shortest expiration Pub/Sub accepts
RPC_TIMEOUT_SECONDS = 10.0

# Admin and publish calls retry transient failures, but give up in bounded time so that a
# missing emulator or an outage surfaces as Unavailable instead of a minute-long hang.
RETRY = gretry.Retry(
    initial=0.1,
    maximum=2.0,
    multiplier=2.0,
    timeout=RPC_TIMEOUT_SECONDS,
    predicate=gretry.if_exception_type(
        gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.Aborted
    ),
)

_RESOURCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}")
_CONFIG_ERRORS = (gexc.PermissionDenied, gexc.Unauthenticated, gexc.InvalidArgument, gexc.FailedPrecondition)

_LAZY = {
    "PubSubCommandBus": "pubsub_commands",
    "PubSubCommandInbox": "pubsub_commands",
    "PubSubEventBus": "pubsub_events",
    "PubSubEventOutbox": "pubsub_events",
}


def __getattr__(name: str) -> Any:
    """Re-export the adapters lazily (they import this module, so an eager import would cycle)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"ainimal_zookeeper.adapters.gcp.{module}"), name)


class PubSubNames:
    """Full resource paths of one deployment's topics and subscriptions."""

    def __init__(self, project: str | None, prefix: str = DEFAULT_PREFIX) -> None:
        self.project = project or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
        if not self.project:
            raise ConfigError("Pub/Sub: no project; pass `project` or set GOOGLE_CLOUD_PROJECT")
        if not _RESOURCE_ID.fullmatch(f"{prefix}events") or prefix.lower().startswith("goog"):
            raise ConfigError(
                f"Pub/Sub: prefix {prefix!r} cannot start a topic name; expected a letter first, then "
                "letters, digits or - _ . ~ + %, and not 'goog' (e.g. 'zk-')"
            )
        self.prefix = prefix

    def _path(self, kind: str, resource_id: str) -> str:
        if not _RESOURCE_ID.fullmatch(resource_id):
            raise InvalidInput(f"Pub/Sub: {resource_id!r} is not a valid name; expected at most 255 characters")
        return f"projects/{self.project}/{kind}/{resource_id}"

    def _instance_id(self, instance_id: str) -> str:
        if not instance_id:
            raise InvalidInput("Pub/Sub: a command needs an instance_id; got an empty one")
        # Percent-encode what resource names cannot hold; the real id travels in the message.
        return f"{self.prefix}commands-{quote(instance_id, safe='-_.~+')}"

    def commands_topic(self, instance_id: str) -> str:
        """The topic that carries one instance's commands."""
        return self._path("topics", self._instance_id(instance_id))

    def commands_subscription(self, instance_id: str) -> str:
        """The subscription one instance's worker pulls its commands from."""
        return self._path("subscriptions", self._instance_id(instance_id))

    def dead_letter_topic(self) -> str:
        """Where commands that cannot be applied end up."""
        return self._path("topics", f"{self.prefix}commands-dead-letter")

    def events_topic(self) -> str:
        """The topic every worker publishes its events to."""
        return self._path("topics", f"{self.prefix}events")

    def events_subscription(self, name: str) -> str:
        """A control plane's subscription on the events topic."""
        return self._path("subscriptions", name)


def make_publisher(**options: Any) -> pubsub_v1.PublisherClient:
    """A publisher client (options as for `PublisherClient`); ConfigError without credentials."""
    return _client(pubsub_v1.PublisherClient, options)


def make_subscriber() -> pubsub_v1.SubscriberClient:
    """A subscriber client; ConfigError without credentials."""
    return _client(pubsub_v1.SubscriberClient, {})


def _client(factory: Any, options: dict[str, Any]) -> Any:
    try:
        return factory(**options)
    except auth_exceptions.DefaultCredentialsError as exc:
        raise ConfigError(
            "Pub/Sub: no emulator and no Google credentials found; set PUBSUB_EMULATOR_HOST=host:port "
            "to use the emulator, or GOOGLE_APPLICATION_CREDENTIALS (or run on Google Cloud) for the "
            f"real service ({exc})"
        ) from exc


def translate(exc: BaseException, doing: str) -> ZookeeperError:
    """The zookeeper error for a vendor error raised while `doing` something."""
    if isinstance(exc, ZookeeperError):
        return exc
    if isinstance(exc, _CONFIG_ERRORS):
        return ConfigError(
            f"Pub/Sub refused to {doing}: {exc}; check the project, the prefix and the service account's Pub/Sub roles"
        )
    emulator = os.environ.get("PUBSUB_EMULATOR_HOST")
    where = f"the emulator at PUBSUB_EMULATOR_HOST={emulator}" if emulator else "Pub/Sub"
    return Unavailable(f"{where} could not {doing}: {exc or type(exc).__name__}; the request may be retried")


def ensure_topic(publisher: pubsub_v1.PublisherClient, topic: str) -> None:
    """Create `topic` unless it exists; a caller not allowed to create assumes it was provisioned."""
    try:
        publisher.create_topic(name=topic, retry=RETRY, timeout=RPC_TIMEOUT_SECONDS)
    except gexc.AlreadyExists:
        pass
    except gexc.PermissionDenied:
        # Workers usually may publish but not administer; terraform provisioned what they use.
        log.info("not allowed to create %s; assuming it was provisioned", topic)
    except (gexc.GoogleAPIError, TimeoutError) as exc:
        raise translate(exc, f"create topic {topic}") from exc


def ensure_subscription(subscriber: pubsub_v1.SubscriberClient, request: dict[str, Any]) -> None:
    """Create a subscription unless it exists (an existing one keeps its settings)."""
    try:
        subscriber.create_subscription(request=request, retry=RETRY, timeout=RPC_TIMEOUT_SECONDS)
    except gexc.AlreadyExists:
        pass
    except gexc.PermissionDenied:
        log.info("not allowed to create %s; assuming it was provisioned", request["name"])
    except (gexc.GoogleAPIError, TimeoutError) as exc:
        raise translate(exc, f"create subscription {request['name']}") from exc


def subscription_request(name: str, topic: str, dead_letter_topic: str | None = None) -> dict[str, Any]:
    """A CreateSubscription request with the bus's settings (ordered, expiring when unused)."""
    request: dict[str, Any] = {
        "name": name,
        "topic": topic,
        "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
        "enable_message_ordering": True,
        "expiration_policy": {"ttl": duration_pb2.Duration(seconds=EXPIRATION_SECONDS)},
    }
    if dead_letter_topic:
        request["dead_letter_policy"] = {
            "dead_letter_topic": dead_letter_topic,
            "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS,
        }
    return request


def provision_instance(
    publisher: pubsub_v1.PublisherClient, subscriber: pubsub_v1.SubscriberClient, names: PubSubNames, instance_id: str
) -> None:
    """Ensure the dead-letter topic and one instance's command topic and subscription exist."""
    dead_letter = names.dead_letter_topic()
    ensure_topic(publisher, dead_letter)
    topic = names.commands_topic(instance_id)
    ensure_topic(publisher, topic)
    ensure_subscription(subscriber, subscription_request(names.commands_subscription(instance_id), topic, dead_letter))


def delete_quietly(delete: Callable[[], object], what: str) -> None:
    """Call `delete`, ignoring NotFound (already gone)."""
    try:
        delete()
    except gexc.NotFound:
        pass
    except (gexc.GoogleAPIError, TimeoutError) as exc:
        raise translate(exc, f"delete {what}") from exc
