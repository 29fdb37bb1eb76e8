"""Cloud Function entry: serves the zookeeper's GraphQL API through functions-framework.

Deploy: see docs/deploy.md. The app is built once per instance, lazily on the first request
(no work at import time), from the config file named by ZK_CONFIG.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from functions_framework import aio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ainimal_zookeeper.api.browser_guards import SECURITY_HEADERS, refusal_body

if TYPE_CHECKING:
    from ainimal_zookeeper.bootstrap import ControlPlane


@functools.cache
def _app():  # the ControlPlane, built lazily on the first request
    from pathlib import Path

    from ainimal_zookeeper.bootstrap import build_embedded
    from ainimal_zookeeper.config import load_config

    config_path = os.environ.get("ZK_CONFIG")
    if not config_path:
        raise RuntimeError("ZK_CONFIG is not set: point it at the zookeeper's YAML config file")
    data_dir = Path(os.environ.get("ZK_DATA_DIR", "/tmp/zookeeper-data"))
    return build_embedded(load_config(config_path), data_dir)


@functools.cache
def _downloads():  # RecordingDownloads over the same endpoint (and so the same viewers)
    from ainimal_zookeeper.api.downloads import RecordingDownloads

    return RecordingDownloads(_app().endpoint)


@functools.cache
def _sign_in():  # SignInRoutes: the OAuth code flow of GitHub, GitLab, ... over the same endpoint
    from ainimal_zookeeper.api.sign_in_routes import SignInRoutes

    return SignInRoutes(_app().endpoint)


@aio.http
async def graphql(request: Request) -> Response:
    """GraphQL at any path (POST JSON, GET for queries, SSE for subscriptions), recording
    downloads at /recordings/<id>/arrow and /recordings/<id>/minari.zip, and sign-in at
    /auth/<provider>/authorize and /auth/<provider>/callback, as the embedded server."""
    app = _app()
    # As the embedded server's BrowserGuard: the Host allow-list and the Origin check first,
    # the security headers on every answer.
    refused = app.browsers.refusal(request.url.path, request.headers.get("host", ""), request.headers.get("origin"))
    if refused is not None:
        status, message = refused
        return JSONResponse(refusal_body(message), status_code=status)
    response = await _route(app, request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def _route(app: ControlPlane, request: Request) -> Response:
    parts = request.url.path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "recordings":
        request.scope["path_params"] = {"recording_id": parts[1], "kind": parts[2]}
        return await _downloads().handle(request)
    if len(parts) == 3 and parts[0] == "auth" and parts[2] in ("authorize", "callback"):
        request.scope["path_params"] = {"provider": parts[1]}
        routes = _sign_in()
        return await (routes.authorize if parts[2] == "authorize" else routes.callback)(request)
    return await app.endpoint.handle(request)
