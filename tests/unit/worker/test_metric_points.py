"""The worker's metric collector: batched flushes on a schedule, train results, rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker.metric_points import MetricPointsCollector


class Outbox:
    def __init__(self) -> None:
        self.events: list[ev.MetricPoints] = []

    def publish(self, event: ev.Event) -> None:
        assert isinstance(event, ev.MetricPoints)
        self.events.append(event)

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def collector(flush_seconds=1.0):
    outbox, clock = Outbox(), Clock()
    return MetricPointsCollector("i1", lambda: 7, outbox, flush_seconds, monotonic=clock), outbox, clock


def test_points_go_out_once_per_flush_period_over_many_periods():
    points, outbox, clock = collector(flush_seconds=1.0)
    for tick in range(1, 101):  # 10 s of progress reports every 0.1 s, an episode at each
        clock.now = tick * 0.1
        points.episode(tick, float(tick), tick)
        points.maybe_flush()
    assert len(outbox.events) == 10
    assert [e.seq for e in outbox.events] == list(range(1, 11))
    returns = [v for e in outbox.events for s in e.series if s["name"] == "episode_return" for v in s["values"]]
    assert returns == [float(tick) for tick in range(1, 101)], "every point once, in order"


def test_nothing_is_published_when_nothing_was_recorded():
    points, outbox, clock = collector()
    for tick in range(1, 50):
        clock.now = tick
        points.maybe_flush()
    assert outbox.events == []
    points.flush(final=True)
    assert [(e.final, e.series) for e in outbox.events] == [(True, [])], "the last flush is always said"


def test_train_results_none_a_loss_numbers_or_a_dict():
    points, outbox, _ = collector()
    assert points.trained(None) == {}
    assert points.trained(0.5) == {"loss": 0.5}
    assert points.trained(np.array([1.0, 3.0])) == {"loss": 2.0}
    assert points.trained(math.nan) == {"loss": None}
    assert points.trained({"loss": 0.1, "kl": np.float32(0.25)}) == {"loss": 0.1, "kl": 0.25}
    points.flush()
    (event,) = outbox.events
    assert {s["name"]: s["values"] for s in event.series} == {"loss": [0.5, 2.0, None, 0.1], "kl": [0.25]}
    assert event.series[0]["steps"] == [7, 7, 7, 7]


def test_a_train_result_that_is_no_number_nor_dict_is_refused_clearly():
    points, _, _ = collector()
    with pytest.raises(InvalidInput, match="train returned str 'low'; expected None, a loss"):
        points.trained("low")
    with pytest.raises(InvalidInput, match=r"log\('kl'\) expects a number \(int or float\), got str 'x'"):
        points.trained({"kl": "x"})


def test_a_paused_instances_zero_rate_is_recorded_once():
    points, outbox, _ = collector()
    for rate in (100.0, 0.0, 0.0, 0.0, 50.0, 0.0, 0.0):
        points.rate(rate)
    points.flush()
    assert outbox.events[0].series[0]["values"] == [100.0, 0.0, 50.0, 0.0]


def test_progress_puts_the_latest_logged_values_into_the_current_metrics():
    points, outbox, clock = collector()
    agent = type("Agent", (), {})()
    points.attach(agent)
    agent.metric_sink.log("reward_avg", 1.0)
    agent.metric_sink.log("reward_avg", 2.0)
    metrics = {"steps_per_second": 10.0, "episodes": 3}
    points.on_progress(metrics)
    assert "reward_avg" not in metrics, "not before the flush"
    clock.now = 1.0
    points.on_progress(metrics)
    assert metrics == {"steps_per_second": 10.0, "episodes": 3, "reward_avg": 2.0}
    assert {s["name"] for s in outbox.events[0].series} == {"reward_avg", "steps_per_second"}


def test_a_torch_loss_counts_whether_it_is_a_scalar_tensor_or_one_per_batch_element():
    torch = pytest.importorskip("torch")
    points, _, _ = collector()
    weight = torch.ones(2, requires_grad=True)
    assert points.trained((weight * 2).sum()) == {"loss": 4.0}, "a tensor still attached to autograd"
    assert points.trained(torch.tensor([1.0, 2.0])) == {"loss": 1.5}
    with pytest.raises(InvalidInput, match="detached from autograd"):
        points.trained(weight * 2)


def test_many_episodes_in_one_flush_are_thinned_together_and_keep_the_last():
    points, outbox, _ = collector()
    for episode in range(1, 1001):  # a fast env: a thousand episodes between two flushes
        points.episode(episode * 9, float(episode), 9)
    points.flush()
    series = {s["name"]: s for s in outbox.events[0].series}
    returns, lengths = series["episode_return"], series["episode_length"]
    assert 16 <= len(returns["values"]) <= 33, "bounded per flush"
    assert returns["steps"] == lengths["steps"] and returns["times"] == lengths["times"], "the same episodes"
    assert returns["values"][-1] == 1000.0 and returns["steps"][-1] == 9000, "the latest is always kept"
    assert set(lengths["values"]) == {9.0}
    assert [v / 9 for v in returns["steps"]] == returns["values"], "each return at its own episode's end step"


def test_an_episode_return_that_blew_up_is_a_gap_not_a_number():
    points, outbox, _ = collector()
    points.episode(10, math.inf, 10)
    points.episode(20, math.nan, 10)
    points.episode(30, 2.5, 10)
    points.flush()
    series = {s["name"]: s["values"] for s in outbox.events[0].series}
    assert series == {"episode_return": [None, None, 2.5], "episode_length": [10.0, 10.0, 10.0]}
