"""Pacing on a controllable clock: a steady beat, no drift, no bursts, realtime during takeovers."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.domain.commands import SetOverride
from ainimal_zookeeper.worker.interventions import Interventions
from ainimal_zookeeper.worker.pacing import DEFAULT_REALTIME_FPS, Pacer, RateMeter, realtime_pace


class Env:
    def __init__(self, metadata):
        self.metadata = metadata


def run(pacer: Pacer, start: float, steps: int, step_cost: float) -> list[float]:
    """Step `steps` times on a simulated clock; each step takes `step_cost`; returns start times."""
    now, starts = start, []
    while len(starts) < steps:
        wait = pacer.wait(now)
        if wait > 0:
            now += wait  # the worker sleeps in the inbox until the deadline
            continue
        pacer.started(now)
        starts.append(now)
        now += step_cost
    return starts


def test_a_paced_worker_keeps_its_beat_without_drift_whatever_its_steps_cost():
    pacer = Pacer()
    pacer.choose(20.0, realtime=False)
    assert pacer.update(takeover=False) == 20.0
    starts = run(pacer, 100.0, 201, step_cost=0.013)
    assert starts[-1] == pytest.approx(100.0 + 200 * 0.05)  # 200 periods later, not 200 * (period + cost)
    assert pacer.late == 0 and pacer.on_time_fraction() == 1.0


def test_a_late_step_starts_a_fresh_beat_instead_of_bursting_to_catch_up():
    pacer = Pacer()
    pacer.choose(10.0, realtime=False)
    pacer.update(takeover=False)
    run(pacer, 0.0, 3, step_cost=0.0)  # steps at 0.0, 0.1, 0.2; the next is due at 0.3
    pacer.started(5.0)  # a stall of seconds (a slow step, a wait for a person)
    assert pacer.late == 47  # the beats from 0.3 to 4.9 missed their deadline; this one serves 5.0
    assert pacer.due == 4 + 47 and pacer.on_time_fraction() == pytest.approx(4 / 51)
    assert pacer.wait(5.0) == pytest.approx(0.1)  # the next is a period later, not at once
    pacer.rest()  # paused: the next step starts a new beat at once, then keeps the period
    assert pacer.wait(9.0) == 0.0
    pacer.started(9.0)
    assert pacer.wait(9.0) == pytest.approx(0.1) and pacer.late == 47  # a pause is not lateness


def test_an_unpaced_instance_never_waits_and_none_means_as_fast_as_it_goes():
    pacer = Pacer()
    assert pacer.update(takeover=False) is None
    pacer.choose(50.0, realtime=False)
    assert pacer.update(takeover=False) == 50.0
    pacer.choose(None, realtime=False)
    assert pacer.update(takeover=False) is None


def test_realtime_is_the_envs_render_fps_or_fifty():
    assert realtime_pace(Env({"render_fps": 30})) == 30.0
    assert realtime_pace(Env({})) == DEFAULT_REALTIME_FPS == 50.0
    assert realtime_pace(Env({"render_fps": float("nan")})) == 50.0
    assert realtime_pace(Env({"render_fps": True})) == 50.0
    assert realtime_pace(object()) == 50.0
    pacer = Pacer()
    pacer.configure(realtime_pace(Env({"render_fps": 30})))
    pacer.choose(None, realtime=True)
    assert pacer.update(takeover=False) == 30.0


def test_a_takeover_runs_at_realtime_unless_someone_chose_a_pace():
    interventions = Interventions({}, {"action": {"kind": "discrete", "n": 2, "start": 0}}, {})
    pacer = Pacer()
    pacer.configure(30.0)
    assert pacer.update(interventions.takeover_active) is None
    interventions.set(
        SetOverride("i", override_id="t", target="outputs/action", value=1, mode="set", takeover="realtime")
    )
    assert interventions.takeover_active
    assert pacer.update(interventions.takeover_active) == 30.0  # a person drives: realtime
    pacer.choose(5.0, realtime=False)
    assert pacer.update(interventions.takeover_active) == 5.0  # a chosen pace wins
    interventions.clear("t")
    pacer.choose(None, realtime=False)
    assert pacer.update(interventions.takeover_active) is None  # released: flat out again


def test_the_rate_meter_reads_steady_over_its_window_and_restarts_when_the_count_goes_back():
    meter = RateMeter(window=2.0)
    assert meter.mark(0.0, 0) is None
    rates = [meter.mark(t * 0.25, t * 5) for t in range(1, 20)]  # 20 steps a second
    assert all(rate == pytest.approx(20.0) for rate in rates)
    assert meter.mark(5.0, 10) is None  # a restore moved the count back
    assert meter.mark(6.0, 30) == pytest.approx(20.0)
