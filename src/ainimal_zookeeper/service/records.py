"""Collection names and document helpers shared by the service and its projection."""

from __future__ import annotations

from datetime import UTC, datetime

INSTANCES = "instances"
CHECKPOINTS = "checkpoints"
COMMANDS = "commands"


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string (the API's DateTime)."""
    return datetime.now(UTC).isoformat()


OVERRIDES = "overrides"
RECORDINGS = "recordings"
REPLAYS = "replays"
