"""graphql-sse's single connection mode: one event stream per reservation carries every
operation the client starts on it (a browser on HTTP/1.1 holds six connections per origin).

`PUT /graphql` makes a reservation (201, its token as text); `GET` or `POST` with
`Accept: text/event-stream` and the token (header `X-GraphQL-Event-Stream-Token`, or `?token=`)
opens its one stream; a `POST` with the token and `extensions.operationId` starts an operation
(202, results as `next` {id, payload} events, then `complete` {id}); `DELETE ?operationId=` stops
one. Every request is authenticated and must come from the reservation's viewer (others find no
reservation). A reservation holds a stream slot (`StreamCaps`) and so does each subscription on
it; one not connected within `ttl` seconds, and every one whose stream closes, ends with its
operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from graphql import ExecutionResult

from ainimal_zookeeper.api.sse import KEEP_ALIVE_SECONDS, next_event, result_body
from ainimal_zookeeper.errors import Conflict, LimitReached

__all__ = ["TOKEN_HEADER", "Reservation", "Reservations"]

TOKEN_HEADER = "x-graphql-event-stream-token"
#: How long a reservation waits for its stream to connect.
DEFAULT_RESERVATION_SECONDS = 30.0
#: Operations one reservation may run at once.
MAX_OPERATIONS = 32
#: Longest operation id accepted.
MAX_OPERATION_ID = 128
#: Events waiting for the reader; a full queue makes the operations wait (their sources drop).
QUEUE_EVENTS = 256


class Reservation:
    """One reserved stream: its owner, its queue of events and its running operations."""

    def __init__(self, token: str, owner: Any, release: Callable[[], None]) -> None:
        self.token = token
        self.owner = owner
        self.release = release
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_EVENTS)
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.connected = False
        self.closed = False
        self.expiry: asyncio.TimerHandle | None = None


class Reservations:
    """The open reservations of one server (one event loop)."""

    def __init__(self, ttl: float = DEFAULT_RESERVATION_SECONDS, keep_alive: float = KEEP_ALIVE_SECONDS) -> None:
        self.ttl = ttl
        self.keep_alive = keep_alive
        self._open: dict[str, Reservation] = {}

    def __len__(self) -> int:
        return len(self._open)

    def reserve(self, owner: Any, release: Callable[[], None]) -> Reservation:
        """A new reservation for `owner`, holding the stream slot `release` gives back."""
        token = secrets.token_urlsafe(24)
        reservation = Reservation(token, owner, release)
        self._open[token] = reservation
        reservation.expiry = asyncio.get_running_loop().call_later(self.ttl, self._expire, reservation)
        return reservation

    def find(self, token: str | None, owner: Any) -> Reservation | None:
        """The reservation behind `token` when `owner` made it (others find none)."""
        reservation = self._open.get(token or "")
        return reservation if reservation is not None and reservation.owner == owner else None

    def _expire(self, reservation: Reservation) -> None:
        if not reservation.connected:
            self.close(reservation)

    def close(self, reservation: Reservation) -> None:
        """End a reservation: its operations stop and its slot is given back."""
        if reservation.closed:
            return
        reservation.closed = True
        self._open.pop(reservation.token, None)
        if reservation.expiry is not None:
            reservation.expiry.cancel()
        for task in list(reservation.operations.values()):
            task.cancel()
        reservation.release()

    async def events(self, reservation: Reservation) -> AsyncIterator[str]:
        """The reservation's one stream; closing it ends the reservation.

        Raises:
            Conflict: the reservation's stream is already open.
        """
        if reservation.connected:
            raise Conflict("this reservation's stream is already open: one stream per reservation")
        reservation.connected = True
        if reservation.expiry is not None:
            reservation.expiry.cancel()
        return self._events(reservation)

    async def _events(self, reservation: Reservation) -> AsyncIterator[str]:
        try:
            yield ":\n\n"  # some browsers wait for a first byte before they call the stream open
            while not reservation.closed:
                try:
                    yield await asyncio.wait_for(reservation.queue.get(), self.keep_alive)
                except TimeoutError:
                    yield ":\n\n"
        finally:
            self.close(reservation)

    def start(
        self,
        reservation: Reservation,
        operation_id: str,
        results: AsyncIterator[ExecutionResult] | dict[str, Any],
        release: Callable[[], None] = lambda: None,
    ) -> None:
        """Run an operation on the reservation's stream (`results`: a stream, or one response).

        Raises:
            InvalidInput / Conflict / LimitReached: a bad, repeated or one-too-many operation id.
        """
        if operation_id in reservation.operations:
            release()
            raise Conflict(f"operation {operation_id!r} is already running on this stream: use a new id")
        if len(reservation.operations) >= MAX_OPERATIONS:
            release()
            raise LimitReached(f"this stream already runs {MAX_OPERATIONS} operations: stop one to start another")
        task = asyncio.ensure_future(self._pump(reservation, operation_id, results, release))
        reservation.operations[operation_id] = task

    async def _pump(
        self,
        reservation: Reservation,
        operation_id: str,
        results: AsyncIterator[ExecutionResult] | dict[str, Any],
        release: Callable[[], None],
    ) -> None:
        try:
            if isinstance(results, dict):
                await reservation.queue.put(next_event({"id": operation_id, "payload": results}))
            else:
                async for result in results:
                    payload = result_body(result)
                    await reservation.queue.put(next_event({"id": operation_id, "payload": payload}))
            await reservation.queue.put(_complete(operation_id))
        except asyncio.CancelledError:
            if not reservation.closed:  # stopped by DELETE: the client still hears it completed
                with contextlib.suppress(asyncio.QueueFull):
                    reservation.queue.put_nowait(_complete(operation_id))
            raise
        finally:
            reservation.operations.pop(operation_id, None)
            release()
            close = getattr(results, "aclose", None)
            if close is not None:
                await close()

    def stop(self, reservation: Reservation, operation_id: str) -> None:
        """Stop an operation (nothing happens when it already ended)."""
        task = reservation.operations.pop(operation_id, None)
        if task is not None:
            task.cancel()


def _complete(operation_id: str) -> str:
    return f"event: complete\ndata: {json.dumps({'id': operation_id})}\n\n"
