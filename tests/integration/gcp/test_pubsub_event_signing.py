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
