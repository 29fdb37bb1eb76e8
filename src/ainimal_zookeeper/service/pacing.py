"""Pacing, budgets and checkpoint schedules as the API takes them: validated before any work.

The worker keeps the beat and counts the budgets (worker/pacing.py, worker/budgets.py); here
the inputs are checked and the older scheduled checkpoint documents are let go.
"""

from __future__ import annotations

import math
from typing import Any

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.ports.documents import DocumentStore
from ainimal_zookeeper.service.records import CHECKPOINTS

#: Most steps a second a pace may ask for: beyond this no pacing is needed (null: flat out).
MAX_PACE = 100_000.0
#: Largest budget / schedule values (a year of seconds; 10^12 steps): bounded, not a limit anyone meets.
MAX_SECONDS = 365 * 24 * 3600.0
MAX_COUNT = 10**12
#: Most scheduled checkpoints one instance keeps.
MAX_KEEP = 1000


def validate_pace(pace: Any, realtime: Any) -> tuple[float | None, bool]:
    """(pace, realtime) checked; `realtime` and a `pace` together are refused (which one wins?)."""
    realtime = bool(realtime)
    if pace is None:
        return None, realtime
    if realtime:
        raise InvalidInput(
            f"pace expects either a number or realtime: true, got both (pace {pace!r} and realtime); leave one out"
        )
    if isinstance(pace, bool) or not isinstance(pace, (int, float)):
        raise InvalidInput(f"pace expects a number of steps per second, got {type(pace).__name__}")
    value = float(pace)
    if not math.isfinite(value) or value <= 0 or value > MAX_PACE:
        raise InvalidInput(
            f"pace expects steps per second above 0 and at most {MAX_PACE:g}, got {pace!r}; "
            "use null for as fast as it goes"
        )
    return value, False


def validate_budget(budget: dict[str, Any] | None) -> dict[str, Any] | None:
    """`stopAfter: {steps, episodes, seconds}` checked; None when nothing is set."""
    if not budget:
        return None
    out = {
        "steps": _count(budget.get("steps"), "stopAfter.steps"),
        "episodes": _count(budget.get("episodes"), "stopAfter.episodes"),
        "seconds": _seconds(budget.get("seconds"), "stopAfter.seconds"),
    }
    out = {key: value for key, value in out.items() if value is not None}
    return out or None


def validate_schedule(schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    """`checkpointEvery: {steps, seconds, keep}` checked; None when nothing is set."""
    if not schedule:
        return None
    steps = _count(schedule.get("steps"), "checkpointEvery.steps")
    seconds = _seconds(schedule.get("seconds"), "checkpointEvery.seconds")
    keep = schedule.get("keep")
    if steps is None and seconds is None:
        raise InvalidInput("checkpointEvery expects steps or seconds (or both), got neither")
    if keep is None:
        keep = 5
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= MAX_KEEP:
        raise InvalidInput(f"checkpointEvery.keep expects a whole number from 1 to {MAX_KEEP}, got {keep!r}")
    out: dict[str, Any] = {"keep": keep}
    if steps is not None:
        out["steps"] = steps
    if seconds is not None:
        out["seconds"] = seconds
    return out


def prune_scheduled(documents: DocumentStore, instance_id: str, keep: int) -> list[str]:
    """Delete an instance's scheduled checkpoint documents but the newest `keep`; returns the ids gone.

    Manual checkpoints are untouched. The content-addressed blobs stay (another checkpoint may
    share them); only the documents go.
    """
    scheduled = [
        doc
        for doc in documents.find(CHECKPOINTS, [("instance", "==", instance_id)])
        if doc.get("scheduled") and doc.get("scheduledSeq") is not None
    ]
    scheduled.sort(key=lambda doc: doc["scheduledSeq"])
    gone = [doc["id"] for doc in scheduled[: max(0, len(scheduled) - keep)]]
    for checkpoint_id in gone:
        documents.delete(CHECKPOINTS, checkpoint_id)
    return gone


def _count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise InvalidInput(f"{name} expects a whole number from 1 to {MAX_COUNT}, got {value!r}; leave it out for none")
    return value


def _seconds(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} expects a number of seconds, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number > MAX_SECONDS:
        raise InvalidInput(f"{name} expects seconds above 0 and at most {MAX_SECONDS:g}, got {value!r}")
    return number
