"""The Pub/Sub bus against the official emulator: the bus contract, redelivery, poison, cleanup."""

from __future__ import annotations

import os
import threading
import time

import pytest
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1

from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubNames
from ainimal_zookeeper.adapters.gcp.pubsub_commands import PubSubCommandBus, PubSubCommandInbox
from ainimal_zookeeper.adapters.gcp.pubsub_events import PubSubEventBus, PubSubEventOutbox
from ainimal_zookeeper.domain import commands as cmd
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import ConfigError

from contracts.bus import BusContract


class ControlPlane:
    """The control plane's two buses behind one object, as the contract expects."""

    def __init__(self, project, prefix):
        self.commands = PubSubCommandBus(project, prefix)
        self.events = PubSubEventBus(project, prefix)
        self.send, self.forget, self.subscribe = self.commands.send, self.commands.forget, self.events.subscribe

    def close(self):
        self.events.close()
        self.commands.close()


@pytest.fixture
def project(pubsub_emulator):
    return os.environ["GOOGLE_CLOUD_PROJECT"]


@pytest.fixture
def prefix(unique):
    return f"zk-{unique}-"


@pytest.fixture
def names(project, prefix):
    return PubSubNames(project, prefix)


@pytest.fixture
def raw():
    """Plain clients, to look at and meddle with what the adapters left in the emulator."""
    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
    )
    subscriber = pubsub_v1.SubscriberClient()
    yield publisher, subscriber
    publisher.stop()
    publisher.transport.close()
    subscriber.close()


class TestPubSubBus(BusContract):
    @pytest.fixture(autouse=True)
    def _deployment(self, project, prefix):
        # Autouse, so it runs before the contract's `hub` fixture builds the control plane.
        self.project, self.prefix = project, prefix

    def make_control_plane(self):
        return ControlPlane(self.project, self.prefix)

    def make_inbox(self, control_plane, instance_id):
        return PubSubCommandInbox(self.project, instance_id, prefix=self.prefix)

    def make_outbox(self, control_plane, instance_id):
        return PubSubEventOutbox(self.project, self.prefix)


@pytest.fixture
def bus(project, prefix):
    bus = PubSubCommandBus(project, prefix)
    yield bus
    bus.close()


def receive_all(inbox, want, timeout=10.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += inbox.receive(0.05)
    return got


def test_a_command_handed_back_comes_again_with_the_same_id(bus, project, prefix):
    inbox = PubSubCommandInbox(project, "again", prefix=prefix)
    sent = cmd.SaveCheckpoint("again", checkpoint_id="c1")
    bus.send(sent)
    [first] = receive_all(inbox, 1)
    inbox.nack(first)  # the ack deadline set to 0: what Pub/Sub does when a lease lapses
    [second] = receive_all(inbox, 1)
    assert second == first == sent
    inbox.ack(second)
    assert inbox.receive(0.5) == []
    inbox.close()


def test_commands_of_one_instance_arrive_in_the_order_sent(bus, project, prefix):
    inbox = PubSubCommandInbox(project, "ordered", prefix=prefix)
    sent = [cmd.Pause("ordered"), cmd.Resume("ordered"), cmd.SetMode("ordered", mode="TRAIN"), cmd.Pause("ordered")]
    for command in sent:
        bus.send(command)
    # Acknowledge each as it arrives, as a worker does after applying it: ordered delivery
    # may hold a key's next message until the one before is acknowledged.
    got: list = []
    deadline = time.monotonic() + 20
    while len(got) < len(sent) and time.monotonic() < deadline:
        for command in inbox.receive(0.05):
            got.append(command)
            inbox.ack(command)
    assert [c.command_id for c in got] == [c.command_id for c in sent]
    inbox.close()


def test_a_poison_command_goes_to_the_dead_letter_topic_and_the_next_ones_still_flow(bus, names, raw):
    publisher, subscriber = raw
    inbox = PubSubCommandInbox(names.project, "victim", prefix=names.prefix)  # provisions the instance
    watch = subscriber.subscription_path(names.project, f"{names.prefix}watch-dead-letters")
    subscriber.create_subscription(name=watch, topic=names.dead_letter_topic())
    topic = names.commands_topic("victim")
    publisher.publish(topic, b"\x80 not json", ordering_key="victim", instance_id="victim").result()
    publisher.publish(topic, b'{"kind": "Explode", "instance_id": "victim"}', ordering_key="victim").result()
    valid = cmd.Resume("victim")
    bus.send(valid)

    got = receive_all(inbox, 1)
    assert [c.command_id for c in got] == [valid.command_id]
    inbox.ack(got[0])
    dead = []
    deadline = time.monotonic() + 10
    while len(dead) < 2 and time.monotonic() < deadline:
        try:
            response = subscriber.pull(subscription=watch, max_messages=10, timeout=1, retry=None)
        except gexc.DeadlineExceeded:
            continue
        dead += response.received_messages
    assert sorted(m.message.data for m in dead) == [b'{"kind": "Explode", "instance_id": "victim"}', b"\x80 not json"]
    assert {m.message.attributes["dead_letter_source_subscription"] for m in dead} == {
        names.commands_subscription("victim")
    }
    # Dead-lettered and acked: the instance's subscription holds nothing any more.
    later = cmd.Pause("victim")
    bus.send(later)
    assert [c.command_id for c in receive_all(inbox, 1)] == [later.command_id]
    inbox.close()


def test_forget_removes_the_instance_topic_and_subscription(bus, names, raw):
    publisher, subscriber = raw
    bus.send(cmd.Pause("gone"))
    subscriber.get_subscription(subscription=names.commands_subscription("gone"))
    bus.forget("gone")
    with pytest.raises(gexc.NotFound):
        subscriber.get_subscription(subscription=names.commands_subscription("gone"))
    with pytest.raises(gexc.NotFound):
        publisher.get_topic(topic=names.commands_topic("gone"))
    bus.forget("gone")  # forgetting twice is harmless
    bus.send(cmd.Resume("gone"))  # and a later send provisions it again
    subscriber.get_subscription(subscription=names.commands_subscription("gone"))


def test_instance_ids_that_names_cannot_hold_are_encoded(bus, project, prefix):
    inbox = PubSubCommandInbox(project, "user@example/run 1", prefix=prefix)
    sent = cmd.Pause("user@example/run 1")
    bus.send(sent)
    assert [c.command_id for c in receive_all(inbox, 1)] == [sent.command_id]
    inbox.close()


def test_the_event_bus_deletes_its_subscription_at_close(names, raw):
    _, subscriber = raw
    events = PubSubEventBus(names.project, names.prefix)
    subscriber.get_subscription(subscription=events.subscription)
    events.close()
    with pytest.raises(gexc.NotFound):
        subscriber.get_subscription(subscription=events.subscription)


class Collector:
    """A subscriber that keeps what it gets, by instance id."""

    def __init__(self):
        self.got: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.got.append(event.instance_id)

    def wait_for(self, want, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if sorted(self.got) == sorted(want):
                    return
            time.sleep(0.02)
        assert sorted(self.got) == sorted(want)


def event_subscriptions(subscriber, names):
    prefix = f"{names.prefix}events-"
    listed = subscriber.list_subscriptions(project=f"projects/{names.project}")
    return sorted(s.name for s in listed if s.name.rsplit("/", 1)[-1].startswith(prefix))


@pytest.fixture
def events_and_outbox(names):
    events = PubSubEventBus(names.project, names.prefix)
    outbox = PubSubEventOutbox(names.project, names.prefix)
    yield events, outbox
    outbox.close()
    events.close()


def test_each_subscriber_gets_its_own_short_lived_subscription_and_every_event(events_and_outbox, names, raw):
    _, subscriber = raw
    events, outbox = events_and_outbox
    first, second = Collector(), Collector()
    events.subscribe(first)
    events.subscribe(second)
    opened = events.open_subscriptions()
    assert len(opened) == 2 and event_subscriptions(subscriber, names) == opened
    for name in opened:
        settings = subscriber.get_subscription(subscription=name)
        assert settings.expiration_policy.ttl.total_seconds() == 24 * 3600  # the safety net: Pub/Sub's minimum
        assert settings.message_retention_duration.total_seconds() == 600
        assert settings.ack_deadline_seconds == 10
    for instance_id in ("a", "b", "c"):
        outbox.publish(ev.Progress(instance_id))
    first.wait_for(["a", "b", "c"])
    second.wait_for(["a", "b", "c"])


def test_unsubscribing_deletes_that_subscription_and_stops_only_that_subscriber(events_and_outbox, names, raw):
    _, subscriber = raw
    events, outbox = events_and_outbox
    staying, leaving = Collector(), Collector()
    events.subscribe(staying)
    unsubscribe = events.subscribe(leaving)
    [leaving_name] = set(events.open_subscriptions()) - {events.subscription}
    outbox.publish(ev.Progress("before"))
    leaving.wait_for(["before"])
    unsubscribe()
    unsubscribe()  # twice is harmless
    assert event_subscriptions(subscriber, names) == [events.subscription]
    with pytest.raises(gexc.NotFound):
        subscriber.get_subscription(subscription=leaving_name)
    outbox.publish(ev.Progress("after"))
    staying.wait_for(["before", "after"])
    time.sleep(0.3)
    assert leaving.got == ["before"]


def test_a_subscriber_that_raises_does_not_stop_the_others(events_and_outbox):
    events, outbox = events_and_outbox
    calls, healthy = [], Collector()

    def failing(event):
        calls.append(event.instance_id)
        raise RuntimeError("subscriber bug")

    events.subscribe(failing)
    events.subscribe(healthy)
    for instance_id in ("x", "y"):
        outbox.publish(ev.Progress(instance_id))
    healthy.wait_for(["x", "y"])
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:  # its own stream goes on too
        time.sleep(0.02)
    assert sorted(calls) == ["x", "y"]


def test_close_deletes_every_subscription_still_open(names, raw):
    _, subscriber = raw
    events = PubSubEventBus(names.project, names.prefix)
    for _ in range(3):
        events.subscribe(Collector())
    assert len(event_subscriptions(subscriber, names)) == 3
    events.close()
    assert event_subscriptions(subscriber, names) == []
    assert events.subscribe(Collector())() is None  # subscribing after close is a no-op


def test_a_named_subscription_serves_the_first_subscriber_and_outlives_the_bus(names, raw):
    _, subscriber = raw
    events = PubSubEventBus(names.project, names.prefix, subscription_name=f"{names.prefix}projection")
    events.subscribe(Collector())
    events.subscribe(Collector())
    shared = names.events_subscription(f"{names.prefix}projection")
    assert shared in events.open_subscriptions() and len(events.open_subscriptions()) == 2
    events.close()
    subscriber.get_subscription(subscription=shared)  # still there for the other control planes
    assert event_subscriptions(subscriber, names) == []


def test_receive_and_publish_never_wait_for_pubsub(project, prefix):
    # Each would be a round trip of milliseconds if it waited: thousands of them, seconds.
    inbox = PubSubCommandInbox(project, "busy", prefix=prefix)
    start = time.perf_counter()
    for _ in range(10_000):
        assert inbox.receive(0) == []
    assert time.perf_counter() - start < 0.1
    outbox = PubSubEventOutbox(project, prefix)
    start = time.perf_counter()
    for step in range(2000):
        outbox.publish(ev.Progress("busy", step=step))
    assert time.perf_counter() - start < 1.0
    outbox.close()
    inbox.close()
    assert outbox.failed == 0 and outbox.dropped == 0
    outbox.publish(ev.Progress("busy"))  # after close: counted, not raised
    assert outbox.dropped == 1


def test_missing_emulator_and_credentials_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="PUBSUB_EMULATOR_HOST.*GOOGLE_APPLICATION_CREDENTIALS"):
        PubSubCommandBus("some-project")


def test_a_bad_prefix_is_a_config_error():
    with pytest.raises(ConfigError, match="prefix"):
        PubSubNames("some-project", "1-")
