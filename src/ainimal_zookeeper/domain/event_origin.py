"""Which events a worker may send: only about its own instance and its own checkpoint keys.

A worker runs someone's model code, so what it says is trusted only about itself. The buses
tell who sent an event (the ZeroMQ CURVE key's instance, the Pub/Sub signature's key); this
module says whether that sender may say it.
"""

from __future__ import annotations

from ainimal_zookeeper.domain.events import CheckpointSaved, Event

#: Checkpoint manifests are stored under their instance's prefix, so a key names its writer.
_CHECKPOINTS = "checkpoints/by-instance"


def checkpoint_prefix(instance_id: str) -> str:
    """Where `instance_id`'s worker stores its checkpoint manifests (ends with '/')."""
    return f"{_CHECKPOINTS}/{instance_id}/"


def refusal(sender: str, event: Event) -> str | None:
    """Why `sender` (an instance id) may not send `event`, or None when it may."""
    if event.instance_id != sender:
        return f"instance {sender}'s worker sent an event about instance {event.instance_id}"
    if isinstance(event, CheckpointSaved) and not event.blob_key.startswith(checkpoint_prefix(sender)):
        return f"instance {sender}'s worker named checkpoint key {event.blob_key[:120]!r}, not one of its own"
    return None
