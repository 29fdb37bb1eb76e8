"""instanceEvents over Server-Sent Events: a subscriber sees status changes as they happen."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from support import ServerProcess

HERE = Path(__file__).parent
SUBSCRIPTION = "subscription($id: ID) { instanceEvents(id: $id) { instance kind status mode message dropped } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "zoo.yaml", tmp_path_factory.mktemp("zk-events") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def read_events(response, until, limit=50):
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            events.append(json.loads(line[len("data: ") :])["data"]["instanceEvents"])
            if until(events[-1]) or len(events) >= limit:
                return events
    return events


def test_a_subscriber_sees_pause_resume_and_termination_of_its_instance(server):
    launched = server.gql('mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id } }')["launch"]
    other = server.gql('mutation { launch(input: {model: "Balancer", environment: "CartPole"}) { id } }')["launch"]
    body = {"query": SUBSCRIPTION, "variables": {"id": launched["id"]}}
    with server.http.stream(
        "POST", "/graphql", json=body, headers={"accept": "text/event-stream"}, timeout=30
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")

        def drive():
            for verb in ("pause", "resume", "terminate"):
                server.gql(f'mutation {{ {verb}(id: "{launched["id"]}") {{ id }} }}')
            server.gql(f'mutation {{ terminate(id: "{other["id"]}") {{ id }} }}')

        threading.Thread(target=drive).start()
        events = read_events(response, until=lambda e: e["kind"] == "TERMINATED")
    assert {e["instance"] for e in events} == {launched["id"]}  # nothing from the other instance
    statuses = [e["status"] for e in events if e["kind"] == "COMMAND_APPLIED"]
    assert statuses[:2] == ["PAUSED", "RUNNING"]
    assert events[-1]["kind"] == "TERMINATED" and events[-1]["dropped"] == 0


def stream_of(server, body):
    """The parsed events of a whole (short) SSE response."""
    response = server.http.post("/graphql", json=body, headers={"accept": "text/event-stream"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events, kind = [], None
    for line in response.text.splitlines():
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data:"):
            data = line[len("data:") :].strip()
            events.append((kind, json.loads(data) if data else None))
    return events


def test_subscriptions_need_an_event_stream_and_a_visible_instance(server):
    response = server.post(SUBSCRIPTION, {"id": "nope"})
    assert response.status_code == 406 and "text/event-stream" in response.json()["errors"][0]["message"]
    # graphql-sse: an error before the stream starts is told inside it, then the stream completes.
    (kind, payload), (end, _) = stream_of(server, {"query": SUBSCRIPTION, "variables": {"id": "nope"}})
    assert (kind, end) == ("next", "complete")
    assert payload["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_telemetry_of_an_unknown_instance_is_refused_inside_the_stream(server):
    (kind, payload), (end, _) = stream_of(server, {"query": 'subscription { telemetry(id: "x") { step } }'})
    assert (kind, end) == ("next", "complete")
    error = payload["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND" and "unknown instance 'x'" in error["message"]


def test_a_document_that_does_not_parse_is_a_400_even_for_a_stream(server):
    response = server.http.post("/graphql", json={"query": "subscription {"}, headers={"accept": "text/event-stream"})
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
