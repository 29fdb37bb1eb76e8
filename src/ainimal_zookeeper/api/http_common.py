"""What every HTTP route of the API answers alike: refused credentials, who the client is, and
how a JSON body is read (nesting bounded)."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ainimal_zookeeper.api.errors import request_error
from ainimal_zookeeper.errors import LimitReached

__all__ = [
    "MAX_JSON_DEPTH",
    "WWW_AUTHENTICATE",
    "client_address",
    "limit_response",
    "load_json",
    "unauthenticated_response",
]

#: How deep arrays and objects may nest in a request body or its variables.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_PAIRS = bytes.maketrans(b"[]{}", b"()()")

#: RFC 6750 §3: a 401 names the scheme the client should use.
WWW_AUTHENTICATE = 'Bearer realm="ainimal-zookeeper", error="invalid_token"'


def limit_response(refused: LimitReached) -> JSONResponse:
    """429 with a JSON body saying which cap was reached, and when to try again."""
    return JSONResponse(request_error(str(refused), refused.code), status_code=429, headers={"Retry-After": "1"})


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


def load_json(raw: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of `raw`, refused before parsing when it nests deeper than `max_depth`.

    A deep body would make the parser recurse until the interpreter's limit (an internal
    error); the scan runs in C-speed passes (counts, regular expressions, one replace per level,
    at most `max_depth`) over the body's brackets.

    Raises:
        ValueError: not JSON, or nested too deeply (the message says which and the limit).
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") > max_depth:
        brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", data)).translate(_PAIRS)
        # Each pass removes the innermost pairs: valid JSON is empty after `depth` passes.
        for _ in range(max_depth):
            inner = brackets.replace(b"()", b"")
            if inner == brackets:
                break  # unbalanced: the parser says where
            brackets = inner
        else:
            if brackets:
                raise ValueError(f"arrays and objects nest more than {max_depth} levels deep; flatten the value")
    try:
        return json.loads(data)
    except RecursionError:  # the scan's depth is exact for valid JSON; this is a safety net
        raise ValueError(f"arrays and objects nest more than {max_depth} levels deep") from None
