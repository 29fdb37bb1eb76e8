"""Instance logs: each flush stored once, each instance bounded, tails read per viewer."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.local.sqlite_documents import SqliteDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import InvalidInput, NotFound
from ainimal_zookeeper.service import instance_logs as il

VIEWER = Viewer(username="ann", roles=())


class Zoo:
    """What the query needs of the Zookeeper: the store, and which instances a viewer may inspect."""

    def __init__(self, documents, inspectable=("i1",)):
        self.documents = documents
        self.allowed = set(inspectable)

    def inspectable(self, viewer, instance_id):
        return {"id": instance_id} if instance_id in self.allowed else None


@pytest.fixture
def store(tmp_path):
    documents = SqliteDocumentStore(tmp_path / "state.db")
    yield documents
    documents.close()


def flush(seq, count, start=0, instance="i1", final=False):
    lines = [{"time": 1000.0 + seq + i / 1000, "stream": "stdout", "text": f"line {start + i}"} for i in range(count)]
    return ev.LogLines(instance, time=1000.0 + seq, seq=seq, lines=lines, final=final)


def test_a_flush_delivered_twice_is_stored_once(store):
    event = flush(1, 3)
    il.store_lines(store, event)
    il.store_lines(store, event)
    assert [line["text"] for line in il.logs(Zoo(store), VIEWER, "i1")] == ["line 0", "line 1", "line 2"]


def test_an_instance_keeps_its_newest_lines_within_the_bound(store, monkeypatch):
    monkeypatch.setattr(il, "MAX_LINES_PER_INSTANCE", 250)
    monkeypatch.setattr(il, "MAX_TAIL", 5000)
    for seq in range(1, 3 * il.PRUNE_EVERY + 1):  # several prune periods
        il.store_lines(store, flush(seq, 10, start=seq * 10))
        held = sum(c["count"] for c in store.find(il.LOGS, [("instance", "==", "i1")]))
        assert held <= 250 + il.PRUNE_EVERY * 10
    il.store_lines(store, flush(3 * il.PRUNE_EVERY + 1, 0, final=True))  # the last flush prunes
    lines = il.logs(Zoo(store), VIEWER, "i1", 5000)
    assert len(lines) == 250
    assert lines[-1]["text"] == f"line {3 * il.PRUNE_EVERY * 10 + 9}"
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)


def test_malformed_lines_and_unknown_streams_are_dropped_and_long_texts_cut(store):
    lines = [
        {"time": 1.0, "stream": "stdout", "text": "x" * (il.MAX_TEXT + 1000)},
        {"time": 2.0, "stream": "secret", "text": "nope"},
        {"time": "soon", "stream": "stdout", "text": "nope"},
        "not a line",
    ]
    il.store_lines(store, ev.LogLines("i1", seq=1, lines=lines))
    [kept] = il.logs(Zoo(store), VIEWER, "i1")
    assert kept["text"] == "x" * il.MAX_TEXT


def test_tail_is_checked_before_work_and_hidden_instances_look_missing(store):
    il.store_lines(store, flush(1, 300))
    il.store_lines(store, flush(2, 1, instance="i2"))
    zoo = Zoo(store)
    assert len(il.logs(zoo, VIEWER, "i1")) == il.DEFAULT_TAIL
    assert [line["text"] for line in il.logs(zoo, VIEWER, "i1", 2)] == ["line 298", "line 299"]
    for tail in (0, -1, il.MAX_TAIL + 1):
        with pytest.raises(InvalidInput, match=f"tail must be between 1 and {il.MAX_TAIL} lines, got {tail}"):
            il.logs(zoo, VIEWER, "i2", tail)
    with pytest.raises(NotFound, match="unknown instance 'i2'"):
        il.logs(zoo, VIEWER, "i2")


class FakeBus:
    def __init__(self):
        self.handlers = []

    def subscribe(self, handler):
        self.handlers.append(handler)
        return lambda: self.handlers.remove(handler)

    def publish(self, event):
        for handler in list(self.handlers):
            handler(event)


class LiveZoo(Zoo):
    def __init__(self, documents):
        super().__init__(documents)
        self.events = FakeBus()

    def while_visible(self, viewer, instance_id, items):
        return items


def test_a_slow_reader_of_the_live_stream_loses_the_oldest_lines_told_by_a_marker_and_the_stream_ends_with_the_worker(
    store, monkeypatch
):
    import asyncio

    monkeypatch.setattr(il, "STREAM_QUEUE_LINES", 10)
    zoo = LiveZoo(store)

    async def read():
        stream = il.log_stream(zoo, VIEWER, "i1")
        first = await anext(stream)  # subscribed from here on
        bus = zoo.events
        bus.publish(flush(2, 5, start=100, instance="i2"))  # another instance's: not in this stream
        bus.publish(flush(3, 25, start=200))
        bus.publish(ev.LogLines("i1", seq=4, lines=[], final=True))
        await asyncio.sleep(0.05)
        rest = [line async for line in stream]
        return first, rest, bus

    bus = FakeBus()
    zoo.events = bus

    async def main():
        task = asyncio.ensure_future(read())
        while not bus.handlers:  # the stream subscribes on a worker thread
            await asyncio.sleep(0.01)
        bus.publish(flush(1, 1, start=0))
        return await task

    first, rest, bus = asyncio.run(main())
    assert first["text"] == "line 0"
    texts = [line["text"] for line in rest]
    assert texts[0] == "… 16 lines dropped (the reader was slow)"
    assert texts[1:] == [f"line {i}" for i in range(216, 225)]
    assert bus.handlers == [], "the stream unsubscribed when it ended"
    with pytest.raises(NotFound):
        il.log_stream(zoo, VIEWER, "i2")


def test_a_flush_with_more_text_than_a_document_holds_is_cut(store):
    lines = [{"time": 1.0 + i, "stream": "stdout", "text": "x" * 4096} for i in range(il.MAX_LINES_PER_CHUNK)]
    il.store_lines(store, ev.LogLines("i1", seq=1, lines=lines))
    [chunk] = store.find(il.LOGS, [("instance", "==", "i1")])
    assert sum(len(line["text"]) for line in chunk["lines"]) <= il.MAX_CHUNK_CHARS
