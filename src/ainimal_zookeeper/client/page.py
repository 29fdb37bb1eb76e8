"""The web client's files, as the server (`--client`) and `python -m ainimal_zookeeper.client` serve them.

The client is built from `client/web/` (`make client`) into `static/`: one page with its
script and styles inlined, beside the PWA files (web app manifest, service worker, icons).
The page is served with its connection details injected (`window.__ZK_CONFIG__`): an empty
server means "the API is where this page came from", None means "ask on the Connect screen".
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ainimal_zookeeper.api.browser_guards import BrowserGuard, BrowserPolicy, HostAllowList

__all__ = ["STATIC_DIR", "client_app", "client_page", "client_routes", "is_built"]

STATIC_DIR = Path(str(resources.files("ainimal_zookeeper.client") / "static"))
_CONFIG_MARK = "<!--zk-config-->"
#: The page and the service worker must be revalidated, or an installed app never updates.
_NO_CACHE = {"Cache-Control": "no-cache"}
_ICON_CACHE = {"Cache-Control": "public, max-age=86400"}
_MEDIA_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}

_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>AInimal Zookeeper</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 40rem }</style></head>
<body>
<h1>AInimal Zookeeper</h1>
<p>The web client is not built in this installation. From a source checkout, run
<code>make client</code> (needs Node.js 20.19 or newer) and reload; <code>make run</code> does it for you.</p>
<p>The GraphQL API is at <a href="graphql">graphql</a>.</p></body></html>"""


def is_built() -> bool:
    """Whether the built client is there (`make client` writes it)."""
    return (STATIC_DIR / "index.html").is_file()


def client_page(server: str | None = "") -> str:
    """The client's HTML with its connection details.

    Args:
        server: the API's origin for the client to use; "" (default) for the origin the page is
            served from (the server's own `--client`), None to ask the user.

    Returns:
        The page; a short "not built" page when the client has not been built.
    """
    if not is_built():
        return _NOT_BUILT
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # "<" escaped so that no value can close the script element.
    config = json.dumps({"server": server}).replace("<", "\\u003c")
    return page.replace(_CONFIG_MARK, f"<script>window.__ZK_CONFIG__ = {config};</script>", 1)


#: Inline script and style elements of a page (the build inlines the app's script and styles).
_INLINE = re.compile(r"<(script|style)(\s[^>]*)?>(.*?)</\1>", re.S | re.I)
#: Google Identity Services, loaded by the Sign-in screen when the server offers Google sign-in.
_GOOGLE = "https://accounts.google.com/gsi/"
#: The service worker fetches only its own origin's shell files.
_WORKER_POLICY = "default-src 'self'; frame-ancestors 'none'"


@functools.lru_cache(maxsize=8)
def page_policy(page: str) -> str:
    """The page's Content-Security-Policy: its own inline scripts and styles by hash, nothing inline else.

    A script injected into the page (say, through a value it displays) then does not run, and
    the token the client keeps cannot be read by one. `connect-src` allows any http(s) server:
    the standalone client connects to the server its user names.
    """
    scripts: list[str] = []
    styles: list[str] = []
    for tag, attributes, body in _INLINE.findall(page):
        if "src=" in (attributes or "") or "application/json" in (attributes or ""):
            continue  # an external script is covered by script-src; JSON data is never run
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        (scripts if tag.lower() == "script" else styles).append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *scripts, f"{_GOOGLE}client"]),
            " ".join(["style-src 'self'", *styles, f"{_GOOGLE}style"]),
            "img-src 'self' data: blob:",
            "connect-src 'self' http: https:",
            f"frame-src {_GOOGLE}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def client_routes(server: str | None = "") -> list[BaseRoute]:
    """Starlette routes for the page, `/client-config.json`, the manifest, service worker and icons.

    Mount them at the root of an app that serves the API (same origin: `server=""`) or on their
    own (`server=None`: the user enters the server's URL).
    """

    async def index(_request: Request) -> Response:
        page = client_page(server)
        return HTMLResponse(page, headers={**_NO_CACHE, "Content-Security-Policy": page_policy(page)})

    async def config(_request: Request) -> Response:
        return JSONResponse({"server": server}, headers=_NO_CACHE)

    async def manifest(_request: Request) -> Response:
        return _file("manifest.webmanifest", "application/manifest+json", _NO_CACHE)

    async def worker(_request: Request) -> Response:
        return _file("sw.js", "text/javascript", {**_NO_CACHE, "Content-Security-Policy": _WORKER_POLICY})

    async def icon(request: Request) -> Response:
        name = request.path_params["name"]
        suffix = Path(name).suffix
        if "/" in name or "\\" in name or name.startswith(".") or suffix not in _MEDIA_TYPES:
            return _not_found()
        return _file(f"icons/{name}", _MEDIA_TYPES[suffix], _ICON_CACHE)

    return [
        Route("/", index),
        Route("/index.html", index),
        Route("/client-config.json", config),
        Route("/manifest.webmanifest", manifest),
        Route("/sw.js", worker),
        Route("/icons/{name}", icon),
    ]


def client_app(server: str | None = None) -> Starlette:
    """The client alone, as an ASGI app (what `python -m ainimal_zookeeper.client` serves).

    Its files are public and it has no API, so any Host may ask; the security headers apply.
    """
    guard = Middleware(BrowserGuard, policy=BrowserPolicy(HostAllowList(["*"])))
    return Starlette(routes=client_routes(server), middleware=[guard])


def _file(relative: str, media_type: str, headers: dict[str, str]) -> Response:
    path = STATIC_DIR / relative
    if not path.is_file():
        return _not_found()
    return FileResponse(path, media_type=media_type, headers=headers)


def _not_found() -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)
