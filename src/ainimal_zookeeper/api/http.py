"""GraphQL over HTTP: POST /graphql (JSON) and GET /graphql for queries, as a Starlette app.

The same `GraphQLEndpoint.handle` serves the embedded server and the Cloud Function entry point.
Requests are refused before execution when:

- their `Authorization` header is malformed or its token is refused (401, with
  `WWW-Authenticate: Bearer`; no header at all is the anonymous viewer);
- they are too large, not JSON (which also stops CSRF-prone "simple" form posts from running
  mutations), or mutations sent with GET;
- the document is too deep, too wide or too costly (see `query_limits`).

A subscription checks its viewer again every few seconds while it streams, so a revoked
token, a disabled account or a changed role ends it.

Media types and statuses follow GraphQL over HTTP (`media_types`): request errors are 400 in
`application/graphql-response+json` and 200 in `application/json`; execution errors are 200.
Subscriptions are graphql-sse, distinct connections (`sse`) or single connection (PUT, DELETE
and the reservation token: `sse_reservations`). docs/api.md has the whole mapping.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from graphql import ExecutionResult, OperationType
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ainimal_zookeeper.api.browser_guards import LOOPBACK_NAMES, BrowserGuard, BrowserPolicy, HostAllowList
from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.downloads import RecordingDownloads
from ainimal_zookeeper.api.errors import format_error, request_error
from ainimal_zookeeper.api.executor import DocumentsBusy, Executor, GraphQLRequest, PreparedDocument
from ainimal_zookeeper.api.graphql_requests import RequestRefused, read_graphql_request
from ainimal_zookeeper.api.http_common import client_address, limit_response, unauthenticated_response
from ainimal_zookeeper.api.media_types import EVENT_STREAM, GRAPHQL_RESPONSE, JSON, acceptable, graphql_json_response
from ainimal_zookeeper.api.sign_in_routes import SignInRoutes
from ainimal_zookeeper.api.sse import SSE_HEADERS as _SSE_HEADERS
from ainimal_zookeeper.api.sse import result_body, single_result, sse_events
from ainimal_zookeeper.api.sse_reservations import MAX_OPERATION_ID, TOKEN_HEADER, Reservation, Reservations
from ainimal_zookeeper.api.stream_caps import StreamCaps, released_after, request_caps
from ainimal_zookeeper.domain.access import Viewer
from ainimal_zookeeper.errors import Conflict, LimitReached, Unauthenticated
from ainimal_zookeeper.ports.identity import SignIn
from ainimal_zookeeper.service.stream_guard import GuardedStream
from ainimal_zookeeper.service.zookeeper import Zookeeper

if TYPE_CHECKING:
    from ainimal_zookeeper.auth.administration import Administration

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1 << 20
#: Queries and mutations one viewer, and one client address, may have running at once.
DEFAULT_REQUESTS_PER_VIEWER = 16
DEFAULT_REQUESTS_PER_ADDRESS = 64
#: Threads queries and mutations run on, together.
OPERATION_THREADS = 200
#: How often an open subscription checks that its token and roles still hold.
SIGN_IN_RECHECK_SECONDS = 5.0


class GraphQLEndpoint:
    """Reads a request, authenticates it, runs it, and writes the JSON response."""

    def __init__(
        self,
        zookeeper: Zookeeper,
        executor: Executor,
        sign_in: SignIn,
        administration: Administration | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        requests_per_viewer: int = DEFAULT_REQUESTS_PER_VIEWER,
        requests_per_address: int = DEFAULT_REQUESTS_PER_ADDRESS,
    ) -> None:
        """`sign_in` is the authenticator the composition root chose (bootstrap/access.py);
        `requests_per_viewer` / `requests_per_address` cap the operations running at once."""
        self.zookeeper = zookeeper
        self.executor = executor
        self.sign_in = sign_in
        self.administration = administration
        self.max_body_bytes = max_body_bytes
        self.stream_caps = StreamCaps()
        self.request_caps = request_caps(requests_per_viewer, requests_per_address)
        # Operations run on threads of their own, more than anyio's default 40: a client holds
        # at most its caps of them, so it takes several clients at their caps to fill them.
        self._operation_threads = anyio.CapacityLimiter(OPERATION_THREADS)
        self.reservations = Reservations()

    async def authenticate(self, request: Request) -> Viewer:
        """The request's viewer.

        Raises:
            Unauthenticated: a malformed Authorization header or a refused token.
        """
        header = request.headers.get("authorization")
        if not header:
            return self.sign_in.viewer_for(None)  # anonymous (or the local operator): no I/O
        # Checking a token may read the account from the store: off the event loop.
        return await run_in_threadpool(self.sign_in.viewer_for, header)

    async def handle(self, request: Request) -> Response:
        try:
            viewer = await self.authenticate(request)
        except Unauthenticated as exc:
            return unauthenticated_response(str(exc))
        if request.method in ("PUT", "DELETE") or _stream_token(request) is not None:
            return await self._single_connection(request, viewer)
        media = acceptable(request.headers.get("accept"))
        if not media:
            message = f"the response can be {GRAPHQL_RESPONSE}, {JSON} or {EVENT_STREAM}: accept one of them"
            return JSONResponse(request_error(message, "NOT_ACCEPTABLE"), status_code=406)
        try:
            parsed = await read_graphql_request(request, self.max_body_bytes)
        except RequestRefused as refused:
            return JSONResponse(request_error(refused.message, refused.code), status_code=refused.status)
        try:  # parsed and validated off the event loop, unless cached
            prepared = await self.executor.prepare(parsed)
        except DocumentsBusy as busy:
            headers = {"Retry-After": str(busy.retry_after)}
            return JSONResponse(request_error(str(busy), "SERVER_BUSY"), status_code=503, headers=headers)
        operation = self.executor.operation_of(prepared, parsed)
        # graphql-sse: a subscription streams when the client accepts a stream at all; a query
        # or mutation streams only when the stream is what the client prefers.
        streamed = EVENT_STREAM in media and (operation is OperationType.SUBSCRIPTION or media[0] == EVENT_STREAM)
        json_media = next((m for m in media if m != EVENT_STREAM), JSON)
        if prepared.document is None and (not streamed or _unparsed(prepared)):
            body = {"errors": [format_error(e) for e in prepared.errors]}
            if streamed:  # no stream to tell it in: graphql-sse answers a document that does not parse with 400
                return JSONResponse(body, status_code=400)
            return graphql_json_response(400, body, json_media)
        if request.method == "GET" and operation not in (None, OperationType.QUERY):
            message = "only queries may be sent with GET; POST mutations as JSON"
            return JSONResponse(request_error(message), status_code=405, headers={"Allow": "POST"})
        context = RequestContext(viewer, self.zookeeper, self.sign_in, self.administration, client_address(request))
        if operation is OperationType.SUBSCRIPTION or (streamed and prepared.document is None):
            if not streamed:
                message = "subscriptions are served as Server-Sent Events: send the header Accept: text/event-stream"
                return JSONResponse(request_error(message, "NOT_ACCEPTABLE"), status_code=406)
            return await self._subscription(request, viewer, parsed, context, prepared)
        # Mutations wait for workers to confirm and some queries read recordings or ask a worker
        # for a frame: every operation runs off the event loop, which keeps streaming meanwhile.
        try:
            status, body = await self._run_operation(request, viewer, parsed, context, prepared)
        except LimitReached as refused:
            return limit_response(refused)
        if streamed:
            return _event_stream(single_result(body))
        return graphql_json_response(status, body, json_media, _retry_after(body))

    async def _subscription(
        self,
        request: Request,
        viewer: Viewer,
        parsed: GraphQLRequest,
        context: RequestContext,
        prepared: PreparedDocument,
    ) -> Response:
        """A subscription in distinct connections mode: its stream, errors before it started included."""
        try:
            release = self.stream_caps.open_for(request, viewer)
        except LimitReached as full:
            return limit_response(full)
        started = await self.executor.subscribe(parsed, context, prepared)
        if isinstance(started, ExecutionResult):
            release()
            return _event_stream(single_result(result_body(started)))
        results = released_after(self._while_signed_in(started, request.headers.get("authorization"), viewer), release)
        return _event_stream(sse_events(results), BackgroundTask(release))

    async def _single_connection(self, request: Request, viewer: Viewer) -> Response:
        """graphql-sse's single connection mode (see `sse_reservations`)."""
        owner = (viewer, request.headers.get("authorization"))
        if request.method == "PUT":
            try:
                release = self.stream_caps.open_for(request, viewer)
            except LimitReached as full:
                return limit_response(full)
            made = self.reservations.reserve(owner, release)
            return PlainTextResponse(made.token, status_code=201)
        reservation = self.reservations.find(_stream_token(request), owner)
        if reservation is None:
            message = f"no such stream reservation: PUT /graphql for a token, then send it in {TOKEN_HEADER}"
            return JSONResponse(request_error(message, "NOT_FOUND"), status_code=404)
        if request.method == "DELETE":
            operation_id = request.query_params.get("operationId")
            if not operation_id:
                return JSONResponse(request_error("DELETE needs ?operationId=<the operation's id>"), status_code=400)
            self.reservations.stop(reservation, operation_id)
            return Response(status_code=200)
        media = acceptable(request.headers.get("accept"))
        if media and media[0] == EVENT_STREAM:
            try:
                events = await self.reservations.events(reservation)
            except Conflict as taken:
                return JSONResponse(request_error(str(taken), taken.code), status_code=409)
            return _event_stream(events)
        return await self._operation_on(request, viewer, reservation, media[0] if media else JSON)

    async def _operation_on(self, request: Request, viewer: Viewer, reservation: Reservation, media: str) -> Response:
        """Start an operation whose results go to a reservation's stream (202)."""
        try:
            parsed = await read_graphql_request(request, self.max_body_bytes)
        except RequestRefused as refused:
            return JSONResponse(request_error(refused.message, refused.code), status_code=refused.status)
        operation_id = (parsed.extensions or {}).get("operationId")
        if not isinstance(operation_id, str) or not 0 < len(operation_id) <= MAX_OPERATION_ID:
            message = (
                f"send extensions.operationId: a string of 1 to {MAX_OPERATION_ID} characters naming the operation"
            )
            return JSONResponse(request_error(message), status_code=400)
        try:
            prepared = await self.executor.prepare(parsed)
        except DocumentsBusy as busy:
            headers = {"Retry-After": str(busy.retry_after)}
            return JSONResponse(request_error(str(busy), "SERVER_BUSY"), status_code=503, headers=headers)
        if prepared.document is None:
            body = {"errors": [format_error(e) for e in prepared.errors]}
            return graphql_json_response(400, body, media if media != EVENT_STREAM else JSON)
        operation = self.executor.operation_of(prepared, parsed)
        if request.method == "GET" and operation not in (None, OperationType.QUERY):
            message = "only queries may be sent with GET; POST mutations as JSON"
            return JSONResponse(request_error(message), status_code=405, headers={"Allow": "POST"})
        context = RequestContext(viewer, self.zookeeper, self.sign_in, self.administration, client_address(request))
        try:
            if operation is OperationType.SUBSCRIPTION:
                release = self.stream_caps.open_for(request, viewer)
                started = await self.executor.subscribe(parsed, context, prepared)
                if isinstance(started, ExecutionResult):
                    self.reservations.start(reservation, operation_id, result_body(started), release)
                else:
                    guarded = self._while_signed_in(started, request.headers.get("authorization"), viewer)
                    self.reservations.start(reservation, operation_id, guarded, release)
            else:
                _status, body = await self._run_operation(request, viewer, parsed, context, prepared)
                self.reservations.start(reservation, operation_id, body)
        except LimitReached as refused:
            return limit_response(refused)
        except Conflict as refused:
            return JSONResponse(request_error(str(refused), refused.code), status_code=409)
        return Response(status_code=202)

    async def _run_operation(
        self,
        request: Request,
        viewer: Viewer,
        parsed: GraphQLRequest,
        context: RequestContext,
        prepared: PreparedDocument,
    ) -> tuple[int, dict[str, Any]]:
        """Run a query or mutation on an operation thread, within the client's caps.

        Raises:
            LimitReached: the viewer or its address already runs its cap of operations.
        """
        release = self.request_caps.open_for(request, viewer)
        try:
            return await anyio.to_thread.run_sync(
                self.executor.run, parsed, context, prepared, limiter=self._operation_threads
            )
        finally:
            release()  # when the thread is done (a client that went away does not free it sooner)

    def _while_signed_in(
        self, results: AsyncIterator[ExecutionResult], header: str | None, viewer: Viewer
    ) -> AsyncIterator[ExecutionResult]:
        """`results` while the token stays valid and the viewer's roles stay the same."""
        if not header:
            return results  # anonymous: nothing to revoke (what it may watch is checked by the service)

        async def still_signed_in() -> bool:
            try:
                current = await run_in_threadpool(self.sign_in.viewer_for, header)
            except Unauthenticated:
                return False
            return current == viewer  # roles changed: the client subscribes again, under the new ones

        return GuardedStream(results, still_signed_in, SIGN_IN_RECHECK_SECONDS)


def _stream_token(request: Request) -> str | None:
    """graphql-sse's reservation token: its header, or `?token=` (an EventSource sends no headers)."""
    return request.headers.get(TOKEN_HEADER) or request.query_params.get("token")


def _unparsed(prepared: PreparedDocument) -> bool:
    """Whether the document did not even parse (its errors point at no node)."""
    return not any(error.nodes for error in prepared.errors)


def _event_stream(events: AsyncIterator[str], background: BackgroundTask | None = None) -> Response:
    return StreamingResponse(events, media_type=EVENT_STREAM, headers=_SSE_HEADERS, background=background)


def _retry_after(body: dict[str, Any]) -> dict[str, str] | None:
    """A Retry-After header when an error says how long to wait (a login rate limit)."""
    waits = [
        e["extensions"]["retryAfter"] for e in body.get("errors") or () if "retryAfter" in (e.get("extensions") or {})
    ]
    return {"Retry-After": str(max(waits))} if waits else None


def build_http_app(
    endpoint: GraphQLEndpoint,
    client_routes: list[BaseRoute] | None = None,
    cors_origins: list[str] | None = None,
    policy: BrowserPolicy | None = None,
) -> Starlette:
    """The embedded server's ASGI app: /graphql, /recordings/..., /auth/..., /healthz and, with
    the client's routes (its page, manifest, service worker and icons), the web client at /.

    `cors_origins` lets browsers on those origins call the API (a web client served elsewhere):
    bearer tokens, not cookies, so no credentials are allowed cross-origin. `policy` says which
    Host names and page origins are answered (loopback names and same-host pages when None).
    """

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def index(_request: Request) -> Response:
        return JSONResponse({"service": "AInimal Zookeeper", "graphql": "/graphql", "client": "start with --client"})

    downloads = RecordingDownloads(endpoint)
    routes: list[BaseRoute] = [
        # PUT and DELETE: graphql-sse's single connection mode (reserve a stream, stop an operation).
        Route("/graphql", endpoint.handle, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/recordings/{recording_id}/{kind}", downloads.handle),
        *SignInRoutes(endpoint).routes(),
        Route("/healthz", health),
        *(client_routes if client_routes is not None else [Route("/", index)]),
    ]
    # Outermost: a request for a foreign Host or from a foreign page is refused before anything.
    policy = policy or BrowserPolicy(HostAllowList(LOOPBACK_NAMES), cors_origins or ())
    guard = Middleware(BrowserGuard, policy=policy)
    middleware = [guard]
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "Accept", TOKEN_HEADER],
                expose_headers=["Content-Disposition", "Retry-After", "WWW-Authenticate"],
                max_age=600,
            )
        )
    return Starlette(routes=routes, middleware=middleware)
