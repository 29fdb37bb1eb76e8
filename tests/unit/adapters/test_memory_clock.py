"""FakeClock moves only when advanced, wakes sleepers past their deadline, and the system clock is real."""

from __future__ import annotations

import threading
import time

import pytest

from ainimal_zookeeper.adapters.memory import FakeClock
from ainimal_zookeeper.ports.clock import SYSTEM_CLOCK


def test_time_stands_still_until_advanced_and_both_clocks_move_together():
    clock = FakeClock(start=100.0, monotonic_start=5.0)
    assert (clock.time(), clock.monotonic()) == (100.0, 5.0)
    clock.advance(2.5)
    assert (clock.time(), clock.monotonic()) == (102.5, 7.5)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_a_sleeper_wakes_only_once_its_whole_delay_has_passed():
    clock = FakeClock()
    woke = threading.Event()
    sleeper = threading.Thread(target=lambda: (clock.sleep(10.0), woke.set()))
    sleeper.start()
    clock.wait_for_sleepers(1)
    clock.advance(9.0)
    assert not woke.wait(0.05)
    clock.advance(1.0)
    assert woke.wait(10)
    sleeper.join(10)
    assert clock.sleepers == 0


def test_a_wait_returns_at_once_when_its_event_is_set_whatever_the_clock_says():
    clock = FakeClock()
    event = threading.Event()
    results: list[bool] = []
    waiter = threading.Thread(target=lambda: results.append(clock.wait(event, 3600.0)))
    waiter.start()
    clock.wait_for_sleepers(1)
    event.set()
    waiter.join(10)
    assert results == [True]


def test_autoadvance_lets_a_single_thread_sleep_through_many_periods():
    clock = FakeClock(autoadvance=True)
    began = clock.monotonic()
    for _ in range(100):
        clock.sleep(60.0)
    assert clock.monotonic() - began == 6000.0
    assert clock.wait(threading.Event(), 1.0) is False


def test_the_system_clock_reads_and_waits_on_real_time():
    before = time.time()
    assert before <= SYSTEM_CLOCK.time() <= time.time()
    began = time.monotonic()
    assert SYSTEM_CLOCK.wait(threading.Event(), 0.01) is False
    assert time.monotonic() - began >= 0.01


def test_a_loop_that_waits_each_period_is_driven_period_by_period():
    clock = FakeClock()
    stop = threading.Event()
    ticks: list[float] = []

    def loop() -> None:
        while not clock.wait(stop, 5.0):
            ticks.append(clock.monotonic())

    runner = threading.Thread(target=loop)
    runner.start()
    clock.wait_for_sleepers(1)
    for _ in range(10):
        clock.advance(5.0)
        clock.wait_for_sleepers(1)  # back waiting: this period's work is done
    stop.set()
    runner.join(10)
    assert ticks == [1000.0 + 5.0 * n for n in range(1, 11)]
