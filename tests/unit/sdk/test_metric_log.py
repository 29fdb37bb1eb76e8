"""`AInimal.log` / `log_dict`: checked at the call, buffered within bounds."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from ainimal_zookeeper import AInimal
from ainimal_zookeeper.errors import InvalidInput, LimitReached
from ainimal_zookeeper.sdk.metrics import MAX_POINTS_PER_FLUSH, MetricSink


class Ticking:
    """A step counter and a clock the test moves."""

    def __init__(self) -> None:
        self.step = 0
        self.now = 1000.0

    def sink(self, **kwargs) -> MetricSink:
        return MetricSink(step=lambda: self.step, clock=lambda: self.now, **kwargs)


def only(series: list[dict], name: str) -> dict:
    (found,) = [s for s in series if s["name"] == name]
    return found


def test_logged_points_carry_the_step_the_time_and_the_value():
    tick = Ticking()
    sink = tick.sink()
    for step in range(3):
        tick.step, tick.now = step, 1000.0 + step
        sink.log("reward_avg", step * 1.5)
    assert sink.take() == [
        {"name": "reward_avg", "steps": [0, 1, 2], "times": [1000.0, 1001.0, 1002.0], "values": [0.0, 1.5, 3.0]}
    ]
    assert sink.take() == [], "a take empties the buffer"


def test_a_string_value_fails_naming_the_metric_and_the_type_got():
    sink = MetricSink()
    with pytest.raises(InvalidInput) as raised:
        sink.log("reward_avg", "abc")
    assert str(raised.value) == "log('reward_avg') expects a number (int or float), got str 'abc'"


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(None, "NoneType"), ([1.0, 2.0], "list"), (np.zeros(3), "ndarray"), ({"a": 1}, "dict"), (1 + 2j, "complex")],
)
def test_values_that_are_not_one_real_number_are_refused(value, type_name):
    with pytest.raises(InvalidInput, match=rf"log\('x'\) expects a number \(int or float\), got {type_name}"):
        MetricSink().log("x", value)


def test_numpy_scalars_one_element_arrays_tensors_bools_and_fractions_are_numbers():
    torch = pytest.importorskip("torch")
    sink = MetricSink()
    values = [np.float32(0.5), np.int64(3), np.array([2.0]), np.array(4.0), torch.tensor(1.5), True, Fraction(1, 4)]
    values.append(np.bool_(True))
    for value in values:
        sink.log("x", value)
    assert sink.take()[0]["values"] == [0.5, 3.0, 2.0, 4.0, 1.5, 1.0, 0.25, 1.0]


def test_nan_and_infinities_are_kept_as_points_without_a_value():
    sink = MetricSink()
    for value in (1.0, math.nan, math.inf, -math.inf, np.float64("nan"), 10**400, 2.0):
        sink.log("loss", value)
    assert sink.take()[0]["values"] == [1.0, None, None, None, None, None, 2.0]


@pytest.mark.parametrize("name", ["", "1abc", "a b", "x" * 65, "é", "a;drop", "../etc"])
def test_names_are_short_and_plain(name):
    with pytest.raises(InvalidInput, match="is not allowed: use 1 to 64 letters"):
        MetricSink().log(name, 1.0)


def test_a_name_that_is_not_a_string_is_refused():
    with pytest.raises(InvalidInput, match="a metric name must be a string, got int 3"):
        MetricSink().log(3, 1.0)  # type: ignore[arg-type]


def test_names_with_slashes_dots_and_dashes_are_fine():
    sink = MetricSink()
    for name in ("train/loss", "reward.avg", "q-value", "_private", "A1"):
        sink.log(name, 1.0)
    assert [s["name"] for s in sink.take()] == ["train/loss", "reward.avg", "q-value", "_private", "A1"]


def test_the_number_of_distinct_names_is_bounded_across_flushes():
    sink = MetricSink(max_names=3)
    for name in ("a", "b"):
        sink.log(name, 1.0)
    sink.take()
    sink.log("c", 1.0)
    sink.log("a", 2.0)  # a known name is fine
    sink.log("loss", 2.0)  # the harness's names do not count
    with pytest.raises(LimitReached, match=r"log\('d'\) would add a metric name beyond this instance's 3"):
        sink.log("d", 1.0)


def test_a_tight_logging_loop_keeps_a_bounded_evenly_spread_sample_and_the_latest_value():
    tick = Ticking()
    sink = tick.sink()
    for step in range(100_000):
        tick.step = step
        sink.log("x", float(step))
    (series,) = sink.take()
    assert len(series["steps"]) <= MAX_POINTS_PER_FLUSH + 1
    assert series["steps"][0] == 0 and series["steps"][-1] == 99_999, "the first and the latest points stay"
    gaps = np.diff(series["steps"][:-1])
    assert gaps.max() <= 2 * gaps.min(), f"points spread evenly, got gaps {gaps}"
    assert series["values"] == [float(s) for s in series["steps"]]


def test_log_dict_records_all_or_nothing():
    sink = MetricSink()
    with pytest.raises(InvalidInput, match=r"log\('b'\) expects a number \(int or float\), got str 'x'"):
        sink.log_dict({"a": 1.0, "b": "x"})
    assert sink.take() == []
    sink.log_dict({"a": 1.0, "b": 2})
    assert [(s["name"], s["values"]) for s in sink.take()] == [("a", [1.0]), ("b", [2.0])]


def test_log_dict_refuses_a_mapping_that_would_pass_the_name_bound_whole():
    sink = MetricSink(max_names=2)
    with pytest.raises(LimitReached):
        sink.log_dict({"a": 1, "b": 2, "c": 3})
    assert sink.take() == []


def test_log_dict_needs_a_dict():
    with pytest.raises(InvalidInput, match="log_dict expects a dict of name -> number, got list"):
        MetricSink().log_dict([1, 2])


class Logger(AInimal):
    def forward(self, inputs: dict) -> dict:
        self.log("seen", inputs["observation"])
        self.log_dict({"a": 1.0, "b": 2.0})
        return {"action": 0}


def test_an_ainimal_logs_outside_a_zookeeper_too():
    agent = Logger()
    agent.forward({"observation": 0.25})
    assert agent.metric_sink is not None
    assert {s["name"]: s["values"] for s in agent.metric_sink.take()} == {"seen": [0.25], "a": [1.0], "b": [2.0]}


def test_an_ainimal_logs_into_the_sink_the_worker_installs():
    agent, sink = Logger(), MetricSink()
    agent.metric_sink = sink
    agent.forward({"observation": 1.0})
    assert [s["name"] for s in sink.take()] == ["seen", "a", "b"]
    assert Logger.metric_sink is None, "the sink is the instance's, not the class's"
