"""On Pub/Sub (the emulator), an event about instance X counts only if X's worker key signed it."""

from __future__ import annotations

import os
import threading
import time
import uuid

from ainimal_zookeeper.adapters.gcp.event_signing import worker_key
from ainimal_zookeeper.adapters.gcp.pubsub_events import PubSubEventBus, PubSubEventOutbox
from ainimal_zookeeper.domain import events as ev

SECRET = "test-bus-signing-secret"


def test_unsigned_and_other_instances_events_are_dropped_and_signed_ones_count(pubsub_emulator):
    project, prefix = os.environ["GOOGLE_CLOUD_PROJECT"], f"zk-{uuid.uuid4().hex[:10]}-"
    bus = PubSubEventBus(project, prefix, signing_secret=SECRET)
    seen: list[ev.Event] = []
    arrived = threading.Event()
    bus.subscribe(lambda e: (seen.append(e), e.kind == "Progress" and arrived.set()))
    unsigned = PubSubEventOutbox(project, prefix)
    mine = PubSubEventOutbox(project, prefix, signing_key=worker_key(SECRET, "mine"))
    wrong_key = PubSubEventOutbox(project, prefix, signing_key=worker_key("another secret", "victim"))
    try:
        unsigned.publish(ev.InstanceFailed("victim", error="forged, unsigned"))
        wrong_key.publish(ev.InstanceFailed("victim", error="forged, signed with a guessed key"))
        mine.publish(ev.InstanceFailed("victim", error="forged by another worker"))
        mine.publish(
            ev.CheckpointSaved("mine", checkpoint_id="c", blob_key="checkpoints/by-instance/victim/sha256/x.json")
        )
        mine.publish(ev.Progress("mine", step=1))
        assert arrived.wait(30)
        deadline = time.monotonic() + 30
        while sum(s.refused for s in bus._streams.values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(s.refused for s in bus._streams.values()) == 4
        assert [(e.kind, e.instance_id) for e in seen] == [("Progress", "mine")]
    finally:
        for outbox in (unsigned, mine, wrong_key):
            outbox.close()
        bus.close()


def test_a_worker_applies_only_commands_the_control_plane_signed_for_its_instance_lately(pubsub_emulator):
    """What a worker running hostile model code could send to another instance (it holds its own
    key and the topics' publish permission, and may have copied the victim's signed commands
    off the bus) goes to the dead-letter topic, unapplied."""
    from google.api_core import exceptions as gexc
    from google.cloud import pubsub_v1

    from ainimal_zookeeper import wire
    from ainimal_zookeeper.adapters.gcp.event_signing import (
        SENT_AT_ATTRIBUTE,
        SIGNATURE_ATTRIBUTE,
        sign,
        sign_command,
    )
    from ainimal_zookeeper.adapters.gcp.pubsub_bus import PubSubNames
    from ainimal_zookeeper.adapters.gcp.pubsub_commands import PubSubCommandBus, PubSubCommandInbox
    from ainimal_zookeeper.domain import commands as cmd

    project, prefix = os.environ["GOOGLE_CLOUD_PROJECT"], f"zk-{uuid.uuid4().hex[:10]}-"
    names = PubSubNames(project, prefix)
    victim_key, attacker_key = worker_key(SECRET, "victim"), worker_key(SECRET, "attacker")
    bus = PubSubCommandBus(project, prefix, signing_secret=SECRET)
    # A control plane whose commands were signed 301 s ago: what a replay of a copied command is.
    past_bus = PubSubCommandBus(project, prefix, signing_secret=SECRET, clock=lambda: time.time() - 301)
    unsigned_bus = PubSubCommandBus(project, prefix)
    inbox = PubSubCommandInbox(project, "victim", prefix=prefix, signing_key=victim_key, max_command_age=300)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    watch = subscriber.subscription_path(project, f"{prefix}watch-dead-letters")
    subscriber.create_subscription(name=watch, topic=names.dead_letter_topic())
    try:
        topic = names.commands_topic("victim")
        data = wire.dumps(cmd.Terminate("victim").to_dict())
        now, then = f"{time.time():.3f}", f"{time.time() - 301:.3f}"
        forged = {
            "another instance's key": (now, sign_command(attacker_key, data, now)),
            "an event's signature": (now, sign(victim_key, data)),  # the victim's own key, signing an event's way
            "a made-up signature": (now, "00" * 32),
            "an old signature given a new time": (now, sign_command(victim_key, data, then)),
        }
        for reason, (sent_at, signature) in forged.items():
            attributes = {SENT_AT_ATTRIBUTE: sent_at, SIGNATURE_ATTRIBUTE: signature}
            publisher.publish(topic, data, reason=reason, **attributes).result()
        unsigned_bus.send(cmd.Terminate("victim"))  # a control plane without the secret
        past_bus.send(cmd.Terminate("victim"))  # signed, for this instance, but past its time
        signed = cmd.Resume("victim")
        bus.send(signed)
        got: list = []
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            got += inbox.receive(0.05)
        assert [c.command_id for c in got] == [signed.command_id]
        dead: list = []
        deadline = time.monotonic() + 20
        while len(dead) < 6 and time.monotonic() < deadline:
            try:
                dead += subscriber.pull(subscription=watch, max_messages=10, timeout=1, retry=None).received_messages
            except gexc.DeadlineExceeded:
                continue
        assert len(dead) == 6
        errors = sorted(m.message.attributes["dead_letter_error"] for m in dead)
        assert errors[:5] == ["not signed by the control plane for this instance"] * 5
        assert errors[5].startswith("sent 301 s ago, more than the 300 s a command is valid for")
        time.sleep(0.5)
        assert inbox.receive(0.2) == []  # none of them was applied later either
    finally:
        inbox.close()
        bus.close()
        past_bus.close()
        unsigned_bus.close()
