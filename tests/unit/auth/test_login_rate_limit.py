"""Failed sign-ins are limited per account and per address, with a time to wait."""

from __future__ import annotations

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
