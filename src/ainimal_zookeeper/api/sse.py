"""GraphQL over Server-Sent Events (graphql-sse's "distinct connections" mode): one `next`
event per result, `complete` at the end, and a comment line as keep-alive.

Errors found before a stream starts (variables that do not fit, an unknown or hidden instance)
are a `next` holding `errors`, then `complete`: an EventSource cannot read a 400's body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from graphql import ExecutionResult

from ainimal_zookeeper.api.errors import format_error
from ainimal_zookeeper.api.executor import is_request_error

KEEP_ALIVE_SECONDS = 15.0
#: Proxies must not buffer the stream, or events arrive in lumps.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: The end of a stream (an empty `data:` so an EventSource's listener fires).
COMPLETE = "event: complete\ndata:\n\n"


def result_body(result: ExecutionResult) -> dict[str, Any]:
    """The GraphQL response for one result (no `data` for a request error: nothing ran)."""
    body: dict[str, Any] = {} if is_request_error(result) else {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(error) for error in result.errors]
    return body


def next_event(body: dict[str, Any]) -> str:
    """A `next` event carrying `body` (a GraphQL response, or graphql-sse's {id, payload})."""
    return f"event: next\ndata: {json.dumps(body, allow_nan=False, default=str)}\n\n"


def _next_event(result: ExecutionResult) -> str:
    return next_event(result_body(result))


async def single_result(body: dict[str, Any]) -> AsyncIterator[str]:
    """A stream of one response: `next`, then `complete`."""
    yield next_event(body)
    yield COMPLETE


async def sse_events(
    results: AsyncIterator[ExecutionResult], keep_alive: float = KEEP_ALIVE_SECONDS
) -> AsyncIterator[str]:
    """The SSE text for a subscription's results; closing it (client gone) closes the stream."""
    pending: asyncio.Future[ExecutionResult] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(results))
            done, _ = await asyncio.wait({pending}, timeout=keep_alive)
            if not done:
                yield ":\n\n"  # keep-alive: proxies close idle connections
                continue
            try:
                result = pending.result()
            except StopAsyncIteration:
                break
            pending = None
            yield _next_event(result)
        yield COMPLETE
    finally:
        # A client that goes away cancels this generator (through anyio's cancel scope, which
        # cancels every await here again): shielded, the pending read ends first, then the
        # subscription closes. Closing it while that read still ran raised "aclose(): asynchronous
        # generator is already running", logged as an ASGI error for every closed stream.
        with anyio.CancelScope(shield=True):
            if pending is not None and not pending.done():
                pending.cancel()
                await asyncio.wait({pending})
            close = getattr(results, "aclose", None)
            if close is not None:
                await close()
