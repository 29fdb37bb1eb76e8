"""Reading a GraphQL request off HTTP (GraphQL over HTTP: GET query strings, POST JSON bodies).

Everything is checked before it costs anything: the content type, the declared and the actual
body size (read in chunks, stopped at the limit), JSON nesting before parsing, and the shape of
the request (`query`, `variables`, `operationName`, `extensions`).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ainimal_zookeeper.api.executor import MAX_QUERY_BYTES, GraphQLRequest
from ainimal_zookeeper.api.http_common import load_json

__all__ = ["RequestRefused", "read_graphql_request"]


async def read_graphql_request(request: Request, max_body_bytes: int) -> GraphQLRequest:
    """The GraphQL request a GET's query string or a POST's JSON body holds, checked before it is used.

    Raises:
        RequestRefused: the request is malformed or too large (with its HTTP status and code).
    """
    if request.method == "GET":
        params = request.query_params
        return _graphql_request(
            {
                "query": params.get("query"),
                "variables": _json_param(params.get("variables")),
                "operationName": params.get("operationName"),
                "extensions": _json_param(params.get("extensions")),
            }
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise RequestRefused(
            415, f"POST /graphql expects Content-Type application/json, got {content_type or 'none'!r}"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        raise RequestRefused(413, f"request body is {declared} bytes; the limit is {max_body_bytes}", "LIMIT_REACHED")
    body = await _read_limited(request, max_body_bytes)
    try:
        # A large body takes milliseconds to scan and parse: off the event loop.
        payload = load_json(body) if len(body) < 65536 else await run_in_threadpool(load_json, body)
    except ValueError as exc:
        raise RequestRefused(400, f"request body is not valid JSON: {exc}") from exc
    return _graphql_request(payload)


class RequestRefused(Exception):
    """A request refused before it reaches GraphQL: its HTTP status, message and error code."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestRefused(413, f"request body is over the {limit} byte limit", "LIMIT_REACHED")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_param(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return load_json(raw)
    except ValueError as exc:
        raise RequestRefused(400, f"variables is not valid JSON: {exc}") from exc


def _graphql_request(payload: Any) -> GraphQLRequest:
    if not isinstance(payload, dict):
        raise RequestRefused(400, "request body must be a JSON object with a 'query' string")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(400, "request needs a 'query' string holding a GraphQL document")
    if len(query) > MAX_QUERY_BYTES:
        raise RequestRefused(413, f"query is {len(query)} characters; the limit is {MAX_QUERY_BYTES}", "LIMIT_REACHED")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "'variables' must be a JSON object")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefused(400, "'operationName' must be a string")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRefused(400, "'extensions' must be a JSON object")
    return GraphQLRequest(query, variables, operation_name, extensions)
