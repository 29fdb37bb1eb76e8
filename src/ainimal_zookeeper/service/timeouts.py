"""How long requests wait for workers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timeouts:
    """How long a request waits for a worker to confirm, in seconds."""

    launch: float = 5.0
    command: float = 5.0
    checkpoint: float = 120.0
    terminate_grace: float = 5.0
