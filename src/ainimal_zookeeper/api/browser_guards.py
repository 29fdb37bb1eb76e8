"""What a browser may do to the server: which Host it may name, which pages may call the API,
and the headers that keep pages from being framed, sniffed or leaking their URL.

- **Host allow-list.** A web page on any site can make the browser call a server on this
  machine by pointing its own name at 127.0.0.1 (DNS rebinding): the request then carries the
  attacker's name in `Host`. Only loopback names, the configured `server.host` and
  `server.allowed_hosts` are answered; `"*"` allows any (behind a front end that routes by host,
  e.g. Cloud Functions), `*.example.org` a domain's subdomains. starlette's
  TrustedHostMiddleware would do, but it cuts `Host` at the first ":" and so refuses `[::1]:8000`.
- **Origin check.** A request to the API that carries `Origin` (browsers send it on POSTs and on
  cross-origin reads) must come from a page of this server (same host) or of `server.cors_origins`.
  Requests without it (curl, the SDK, other servers) are not from a page and pass.
- **Headers on everything served**: nosniff, no framing, no referrer, and a Content-Security-Policy
  that allows nothing for responses that set none themselves (the client's page sets its own).

Refusals happen before any work and say what to change.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ainimal_zookeeper.api.errors import request_error

__all__ = ["LOOPBACK_NAMES", "SECURITY_HEADERS", "BrowserGuard", "BrowserPolicy", "HostAllowList", "refusal_body"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: Set on every response unless the response set them itself.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}
#: Paths that act or read data: a foreign page's Origin is refused there.
_API_PREFIXES = ("/graphql", "/recordings/", "/auth/")
#: Answered whatever the Host: load balancers and container health checks probe by IP.
_ANY_HOST_PATHS = ("/healthz",)


class HostAllowList:
    """The `Host` names this server answers to."""

    def __init__(self, names: Iterable[str]) -> None:
        self.any = False
        self.exact: set[str] = set()
        self.suffixes: list[str] = []
        for raw in names:
            name = _bare(raw)
            if name == "*":
                self.any = True
            elif name.startswith("*."):
                self.suffixes.append(name[1:])  # ".example.org"
            elif name:
                self.exact.add(name)

    @classmethod
    def for_server(cls, host: str, allowed_hosts: Iterable[str]) -> HostAllowList:
        """Loopback names, `host` when it names one address or name, and `allowed_hosts`."""
        names = [*LOOPBACK_NAMES, *allowed_hosts]
        if not _is_wildcard_address(host):
            names.append(host)
        return cls(names)

    def allows(self, host_header: str) -> bool:
        """Whether a request whose `Host` is `host_header` (port included or not) is answered."""
        if self.any:
            return True
        name = _bare(_without_port(host_header))
        if not name:
            return False
        return name in self.exact or any(name.endswith(suffix) for suffix in self.suffixes)


class BrowserPolicy:
    """Which requests a browser may make: the Host allow-list and the Origin check."""

    def __init__(self, hosts: HostAllowList, cors_origins: Iterable[str] = ()) -> None:
        self.hosts = hosts
        self.cors_origins = {origin.rstrip("/").lower() for origin in cors_origins}

    def refusal(self, path: str, host: str, origin: str | None) -> tuple[int, str] | None:
        """(HTTP status, message) for a request that must be refused, or None."""
        if not path.startswith(_ANY_HOST_PATHS) and not self.hosts.allows(host):
            return (
                421,
                f"this server does not answer to the host name {_without_port(host)!r}; if that is its name, "
                "add it to server.allowed_hosts",
            )
        if origin is not None and path.startswith(_API_PREFIXES) and not self._origin_allowed(origin, host):
            return (
                403,
                f"requests from pages of {origin!r} are not accepted; if that web client is yours, add its origin "
                "to server.cors_origins",
            )
        return None

    def _origin_allowed(self, origin: str, host: str) -> bool:
        normalized = origin.rstrip("/").lower()
        if normalized in self.cors_origins:
            return True
        # Same host (scheme aside: a TLS proxy in front makes the page https and the request http).
        scheme, sep, netloc = normalized.partition("://")
        return bool(sep) and scheme in ("http", "https") and netloc == host.lower()


class BrowserGuard:
    """ASGI middleware: `BrowserPolicy` before the app, `SECURITY_HEADERS` on its answers."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refused = self.policy.refusal(scope.get("path", ""), headers.get("host", ""), headers.get("origin"))
        if refused is not None:
            await _refuse(send, *refused)
            return
        await self.app(scope, receive, _with_security_headers(send))


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers (the last of repeated ones), names lower-case."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.decode("latin-1").lower() for name, _value in message.get("headers", ())}
            extra = [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in SECURITY_HEADERS.items()
                if name not in present
            ]
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sending


def refusal_body(message: str) -> dict[str, Any]:
    """The JSON body of a refused request."""
    return request_error(message, "FORBIDDEN")


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps(refusal_body(message)).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


def _without_port(host: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `[::1]`; `::1` stays."""
    host = host.strip()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _bare(name: str) -> str:
    """A host name compared as browsers send it: lower-case, no brackets, no trailing dot."""
    return name.strip().lower().strip("[]").rstrip(".")


def _is_wildcard_address(host: str) -> bool:
    """Whether `host` is "every address" (0.0.0.0, ::), which no request names."""
    try:
        return ipaddress.ip_address(_bare(host)).is_unspecified
    except ValueError:
        return False
