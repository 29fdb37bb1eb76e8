"""Metric history: flushes stored as chunks, compacted within bounds, queried per viewer."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.service import metric_history as mh

VIEWER = Viewer(username="ann", roles=())


class Zoo:
    """What the query needs of the Zookeeper: the store, and which instances a viewer sees."""

    def __init__(self, documents, visible=("i1", "i2")):
        self.documents = documents
        self.visible = set(visible)

    def instance(self, viewer, instance_id):
        return {"id": instance_id} if instance_id in self.visible else None


@pytest.fixture
def store(tmp_path):
    documents = SqliteDocumentStore(tmp_path / "state.db")
    yield documents
    documents.close()


def flush(instance="i1", seq=1, start=0, points=3, names=("episode_return",), t0=1000.0, final=False):
    """A MetricPoints event: `points` points per name, one a step from `start`, 0.01 s apart."""
    steps = list(range(start, start + points))
    series = [
        {"name": name, "steps": steps, "times": [t0 + s / 100 for s in steps], "values": [float(s) for s in steps]}
        for name in names
    ]
    return ev.MetricPoints(instance, time=t0 + (start + points) / 100, seq=seq, series=series, final=final)


def query(store, ids=("i1",), **kwargs):
    return mh.metric_history(Zoo(store), VIEWER, list(ids), **kwargs)


def test_a_flush_is_stored_as_one_chunk_and_read_back_as_series(store):
    mh.store_points(store, flush(names=("episode_return", "loss")))
    assert len(store.find(mh.METRICS)) == 1
    assert query(store) == [
        {"instance": "i1", "name": "episode_return", "steps": [0, 1, 2], "times": [1000.0, 1000.01, 1000.02],
         "values": [0.0, 1.0, 2.0]},
        {"instance": "i1", "name": "loss", "steps": [0, 1, 2], "times": [1000.0, 1000.01, 1000.02],
         "values": [0.0, 1.0, 2.0]},
    ]  # fmt: skip


def test_an_event_delivered_twice_is_stored_once(store):
    event = flush()
    mh.store_points(store, event)
    mh.store_points(store, ev.event_from_dict(event.to_dict()))
    assert len(store.find(mh.METRICS)) == 1
    assert query(store)[0]["steps"] == [0, 1, 2]


def test_flushes_join_in_time_order(store):
    mh.store_points(store, flush(seq=2, start=3))
    mh.store_points(store, flush(seq=1, start=0))
    assert query(store)[0]["steps"] == [0, 1, 2, 3, 4, 5]


def test_history_stays_bounded_and_spans_the_whole_run_past_many_compactions(store, monkeypatch):
    monkeypatch.setattr(mh, "MERGE_COUNT", 4)
    monkeypatch.setattr(mh, "MAX_LEVEL", 2)
    monkeypatch.setattr(mh, "MERGED_POINTS_PER_SERIES", 20)
    flushes = 300  # ≈ 75 merges at level 0, then levels 1 and 2 fill, level 2 merges into itself
    for seq in range(1, flushes + 1):
        mh.store_points(store, flush(seq=seq, start=(seq - 1) * 10, points=10, names=("a", "b")))
        by_level: dict[int, int] = {}
        for chunk in store.find(mh.METRICS):
            by_level[chunk["level"]] = by_level.get(chunk["level"], 0) + 1
        assert all(count <= 2 * mh.MERGE_COUNT for count in by_level.values()), by_level
    assert max(by_level) == 2
    (a, _b) = query(store, max_points=10_000)
    assert a["steps"][-1] == flushes * 10 - 1, "the newest points are kept whole"
    assert a["steps"][0] == 0, "the oldest points are kept too, thinner"
    assert len(a["steps"]) < flushes * 10 / 4
    assert a["steps"] == sorted(a["steps"]) and a["times"] == sorted(a["times"])
    assert all(value == float(step) for step, value in zip(a["steps"], a["values"], strict=True))


def test_the_last_flush_of_a_worker_compacts_what_is_left(store, monkeypatch):
    monkeypatch.setattr(mh, "MERGE_COUNT", 4)
    for seq in range(1, 7):  # no multiple of 4 reached after 4: 5 and 6 pile up
        mh.store_points(store, flush(seq=seq, start=seq * 3))
    mh.store_points(store, ev.MetricPoints("i1", seq=7, series=[], final=True))
    assert sorted(c["level"] for c in store.find(mh.METRICS)) == [0, 0, 1]


def test_max_points_thins_each_series_keeping_its_ends(store):
    mh.store_points(store, flush(points=33))
    for seq in range(2, 40):
        mh.store_points(store, flush(seq=seq, start=(seq - 1) * 33, points=33))
    (series,) = query(store, max_points=50)
    assert len(series["steps"]) <= 50
    assert series["steps"][0] == 0 and series["steps"][-1] == 39 * 33 - 1


def test_since_keeps_points_from_that_time_on(store):
    mh.store_points(store, flush(points=30, t0=1_700_000_000.0))
    (series,) = query(store, since="2023-11-14T22:13:20.15Z")  # 1_700_000_000.15
    assert series["steps"] == list(range(15, 30))
    assert query(store, since="2030-01-01T00:00:00") == [], "a naive time is UTC"


def test_names_choose_series_and_unknown_names_give_none(store):
    mh.store_points(store, flush(names=("a", "b", "c")))
    assert [s["name"] for s in query(store, names=["c", "a", "nope"])] == ["a", "c"]
    assert query(store, names=["nope"]) == []


def test_instances_the_viewer_may_not_see_are_skipped_like_missing_ones(store):
    for instance in ("i1", "i2", "hidden"):
        mh.store_points(store, flush(instance=instance))
    found = mh.metric_history(Zoo(store), VIEWER, ["hidden", "i2", "missing", "i1", "i2"])
    assert [s["instance"] for s in found] == ["i2", "i1"], "in the order asked, once each"


def test_one_answer_carries_a_bounded_number_of_points(store, monkeypatch):
    monkeypatch.setattr(mh, "MAX_ANSWER_POINTS", 40)
    mh.store_points(store, flush(points=30, names=("a", "b", "c", "d")))
    found = query(store, max_points=1000)
    assert [len(s["steps"]) for s in found] == [10, 10, 10, 10]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ids": [f"i{n}" for n in range(51)]}, "metricHistory takes at most 50 ids, got 51"),
        ({"maxPoints": 0}, "maxPoints must be between 1 and 10000, got 0"),
        ({"maxPoints": 10_001}, "maxPoints must be between 1 and 10000, got 10001"),
        ({"since": "yesterday"}, "since expects an ISO-8601 date and time such as"),
        ({"names": ["x" * 65]}, "metric names have at most 64 characters"),
        ({"names": ["x"] * 201}, "metricHistory takes at most 200 names, got 201"),
    ],
)
def test_bad_queries_are_refused_before_any_work(store, kwargs, message):
    ids = kwargs.pop("ids", ["i1"])
    zoo = Zoo(store)
    zoo.instance = None  # any look-up would fail the test: bounds come first
    with pytest.raises(InvalidInput, match=message):
        mh.metric_history(zoo, VIEWER, ids, kwargs.get("names"), kwargs.get("since"), kwargs.get("maxPoints"))


def test_points_outside_the_bounds_are_dropped_and_the_rest_kept(store):
    good = {"name": "ok", "steps": [1], "times": [1000.0], "values": [float("nan")]}
    bad = [
        {"name": "bad name!", "steps": [1], "times": [1.0], "values": [1.0]},
        {"name": "short", "steps": [1, 2], "times": [1.0], "values": [1.0]},
        {"name": "long", "steps": [1] * 40, "times": [1.0] * 40, "values": [1.0] * 40},
        {"name": "text", "steps": [1], "times": ["x"], "values": [1.0]},
        "not a series",
    ]
    mh.store_points(store, ev.MetricPoints("i1", seq=1, series=[*bad, good]))
    assert query(store) == [{"instance": "i1", "name": "ok", "steps": [1], "times": [1000.0], "values": [None]}]
