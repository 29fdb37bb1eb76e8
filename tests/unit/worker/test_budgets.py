"""Budgets and the checkpoint schedule on a controllable clock, past several periods."""

from __future__ import annotations

from ainimal_zookeeper.worker.budgets import NO_LIMIT, Budgets, CheckpointSchedule


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_budget_never_stops_and_costs_one_int_compare():
    budgets = Budgets(None, 0, 0, clock=Clock())
    assert not budgets.any and budgets.step_limit == NO_LIMIT
    assert budgets.spent(10**9, 10**6) is None


def test_each_budget_ends_the_run_with_its_reason():
    clock = Clock()
    assert Budgets({"steps": 100}, 50, 0, clock).spent(149, 0) is None
    assert Budgets({"steps": 100}, 50, 0, clock).spent(150, 0) == "budget: 100 steps"
    assert Budgets({"episodes": 3}, 0, 2, clock).spent(0, 5) == "budget: 3 episodes"
    seconds = Budgets({"seconds": 1.5}, 0, 0, clock)
    clock.now += 1.4
    assert seconds.spent(0, 0) is None
    clock.now += 0.1
    assert seconds.spent(0, 0) == "budget: 1.5 seconds"


def test_a_restore_keeps_what_is_left_of_the_budget():
    budgets = Budgets({"steps": 100, "episodes": 10}, 0, 0, clock=Clock())
    budgets.moved(old_step=60, new_step=20, old_episode=4, new_episode=1)  # 40 steps, 6 episodes left
    assert budgets.spent(59, 6) is None
    assert budgets.spent(20, 7) == "budget: 10 episodes"
    assert budgets.spent(60, 1) == "budget: 100 steps"


def test_scheduled_checkpoints_fall_due_every_period_with_a_scheduled_tag():
    clock = Clock()
    schedule = CheckpointSchedule({"steps": 100, "keep": 2}, 0, clock, min_interval=0.0)
    assert schedule.due(99) is None
    saves = []
    for period in range(1, 6):
        clock.now += 1
        due = schedule.due(period * 100)
        assert due is not None
        saves.append(due)
    assert [s.tag for s in saves] == [f"scheduled@{n * 100}" for n in range(1, 6)]
    assert all(s.keep == 2 for s in saves)


def test_a_time_schedule_is_due_each_period_and_never_more_often_than_the_floor():
    clock = Clock()
    schedule = CheckpointSchedule({"seconds": 2.0, "keep": 1}, 0, clock, min_interval=0.5)
    clock.now += 1.9
    assert schedule.due(5) is None
    clock.now += 0.1
    assert schedule.due(6) is not None and schedule.due(6) is None
    clock.now += 4.0  # two periods passed while busy: one save now, not two
    assert schedule.due(7) is not None and schedule.due(7) is None
    fast = CheckpointSchedule({"steps": 1, "keep": 1}, 0, clock, min_interval=0.5)
    assert fast.due(1) is not None and fast.due(2) is None  # the floor holds a schedule of every step
    clock.now += 0.5
    assert fast.due(3) is not None
