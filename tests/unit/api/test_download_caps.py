"""Recording downloads are bounded: a few are built at once, and each counts as one of its client's requests.

Building a download reads and re-encodes a whole recording on a thread. The recordings service
here is a stand-in whose builds wait for the test to open a gate, so the test decides how many
are being built when the next download comes; the HTTP app and the endpoint are the real ones.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from ainimal_zookeeper.api.downloads import EXPORTS_AT_ONCE
from ainimal_zookeeper.api.executor import Executor
from ainimal_zookeeper.api.http import GraphQLEndpoint, build_http_app
from ainimal_zookeeper.api.schema import build_executable_schema
from ainimal_zookeeper.domain.access import Viewer

pytestmark = pytest.mark.asyncio


class GatedRecordings:
    """Builds each download only once the gate is open; counts the builds under way."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.building = 0
        self._lock = threading.Lock()

    def write_arrow(self, viewer: Viewer, recording_id: str, out: Any) -> None:
        with self._lock:
            self.building += 1
        try:
            assert self.gate.wait(30), "the test never opened the gate"
            out.write(f"the steps of {recording_id}".encode())
        finally:
            with self._lock:
                self.building -= 1


class Zoo:
    def __init__(self) -> None:
        self.recordings = GatedRecordings()


class Anonymous:
    def viewer_for(self, header: str | None) -> Viewer:
        return Viewer(None, ("anonymous",))


def client_for(zoo: Zoo, **caps: int) -> httpx.AsyncClient:
    endpoint = GraphQLEndpoint(zoo, Executor(build_executable_schema()), Anonymous(), **caps)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=build_http_app(endpoint))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


async def until(check: Any) -> None:
    for _ in range(3000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_past_the_downloads_built_at_once_the_next_is_503_and_the_slots_come_back():
    zoo = Zoo()
    async with client_for(zoo) as client:
        building = [asyncio.create_task(client.get(f"/recordings/r{i}/arrow")) for i in range(EXPORTS_AT_ONCE)]
        await until(lambda: zoo.recordings.building == EXPORTS_AT_ONCE)
        refused = await client.get("/recordings/r9/arrow")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["errors"] == [
            {
                "message": f"{EXPORTS_AT_ONCE} downloads are being prepared; try again in a moment",
                "extensions": {"code": "SERVER_BUSY"},
            }
        ]
        zoo.recordings.gate.set()
        done = await asyncio.gather(*building)
        assert [(r.status_code, r.content) for r in done] == [
            (200, f"the steps of r{i}".encode()) for i in range(EXPORTS_AT_ONCE)
        ]
        again = await client.get("/recordings/r9/arrow")
        assert (again.status_code, again.content) == (200, b"the steps of r9")


async def test_a_download_being_built_counts_as_one_of_its_clients_running_requests():
    zoo = Zoo()
    async with client_for(zoo, requests_per_address=2) as client:
        building = [asyncio.create_task(client.get(f"/recordings/r{i}/arrow")) for i in range(2)]
        await until(lambda: zoo.recordings.building == 2)
        refused = await client.get("/recordings/r9/arrow")
        assert refused.status_code == 429 and refused.json()["errors"][0]["extensions"]["code"] == "LIMIT_REACHED"
        query = await client.post("/graphql", json={"query": "{ __typename }"})
        assert query.status_code == 429  # a query too: the two downloads hold the address's slots
        zoo.recordings.gate.set()
        assert [r.status_code for r in await asyncio.gather(*building)] == [200, 200]
        assert (await client.post("/graphql", json={"query": "{ __typename }"})).json() == {
            "data": {"__typename": "Query"}
        }
