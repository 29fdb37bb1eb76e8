"""What every HTTP route of the API answers alike: refused credentials, and who the client is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from ainimal_zookeeper.api.errors import request_error

__all__ = ["WWW_AUTHENTICATE", "client_address", "unauthenticated_response"]

#: RFC 6750 §3: a 401 names the scheme the client should use.
WWW_AUTHENTICATE = 'Bearer realm="ainimal-zookeeper", error="invalid_token"'


def unauthenticated_response(message: str) -> JSONResponse:
    """401 with a JSON body saying what is wrong with the credentials and how to fix it."""
    return JSONResponse(
        request_error(message, "UNAUTHENTICATED"),
        status_code=401,
        headers={"WWW-Authenticate": WWW_AUTHENTICATE, "Cache-Control": "no-store"},
    )


def client_address(request: Request) -> str | None:
    """The client's address, which login attempts are limited by.

    Behind a proxy this is the proxy unless the server trusts it to forward the client's
    address (uvicorn's `--forwarded-allow-ips`); a spoofable header is never read here.
    """
    return request.client.host if request.client else None
