"""Pub/Sub messages signed per instance: an event about instance X counts only if X's key signed
it, and X's worker applies a command only if it was signed with X's key.

The Pub/Sub emulator (and a topic's publish permission, which every worker shares) cannot tell
workers apart, so each worker gets a key of its own in its spec: HMAC-SHA256 of its instance id
under the control plane's `gcp.bus_signing_secret`. It signs each event's bytes with it
(attribute `signature`); the control plane derives the key of the instance the event names and
checks the signature, so no stored per-instance state is needed and every control-plane
instance (each Cloud Function instance) agrees.

Commands go the other way under the same key, with their own prefix in what is signed (so a
signed event's bytes can never pass as a command): the control plane signs each command with
the key of the instance it is for, and that instance's worker checks it. A worker running
hostile model code knows its own key only, so it can neither speak for another instance nor
command one (pause it, take it over, make it checkpoint or stop).

A signed command also carries when it was sent, inside its signature, and a worker refuses one
older than its inbox's `max_command_age`: a command copied off the bus cannot be sent again
later (to a restarted worker, which no longer remembers the ids it applied, say), and a command
that waited in a subscription past any request's patience is not applied by surprise.
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


#: What a command's signature covers before its bytes: commands and events never share one.
_COMMAND_CONTEXT = b"zk-bus-command\0"
#: The attribute holding when the control plane sent a command (Unix seconds), inside its signature.
SENT_AT_ATTRIBUTE = "sent_at"


def sign_command(key: str, data: bytes, sent_at: str) -> str:
    """The `signature` attribute of a command's bytes, sent at `sent_at` (its attribute's text),
    under the key of the instance it is for."""
    return sign(key, _COMMAND_CONTEXT + sent_at.encode() + b"\0" + data)


def command_signed_with(key: str, data: bytes, sent_at: str, signature: str) -> bool:
    """Whether `signature` over a command's `data` and `sent_at` was made with `key` (the receiving worker's)."""
    return hmac.compare_digest(sign_command(key, data, sent_at), signature)
