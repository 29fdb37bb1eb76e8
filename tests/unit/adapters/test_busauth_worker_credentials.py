"""Each worker's spec carries bus credentials of its own, revoked when it ends or fails to start."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.gcp.event_signing import sign, signed_by, worker_key
from ainimal_zookeeper.adapters.worker_credentials import CredentialedCompute
from ainimal_zookeeper.ports.compute import WorkerSpec


class FakeCompute:
    def __init__(self, fail: bool = False) -> None:
        self.specs: list[WorkerSpec] = []
        self.exits = []
        self.fail = fail

    def start(self, spec):
        if self.fail:
            raise RuntimeError("no capacity")
        self.specs.append(spec)

    def on_exit(self, callback):
        self.exits.append(callback)


def spec(instance_id: str) -> WorkerSpec:
    bus = {"type": "pubsub", "project": "p", "prefix": "zk-"}
    return WorkerSpec(instance_id, {}, None, {}, {}, "INFER", {"bus": bus, "blobs": {"type": "local"}}, seed=1)


def test_each_worker_gets_its_own_key_beside_the_shared_bus_connection():
    inner, revoked = FakeCompute(), []
    compute = CredentialedCompute(inner, lambda i: {"signing_key": worker_key("s", i)}, revoked.append)
    compute.start(spec("a"))
    compute.start(spec("b"))
    a, b = (s.connection["bus"] for s in inner.specs)
    assert a["project"] == "p" and a["signing_key"] != b["signing_key"]
    assert signed_by("s", "a", b"data", sign(a["signing_key"], b"data"))
    assert not signed_by("s", "b", b"data", sign(a["signing_key"], b"data"))  # a's key does not speak for b
    inner.exits[0]("a", 0)
    assert revoked == ["a"]


def test_a_worker_that_fails_to_start_has_its_credentials_revoked():
    revoked: list[str] = []
    compute = CredentialedCompute(FakeCompute(fail=True), lambda i: {"signing_key": "00"}, revoked.append)
    with pytest.raises(RuntimeError):
        compute.start(spec("a"))
    assert revoked == ["a"]
