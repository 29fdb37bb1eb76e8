"""Pace, budget and schedule inputs are checked before any work; old scheduled checkpoints go."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.service import pacing


def test_a_pace_is_a_positive_bounded_number_or_realtime_but_not_both():
    assert pacing.validate_pace(20, None) == (20.0, False)
    assert pacing.validate_pace(None, True) == (None, True)
    assert pacing.validate_pace(None, None) == (None, False)
    for bad in (0, -1, float("nan"), float("inf"), 100_001):
        with pytest.raises(InvalidInput, match="pace expects steps per second above 0"):
            pacing.validate_pace(bad, False)
    with pytest.raises(InvalidInput, match="got str"):
        pacing.validate_pace("fast", False)
    with pytest.raises(InvalidInput, match="either a number or realtime"):
        pacing.validate_pace(20, True)


def test_budgets_and_schedules_refuse_zero_negative_and_keep_below_one():
    assert pacing.validate_budget({"steps": 10, "episodes": None, "seconds": 1}) == {"steps": 10, "seconds": 1.0}
    assert pacing.validate_budget({}) is None and pacing.validate_budget(None) is None
    with pytest.raises(InvalidInput, match="stopAfter.steps expects a whole number from 1"):
        pacing.validate_budget({"steps": 0})
    with pytest.raises(InvalidInput, match="stopAfter.seconds expects seconds above 0"):
        pacing.validate_budget({"seconds": -2})
    assert pacing.validate_schedule({"steps": 100}) == {"steps": 100, "keep": 5}
    with pytest.raises(InvalidInput, match="keep expects a whole number from 1"):
        pacing.validate_schedule({"steps": 100, "keep": 0})
    with pytest.raises(InvalidInput, match="steps or seconds"):
        pacing.validate_schedule({"keep": 2})
    with pytest.raises(InvalidInput, match="checkpointEvery.seconds"):
        pacing.validate_schedule({"seconds": float("nan")})


def test_only_the_newest_scheduled_checkpoints_are_kept_and_manual_ones_stay(tmp_path):
    store = SqliteDocumentStore(tmp_path / "state.db")
    try:
        store.put("checkpoints", "manual", {"id": "manual", "instance": "i", "scheduled": False})
        store.put("checkpoints", "other", {"id": "other", "instance": "j", "scheduled": True, "scheduledSeq": 0.5})
        for n in range(1, 6):
            store.put("checkpoints", f"s{n}", {"id": f"s{n}", "instance": "i", "scheduled": True, "scheduledSeq": n})
            pacing.prune_scheduled(store, "i", keep=2)
        left = sorted(doc["id"] for doc in store.find("checkpoints"))
        assert left == ["manual", "other", "s4", "s5"]
    finally:
        store.close()
