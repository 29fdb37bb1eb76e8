"""The HTTP layer authenticates before anything else, and hands sessions over without URLs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from graphql import build_schema

from ainimal_zookeeper.api.browser_guards import BrowserPolicy, HostAllowList
from ainimal_zookeeper.api.executor import Executor, GraphQLRequest
from ainimal_zookeeper.api.http import GraphQLEndpoint, build_http_app
from ainimal_zookeeper.api.schema import build_executable_schema
from ainimal_zookeeper.api.sign_in_routes import _session_page
from ainimal_zookeeper.auth import LoginRateLimited
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import Unauthenticated
from ainimal_zookeeper.ports.identity import Session

ZOO_TEST = BrowserPolicy(HostAllowList(["zoo.test"]))


class RefusingSignIn:
    """Refuses every header; records whether anything else was asked of it."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def viewer_for(self, header):
        self.asked.append(header)
        if header:
            raise Unauthenticated("the token has expired: sign in again")
        return Viewer(None, ("anonymous",))

    def redirect_uri_for(self, provider):
        return None

    def start_sign_in(self, provider, redirect_uri=None):
        raise AssertionError("a refused request must not start a sign-in")


class ExplodingZookeeper:
    """A service that must never be reached."""

    def __getattr__(self, name):
        raise AssertionError(f"the request reached the service ({name})")


@pytest.fixture
def sign_in():
    return RefusingSignIn()


@pytest_asyncio.fixture
async def client(sign_in):
    endpoint = GraphQLEndpoint(ExplodingZookeeper(), Executor(build_executable_schema()), sign_in)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=build_http_app(endpoint, policy=ZOO_TEST))  # the name it answers to
    async with httpx.AsyncClient(transport=transport, base_url="http://zoo.test") as client:
        yield client


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/graphql", {"json": {"query": 'mutation { launch(input: {model: "m"}) { id } }'}}),
        ("POST", "/graphql", {"content": b"not even json", "headers": {"content-type": "text/plain"}}),
        ("GET", "/graphql", {"params": {"query": "{ me { username } }"}}),
        ("GET", "/recordings/abc/arrow", {}),
        ("GET", "/auth/github/authorize", {}),
    ],
)
async def test_a_refused_token_is_401_before_the_body_is_read_or_the_service_is_reached(
    client, sign_in, method, path, kwargs
):
    headers = {"authorization": "Bearer x.y.z", **kwargs.pop("headers", {})}
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ainimal-zookeeper", error="invalid_token"'
    assert response.json()["errors"] == [
        {"message": "the token has expired: sign in again", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
    assert sign_in.asked == ["Bearer x.y.z"]


def test_the_executor_refuses_documents_over_the_limits_at_validation():
    executor = Executor(build_executable_schema())
    deep = '{ checkpoint(id: "x") { ' + "parent { " * 12 + "id" + " }" * 12 + " } }"
    status, body = executor.run(GraphQLRequest(deep), None)
    assert status == 400 and "levels deep" in body["errors"][0]["message"]
    aliased = "{ " + " ".join(f"m{i}: me {{ username }}" for i in range(31)) + " }"
    status, body = executor.run(GraphQLRequest(aliased), None)
    assert status == 400 and "aliases" in body["errors"][0]["message"]


def test_a_rate_limited_login_is_429_with_when_to_retry():
    schema = build_schema("type Query { ok: Boolean } type Mutation { login: String! }")

    def refuse(*_args):
        raise LoginRateLimited("too many failed sign-ins for this account: try again in 60 s", 60)

    schema.mutation_type.fields["login"].resolve = refuse
    status, body = Executor(schema).run(GraphQLRequest("mutation { login }"), None)
    assert status == 429
    assert body["errors"][0]["extensions"] == {"code": "LIMIT_REACHED", "retryAfter": 60}


def test_the_session_page_cannot_be_broken_out_of_and_keeps_the_token_out_of_urls():
    nasty = '</script><script>alert("x")</script>&'
    session = Session("header.payload.signature", datetime(2030, 1, 1, tzinfo=UTC), Viewer(nasty, ("viewer",)))
    page = _session_page(session)
    body = page.body.decode()
    assert "<script>alert" not in body and body.count("</script>") == 2
    data = re.search(r'id="zk-session">(.*?)</script>', body).group(1)
    assert json.loads(data) == {
        "token": "header.payload.signature",
        "expiresAt": "2030-01-01T00:00:00+00:00",
        "username": nasty,
        "roles": ["viewer"],
    }
    nonce = re.search(r'<script nonce="([^"]+)">', body).group(1)
    assert f"script-src 'nonce-{nonce}'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "location" not in page.headers
