"""GraphQL over HTTP as a third-party client sees it: media types and statuses by the book,
and every argument checked with a typed error naming it."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio
from protocols_zoo import MODERN, embedded_zoo

from ainimal_zookeeper.api.media_types import acceptable

GRAPHQL_RESPONSE = "application/graphql-response+json"
UNKNOWN_MODEL = 'mutation { launch(input: {model: "Nope"}) { id } }'


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    with embedded_zoo(tmp_path_factory.mktemp("protocols-http")) as plane:
        yield plane


@pytest_asyncio.fixture
async def client(zoo):
    transport = httpx.ASGITransport(app=zoo.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def post(client, query, accept=None, variables=None):
    headers = {"Accept": accept} if accept is not None else {}
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def test_accept_headers_are_negotiated_by_quality_then_order():
    assert acceptable(None) == ["application/json"]
    assert acceptable("*/*") == ["application/json"]
    assert acceptable(MODERN) == [GRAPHQL_RESPONSE, "application/json"]
    assert acceptable("application/json, application/graphql-response+json;q=0.5")[0] == "application/json"
    assert acceptable("text/event-stream") == ["text/event-stream"]
    assert acceptable("text/html") == []
    assert acceptable("application/json;q=0") == []


@pytest.mark.asyncio
async def test_a_modern_client_gets_graphql_response_json_and_200_for_an_execution_error(client):
    response = await post(client, UNKNOWN_MODEL, MODERN)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ instances { id ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ instances { nonsense } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { instance(id: $id) { id } }", {}, "BAD_USER_INPUT"),
        ("query A { __typename } query B { __typename }", None, "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_request_errors_are_400_for_a_modern_client_and_200_for_a_legacy_one(client, query, variables, code):
    modern = await post(client, query, MODERN, variables)
    assert modern.status_code == 400 and modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in modern.json()
    for accept in (None, "application/json", "*/*"):
        legacy = await post(client, query, accept, variables)
        assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
        assert "data" not in legacy.json() and legacy.json()["errors"]
    if code != "GRAPHQL_PARSE_FAILED" or "{ instances" in query:
        assert modern.json()["errors"][0]["extensions"]["code"] == code


@pytest.mark.asyncio
async def test_a_legacy_client_gets_application_json_and_200_for_an_execution_error(client):
    response = await post(client, UNKNOWN_MODEL)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.asyncio
async def test_malformed_requests_stay_4xx_whatever_the_client_accepts(client):
    for accept in (None, MODERN):
        headers = {"content-type": "application/json", **({"Accept": accept} if accept else {})}
        assert (await client.post("/graphql", content=b"{not json", headers=headers)).status_code == 400
        assert (await client.post("/graphql", json={"qeury": "{ __typename }"}, headers=headers)).status_code == 400
    mutation = await client.get("/graphql", params={"query": 'mutation { pause(id: "x") { id } }'})
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"


@pytest.mark.asyncio
async def test_an_accept_header_naming_nothing_we_serve_is_406(client):
    response = await post(client, "{ __typename }", "text/html")
    assert response.status_code == 406 and response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.asyncio
async def test_a_query_is_streamed_when_the_client_only_accepts_an_event_stream(client):
    response = await post(client, "{ __typename }", "text/event-stream")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith('event: next\ndata: {"data": {"__typename": "Query"}}')
    assert response.text.endswith("event: complete\ndata:\n\n")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ compareRecordings(recorded: "a", replayed: "b", offset: null) }', "offset"),
        ('{ compareRecordings(recorded: "a", replayed: "b", limit: null) }', "limit"),
        ('mutation { restoreCheckpoint(id: "x", checkpoint: "") { id } }', "checkpoint"),
        ('mutation { restoreCheckpoint(id: " ", checkpoint: "c") { id } }', "id"),
        ('mutation { act(id: "x", target: null) }', "target"),
    ],
)
async def test_null_and_empty_arguments_get_a_typed_error_naming_the_argument(client, query, argument):
    response = await post(client, query, MODERN)
    assert response.status_code == 200, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert f"{argument} " in error["message"]
