"""Which Host names and page origins the server answers (DNS rebinding, cross-site pages)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ainimal_zookeeper.api.browser_guards import SECURITY_HEADERS, BrowserGuard, BrowserPolicy, HostAllowList


@pytest.mark.parametrize(
    ("allowed", "host", "answered"),
    [
        ([], "127.0.0.1:8000", True),
        ([], "localhost", True),
        ([], "[::1]:8000", True),
        ([], "LOCALHOST.:8000", True),
        ([], "rebind.attacker.example:8000", False),
        ([], "", False),
        ([], "127.0.0.1.attacker.example", False),
        (["zoo.example.org"], "zoo.example.org", True),
        (["zoo.example.org"], "ZOO.example.org:443", True),
        (["zoo.example.org"], "evil-zoo.example.org", False),
        (["*.example.org"], "a.b.example.org", True),
        (["*.example.org"], "example.org.attacker.example", False),
        (["*"], "anything.example", True),
    ],
)
def test_the_host_allow_list(allowed, host, answered):
    assert HostAllowList.for_server("127.0.0.1", allowed).allows(host) is answered


def test_a_specific_listening_address_is_answered_and_every_address_is_not_a_name():
    assert HostAllowList.for_server("192.168.1.20", []).allows("192.168.1.20:8000")
    assert not HostAllowList.for_server("0.0.0.0", []).allows("0.0.0.0:8000")
    assert not HostAllowList.for_server("0.0.0.0", []).allows("192.168.1.20:8000")


class Client:
    """Requests to an ASGI app in this process (httpx's ASGI transport, host `testserver`)."""

    def __init__(self, asgi) -> None:
        self.asgi = asgi

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, path, headers=headers)

        return asyncio.run(send())

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", path, headers)

    def post(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("POST", path, headers)


def app(cors_origins=()):
    async def ok(_request):
        return PlainTextResponse("ok")

    async def framed(_request):
        return PlainTextResponse("mine", headers={"Content-Security-Policy": "default-src 'self'"})

    guard = Middleware(BrowserGuard, policy=BrowserPolicy(HostAllowList(["localhost", "testserver"]), cors_origins))
    routes = [Route("/graphql", ok, methods=["GET", "POST"]), Route("/", framed), Route("/healthz", ok)]
    return Client(Starlette(routes=routes, middleware=[guard]))


def test_a_foreign_host_is_refused_before_the_app_and_says_what_to_configure():
    answer = app().post("/graphql", headers={"host": "rebind.attacker.example"})
    assert answer.status_code == 421
    assert "add it to server.allowed_hosts" in answer.json()["errors"][0]["message"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert app().get("/healthz", headers={"host": "10.0.0.7"}).status_code == 200  # probes by IP


def test_pages_of_other_origins_may_not_call_the_api_but_the_server_s_own_and_cors_ones_may():
    client = app(cors_origins=["http://localhost:5173"])
    refused = client.post("/graphql", headers={"origin": "http://evil.example"})
    assert refused.status_code == 403 and "server.cors_origins" in refused.json()["errors"][0]["message"]
    assert client.post("/graphql", headers={"origin": "null"}).status_code == 403
    assert client.post("/graphql", headers={"origin": "http://testserver"}).status_code == 200
    assert client.post("/graphql", headers={"origin": "https://testserver"}).status_code == 200  # TLS proxy
    assert client.post("/graphql", headers={"origin": "http://localhost:5173/"}).status_code == 200
    assert client.post("/graphql").status_code == 200  # no Origin: not from a page


def test_every_answer_carries_the_security_headers_without_overriding_a_page_s_own_policy():
    client = app()
    plain = client.get("/graphql")
    for name, value in SECURITY_HEADERS.items():
        assert plain.headers[name] == value
    own = client.get("/")
    assert own.headers["content-security-policy"] == "default-src 'self'"
    assert own.headers["x-frame-options"] == "DENY"
