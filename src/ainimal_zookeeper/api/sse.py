"""GraphQL subscriptions as Server-Sent Events (graphql-sse's "distinct connections" mode):
one `next` event per result, `complete` at the end, and a comment line as keep-alive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from graphql import ExecutionResult

from ainimal_zookeeper.api.errors import format_error

KEEP_ALIVE_SECONDS = 15.0
#: Proxies must not buffer the stream, or events arrive in lumps.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _next_event(result: ExecutionResult) -> str:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(error) for error in result.errors]
    return f"event: next\ndata: {json.dumps(body, allow_nan=False, default=str)}\n\n"


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
        yield "event: complete\ndata:\n\n"
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
