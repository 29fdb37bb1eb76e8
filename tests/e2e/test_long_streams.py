"""Live streams that stay live: past several lease periods, to the instance's end, and closed
by their readers without errors (the real server and workers, SSE over HTTP)."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from support import ServerProcess, launch_running, terminate

HERE = Path(__file__).parent
LEASE = 1.0  # workers.telemetry_lease_seconds in the zoo
TELEMETRY = 'subscription($id: ID!) { telemetry(id: $id, streams: ["reward"], maxHz: 10) { step time } }'
EVENTS = "subscription($id: ID) { instanceEvents(id: $id) { instance kind } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "long_streams_zoo.yaml", tmp_path_factory.mktemp("zk-streams") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


class RawStream:
    """A subscription read on a thread as SSE events (`next` payloads and `complete`), with arrival times."""

    def __init__(self, server: ServerProcess, query: str, variables: dict) -> None:
        self.events: list[tuple[float, str, dict | None]] = []
        self._client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(60, read=None))
        self._body = {"query": query, "variables": variables}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        headers = {"accept": "text/event-stream"}
        try:
            with self._client.stream("POST", "/graphql", json=self._body, headers=headers) as response:
                self._response = response
                self._read_events(response)
        except (httpx.HTTPError, RuntimeError):
            if not self._stop.is_set():
                raise

    def _read_events(self, response: httpx.Response) -> None:
        kind = None
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data:") and kind is not None:
                data = line[len("data:") :].strip()
                self.events.append((time.monotonic(), kind, json.loads(data) if data else None))
                kind = None

    def frames_between(self, start: float, end: float) -> int:
        return sum(1 for at, kind, _ in self.events if kind == "next" and start <= at < end)

    @property
    def completed(self) -> bool:
        return any(kind == "complete" for _, kind, _ in self.events)

    def close(self) -> None:
        self._stop.set()
        response = getattr(self, "_response", None)
        if response is not None:
            response.close()  # a reader blocked on a quiet stream wakes up and ends
        self._client.close()
        self._thread.join(1)


def launch(server: ServerProcess) -> str:
    return launch_running(server, {"model": "Reinforce", "environment": "CartPole"})["id"]


def test_a_telemetry_stream_keeps_its_rate_for_several_lease_periods(server):
    """Renewals once resent one command id, which the worker applied once: frames stopped after a lease."""
    instance = launch(server)
    stream = RawStream(server, TELEMETRY, {"id": instance})
    try:
        deadline = time.monotonic() + 30
        while not stream.events and time.monotonic() < deadline:
            time.sleep(0.05)
        opened = time.monotonic()
        time.sleep(4 * LEASE + 0.2)
        per_lease = [stream.frames_between(opened + k * LEASE, opened + (k + 1) * LEASE) for k in range(4)]
    finally:
        stream.close()
        terminate(server, instance)
    # 10 Hz asked: each lease period carries about ten frames, the last as many as the first.
    assert all(count >= 7 for count in per_lease), per_lease
    assert sum(per_lease) <= 4 * 10 + 2, per_lease


def test_streams_of_an_instance_complete_when_it_ends(server):
    instance = launch(server)
    telemetry = RawStream(server, TELEMETRY, {"id": instance})
    events = RawStream(server, EVENTS, {"id": instance})
    everything = RawStream(server, EVENTS, {"id": None})
    try:
        deadline = time.monotonic() + 30
        while not telemetry.events and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the event streams subscribe
        terminate(server, instance)
        deadline = time.monotonic() + 10
        while not (telemetry.completed and events.completed) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert telemetry.completed and events.completed
        kinds = [payload["data"]["instanceEvents"]["kind"] for _, kind, payload in events.events if kind == "next"]
        assert kinds[-1] == "TERMINATED", kinds
        assert not everything.completed  # the stream of every instance goes on
    finally:
        for stream in (telemetry, events, everything):
            stream.close()


def test_readers_closing_their_streams_leave_no_errors_in_the_log(server):
    instance = launch(server)
    headers = {"accept": "text/event-stream"}
    for _ in range(3):
        for query in (TELEMETRY, EVENTS):
            body = {"query": query, "variables": {"id": instance}}
            with server.http.stream("POST", "/graphql", json=body, headers=headers) as response:
                assert response.status_code == 200
                time.sleep(0.4)  # then the reader goes away mid-stream
    time.sleep(0.5)
    terminate(server, instance)
    log = server.log()
    assert not re.search(r"Traceback|ERROR|Exception in ASGI", log), log[-3000:]
