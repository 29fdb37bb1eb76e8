"""Pub/Sub events signed per worker: an event about instance X counts only if X's key signed it.

The Pub/Sub emulator (and a topic's publish permission, which every worker shares) cannot tell
workers apart, so each worker gets a key of its own in its spec: HMAC-SHA256 of its instance id
under the control plane's `gcp.bus_signing_secret`. It signs each event's bytes with it
(attribute `signature`); the control plane derives the key of the instance the event names and
checks the signature, so no stored per-instance state is needed and every control-plane
instance (each Cloud Function instance) agrees.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_ATTRIBUTE = "signature"


def worker_key(secret: str, instance_id: str) -> str:
    """The signing key of `instance_id`'s worker (hex), derived from the control plane's secret."""
    return hmac.new(secret.encode(), b"zk-bus-event:" + instance_id.encode(), hashlib.sha256).hexdigest()


def sign(key: str, data: bytes) -> str:
    """The `signature` attribute of an event's bytes under a worker's key."""
    return hmac.new(bytes.fromhex(key), data, hashlib.sha256).hexdigest()


def signed_by(secret: str, instance_id: str, data: bytes, signature: str) -> bool:
    """Whether `signature` over `data` was made with `instance_id`'s worker key."""
    return hmac.compare_digest(sign(worker_key(secret, instance_id), data), signature)
