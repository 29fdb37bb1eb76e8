"""Takeover leases in the worker: control goes back to the AInimal when its person goes (fake clocks)."""

from __future__ import annotations

from ainimal_zookeeper.domain.commands import SetOverride
from ainimal_zookeeper.worker.interventions import DEFAULT_TIMEOUT_SECONDS, Interventions

DISCRETE = {"action": {"kind": "discrete", "n": 3, "start": 0}}
BOX = {"observation": {"kind": "box", "shape": [2], "dtype": "float32", "low": [-1.0, -1.0], "high": [1.0, 1.0]}}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def takeover(flavour: str, hold: float | None = 2.0, timeout: float = 3.0, by: str | None = "alice") -> SetOverride:
    return SetOverride(
        "i",
        override_id="t1",
        target="outputs/action",
        value=None,
        takeover=flavour,
        hold_seconds=hold,
        timeout_seconds=timeout,
        set_by=by,
    )


def interventions(clock: Clock, wall: Clock | None = None, max_age: float = 1.0) -> Interventions:
    return Interventions(BOX, DISCRETE, {}, clock=clock, wall_clock=wall or Clock(), max_input_age_seconds=max_age)


def test_an_abandoned_realtime_takeover_is_released_after_its_hold():
    clock = Clock()
    found = interventions(clock)
    found.set(takeover("realtime"))
    clock.now += 1.9
    assert found.expire() == [] and found.active
    clock.now += 0.2
    assert found.expire() == [("t1", "outputs/action", "alice")]
    assert not found.active and found.apply_outputs({"action": 0}, []) == {"action": 0}
    assert found.expire() == []  # once


def test_renewals_keep_a_takeover_across_many_hold_periods_and_acts_count_as_renewals():
    clock, wall = Clock(), Clock()
    found = interventions(clock, wall)
    found.set(takeover("realtime"))
    for period in range(10):  # ten hold periods, renewed every 1.5 s
        clock.now += 1.5
        wall.now += 1.5
        assert found.expire() == []
        if period % 2:
            assert found.renew("t1")
        else:
            assert found.act("outputs/action", 2, sent_at=wall.now)
    clock.now += 2.1
    assert [e[0] for e in found.expire()] == ["t1"]
    assert not found.renew("t1")  # gone: a renewal of an ended takeover says so


def test_an_abandoned_lockstep_takeover_stops_waiting_and_says_who_it_waited_for():
    clock = Clock()
    found = interventions(clock)
    found.set(takeover("lockstep", by="bob"))
    assert found.waiting_for() == "lockstep takeover by bob"
    assert found.lockstep_waiting() is not None
    clock.now += 2.5
    found.expire()
    assert found.lockstep_waiting() is None and found.waiting_for() is None


def test_a_lockstep_step_never_waits_forever_even_without_a_timeout():
    found = interventions(Clock())
    found.set(takeover("lockstep", timeout=float("inf")))
    waiting = found.lockstep_waiting()
    assert waiting is not None and waiting.timeout == DEFAULT_TIMEOUT_SECONDS
    found.set(takeover("lockstep", timeout=0.25))
    waiting = found.lockstep_waiting()
    assert waiting is not None and waiting.timeout == 0.25


def test_actions_older_than_the_bound_are_dropped_and_counted_and_do_not_renew():
    clock, wall = Clock(), Clock()
    found = interventions(clock, wall, max_age=1.0)
    found.set(takeover("lockstep"))
    assert not found.act("outputs/action", 2, sent_at=wall.now - 1.5)
    assert found.dropped_inputs == 1 and found.lockstep_waiting() is not None  # not applied late
    clock.now += 1.0
    assert found.act("outputs/action", 1, sent_at=wall.now - 0.5)
    assert found.lockstep_waiting() is None
    assert found.apply_outputs({"action": 0}, [])["action"] == 1
    clock.now += 1.5  # 2.5 s after set, 1.5 s after the fresh action: still held
    assert found.expire() == []


def test_clear_all_ends_every_override_and_takeover():
    found = interventions(Clock())
    found.set(takeover("realtime"))
    found.set(SetOverride("i", override_id="o2", target="inputs/observation", value=[0.0, 0.0], mode="set"))
    assert sorted(found.clear_all()) == [("o2", "inputs/observation"), ("t1", "outputs/action")]
    assert not found.active


def test_an_anonymous_takeover_is_held_by_anonymous():
    found = interventions(Clock())
    found.set(takeover("lockstep", by=None))
    assert found.waiting_for() == "lockstep takeover by anonymous"
