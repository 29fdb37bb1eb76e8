"""Metric history on the Firestore emulator: chunks stored, compacted in transactions, queried."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.gcp.firestore_documents import FirestoreDocumentStore
from ainimal_zookeeper.domain import events as ev
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.service import metric_history as mh


class Zoo:
    def __init__(self, documents):
        self.documents = documents

    def instance(self, viewer, instance_id):
        return {"id": instance_id}


@pytest.fixture
def store(firestore_emulator, unique):
    documents = FirestoreDocumentStore(prefix=f"t{unique}_")
    yield documents
    documents.close()


def test_flushes_with_nulls_and_slashed_names_compact_and_read_back_on_firestore(store, monkeypatch):
    monkeypatch.setattr(mh, "MERGE_COUNT", 3)
    monkeypatch.setattr(mh, "MAX_LEVEL", 1)
    for seq in range(1, 13):
        steps = [seq * 10 + i for i in range(5)]
        series = [
            {"name": "train/loss", "steps": steps, "times": [1000.0 + s for s in steps], "values": [1.0, None, 2.0, 3.0, 4.0]},
            {"name": "episode_return", "steps": steps, "times": [1000.0 + s for s in steps], "values": [float(s) for s in steps]},
        ]  # fmt: skip
        mh.store_points(store, ev.MetricPoints("i1", time=2000.0 + seq, seq=seq, series=series))
    levels = sorted(chunk["level"] for chunk in store.find(mh.METRICS, [("instance", "==", "i1")]))
    assert levels.count(0) <= 2 * mh.MERGE_COUNT and 1 in levels
    found = {
        s["name"]: s for s in mh.metric_history(Zoo(store), Viewer(username="a", roles=()), ["i1"], max_points=10_000)
    }
    everything = [seq * 10 + i for seq in range(1, 13) for i in range(5)]  # merged chunks here need no thinning
    assert found["episode_return"]["steps"] == everything
    assert found["episode_return"]["values"] == [float(s) for s in everything]
    assert None in found["train/loss"]["values"]
