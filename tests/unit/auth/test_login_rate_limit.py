"""Failed sign-ins are limited per account and per address, with a time to wait."""

from __future__ import annotations

import threading

import pytest

from ainimal_zookeeper.auth.rate_limit import LoginLimiter, LoginRateLimited, SlidingWindow
from ainimal_zookeeper.errors import LimitReached


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_an_account_is_limited_after_its_failures_whatever_the_address(clock):
    limiter = LoginLimiter(per_account=3, per_address=100, window=60, clock=clock)
    for i in range(3):
        limiter.check("alice", f"10.0.0.{i}")
        limiter.failed("alice", f"10.0.0.{i}")
    with pytest.raises(LoginRateLimited, match="for this account") as caught:
        limiter.check("Alice", "10.0.0.99")
    assert caught.value.retry_after == 60 and isinstance(caught.value, LimitReached)
    limiter.check("bob", "10.0.0.99")


def test_an_address_is_limited_across_accounts(clock):
    limiter = LoginLimiter(per_account=100, per_address=3, window=60, clock=clock)
    for name in ("a", "b", "c"):
        limiter.failed(name, "192.0.2.1")
    with pytest.raises(LoginRateLimited, match="from your address"):
        limiter.check("d", "192.0.2.1")
    limiter.check("d", "192.0.2.2")


def test_the_window_slides(clock):
    limiter = LoginLimiter(per_account=2, per_address=100, window=60, clock=clock)
    limiter.failed("alice", None)
    clock.now += 30
    limiter.failed("alice", None)
    with pytest.raises(LoginRateLimited) as caught:
        limiter.check("alice", None)
    assert caught.value.retry_after == 30
    clock.now += 30.5
    limiter.check("alice", None)


def test_a_success_clears_the_account_but_not_the_address(clock):
    limiter = LoginLimiter(per_account=2, per_address=2, window=60, clock=clock)
    limiter.failed("alice", "192.0.2.1")
    limiter.succeeded("alice")
    limiter.failed("alice", "192.0.2.9")
    limiter.check("alice", "192.0.2.9")
    limiter.failed("bob", "192.0.2.1")
    with pytest.raises(LoginRateLimited, match="address"):
        limiter.check("carol", "192.0.2.1")


def test_memory_stays_bounded_under_many_keys(clock):
    window = SlidingWindow(limit=1, window=60, clock=clock, max_keys=100)
    for i in range(1000):
        window.hit(f"user{i}")
    assert len(window._events) == 100


def test_concurrent_reservations_never_overshoot_the_limit(clock):
    limiter = LoginLimiter(per_account=7, per_address=1000, window=60, clock=clock)
    barrier = threading.Barrier(40)
    outcomes: list[str] = []

    def attempt(i):
        barrier.wait()
        try:
            limiter.reserve("victim", f"10.0.0.{i}")
            outcomes.append("tried")
        except LoginRateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("tried") == 7 and outcomes.count("refused") == 33


def test_look_alike_spellings_of_a_name_share_one_account_limit(clock):
    limiter = LoginLimiter(per_account=2, per_address=100, window=60, clock=clock)
    limiter.reserve("victim", "192.0.2.1")
    limiter.reserve(" VICTIM ", "192.0.2.2")
    for spelling in ("\uff56\uff49\uff43\uff54\uff49\uff4d", "Victim", "\u24e5ictim".replace("\u24e5", "v")):
        with pytest.raises(LoginRateLimited):
            limiter.reserve(spelling, "192.0.2.3")


def test_a_right_password_gives_back_the_address_slot_it_reserved_and_clears_the_account(clock):
    limiter = LoginLimiter(per_account=2, per_address=2, window=60, clock=clock)
    limiter.reserve("alice", "192.0.2.1")
    limiter.reserve("alice", "192.0.2.1")
    limiter.succeeded("alice", "192.0.2.1")
    limiter.reserve("bob", "192.0.2.1")  # one address slot back, and alice's failures cleared
    limiter.reserve("alice", "192.0.2.9")
    with pytest.raises(LoginRateLimited, match="your address"):
        limiter.reserve("carol", "192.0.2.1")


def test_a_refused_reservation_counts_nothing_and_the_window_reopens_after_it_passes(clock):
    window = SlidingWindow(2, 60, clock)
    assert window.try_hit("k") == 0 and window.try_hit("k") == 0
    for _ in range(5):
        assert window.try_hit("k") == pytest.approx(60)
    clock.now += 30
    assert window.try_hit("k") == pytest.approx(30)
    clock.now += 31  # past the window: both earlier events expired, the refused ones never counted
    assert window.try_hit("k") == 0 and window.try_hit("k") == 0 and window.try_hit("k") > 0
