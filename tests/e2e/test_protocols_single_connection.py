"""graphql-sse's single connection mode over real HTTP, as its reference client drives it:
reserve (PUT), open the stream, start operations (POST, 202), stop them (DELETE)."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from queue import Queue

import httpx
import pytest

from support import ServerProcess

HERE = Path(__file__).parent
TOKEN = "X-GraphQL-Event-Stream-Token"
TELEMETRY = 'subscription($id: ID!) { telemetry(id: $id, streams: ["reward"], maxHz: 20) { step } }'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "zoo.yaml", tmp_path_factory.mktemp("zk-single") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def open_stream(server, token):
    """Read the reservation's stream on a thread; its events arrive on the returned queue."""
    events: Queue = Queue()
    ready = threading.Event()

    def read():
        try:
            stream()
        except httpx.HTTPError:  # the server stopped at the end of the module
            pass

    def stream():
        headers = {TOKEN: token, "Accept": "text/event-stream"}
        with server.http.stream("GET", "/graphql", headers=headers, timeout=60) as response:
            events.put(("status", response.status_code))
            ready.set()
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data:") and kind:
                    events.put((kind, json.loads(line[len("data:") :])))
                    kind = None

    threading.Thread(target=read, daemon=True).start()
    ready.wait(30)
    return events


def start(server, token, query, variables):
    operation = uuid.uuid4().hex
    body = {"query": query, "variables": variables, "extensions": {"operationId": operation}}
    response = server.http.post("/graphql", json=body, headers={TOKEN: token})
    return operation, response


def test_one_stream_carries_an_operation_until_it_is_stopped_and_errors_arrive_inside_it(server):
    instance = server.gql('mutation { launch(input: {model: "Balancer", environment: "CartPole"}) { id } }')["launch"]
    reserved = server.http.put("/graphql")
    assert reserved.status_code == 201 and reserved.text
    token = reserved.text
    events = open_stream(server, token)
    assert events.get(timeout=10) == ("status", 200)
    assert server.http.get("/graphql", headers={TOKEN: token, "Accept": "text/event-stream"}).status_code == 409

    watching, response = start(server, token, TELEMETRY, {"id": instance["id"]})
    assert response.status_code == 202, response.text
    kind, message = events.get(timeout=30)
    assert kind == "next" and message["id"] == watching and message["payload"]["data"]["telemetry"]["step"] >= 0

    missing, response = start(server, token, TELEMETRY, {"id": "nope"})
    assert response.status_code == 202
    seen = [events.get(timeout=30) for _ in range(40)]
    refusal = [m for k, m in seen if m.get("id") == missing]
    assert refusal[0]["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert ("complete", {"id": missing}) in seen

    stopped = server.http.delete("/graphql", params={"operationId": watching}, headers={TOKEN: token})
    assert stopped.status_code == 200
    for _ in range(200):
        kind, message = events.get(timeout=30)
        if kind == "complete" and message["id"] == watching:
            break
    else:
        raise AssertionError("the stopped operation never completed")
    server.gql(f'mutation {{ terminate(id: "{instance["id"]}") {{ id }} }}')


def test_requests_without_a_matching_reservation_find_nothing(server):
    assert server.http.post("/graphql", json={"query": "{ __typename }"}, headers={TOKEN: "guess"}).status_code == 404
    assert server.http.delete("/graphql", params={"operationId": "x"}, headers={TOKEN: "guess"}).status_code == 404
    token = server.http.put("/graphql").text
    unnamed = server.http.post("/graphql", json={"query": "{ __typename }"}, headers={TOKEN: token})
    assert unnamed.status_code == 400 and "operationId" in unnamed.json()["errors"][0]["message"]
