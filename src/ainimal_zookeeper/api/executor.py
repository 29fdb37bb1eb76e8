"""Execute GraphQL requests with parsed-and-validated documents cached.

Parsing and validating costs about 0.8 ms a query here, which alone caps a process near
560 requests/s; clients send the same few documents over and over, so they are cached.

A document is untrusted input, so it is made cheap to refuse (issue 12):
- its length and token count are limited while it is parsed (the parser stops at the limit);
- the cheap limits of `query_limits` (operations, aliases, repeated fields, depth, cost) run
  before graphql-core's own rules, some of which (fields-can-merge) are quadratic in repeated
  fields, so an expensive document is refused before they see it;
- only accepted documents are cached, and the cache is bounded by an estimate of their bytes:
  distinct refused documents cost their parse and nothing stays behind;
- parsing and validating a document not in the cache runs in a thread, a few at a time
  (`Executor.prepare`), so the event loop keeps answering and streaming meanwhile; when too
  many documents wait, the request is refused with `DocumentsBusy` (HTTP 503, Retry-After).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute_sync,
    parse,
    specified_rules,
    subscribe,
    validate,
)
from graphql.utilities import get_operation_ast
from graphql.validation import ASTValidationRule
from starlette.concurrency import run_in_threadpool

from ainimal_zookeeper.api.errors import format_error
from ainimal_zookeeper.api.query_limits import limit_rules
from ainimal_zookeeper.api.subscription_executor import PerEventMemoExecutor

MAX_QUERY_BYTES = 100_000
#: Tokens a document may hold (comments apart): the web client's largest document has under 100,
#: GraphiQL's introspection query about 200.
MAX_QUERY_TOKENS = 2000
#: Comments a document may hold (each is kept as a token by the parser).
MAX_QUERY_COMMENTS = 500
#: Validation errors reported before validation stops (each may compute "did you mean" hints).
MAX_VALIDATION_ERRORS = 10
#: What the cache of accepted documents may hold, estimated from their text and token counts.
DEFAULT_CACHE_BYTES = 16 << 20
#: Estimated bytes of parsed AST per token (nodes with locations), for the cache's budget.
_BYTES_PER_TOKEN = 600


class DocumentsBusy(Exception):
    """Too many documents wait to be parsed and validated: retry in a moment (HTTP 503)."""

    retry_after = 1


@dataclass(frozen=True)
class PreparedDocument:
    """A parsed document, or the errors that stop it from running."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentCache:
    """Parses and validates documents, and keeps the accepted ones (an LRU bounded by bytes)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        rules: Sequence[type[ASTValidationRule]] | None = None,
        max_tokens: int = MAX_QUERY_TOKENS,
    ) -> None:
        """`rules` replace graphql-core's rules (the limits of `query_limits` always run first)."""
        self._schema = schema
        self.max_bytes = max_bytes
        self._max_tokens = max_tokens
        # Cheap limits first, alone: the costly rules run only on documents they accept.
        self._limits: list[type[ASTValidationRule]] = limit_rules()
        self._rules = list(rules) if rules is not None else list(specified_rules)
        self._entries: OrderedDict[str, tuple[PreparedDocument, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        """The estimated bytes the cached documents hold."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, query: str) -> PreparedDocument | None:
        """The accepted document for `query` when it is cached (cheap: fine on the event loop)."""
        with self._lock:
            found = self._entries.get(query)
            if found is None:
                return None
            self._entries.move_to_end(query)
            return found[0]

    def prepare(self, query: str) -> PreparedDocument:
        """The document for `query`: from the cache, or parsed and validated now (CPU-bound)."""
        found = self.cached(query)
        if found is not None:
            return found
        prepared = self._prepare(query)
        if prepared.document is not None:
            self._keep(query, prepared)
        return prepared

    def _keep(self, query: str, prepared: PreparedDocument) -> None:
        tokens = getattr(prepared.document, "token_count", 0) or 0
        cost = len(query) * 2 + tokens * _BYTES_PER_TOKEN
        if cost > self.max_bytes:
            return
        with self._lock:
            if query in self._entries:
                return
            self._entries[query] = (prepared, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(
                query,
                max_lexical_tokens=self._max_tokens,
                max_comments=MAX_QUERY_COMMENTS,
                max_source_length=MAX_QUERY_BYTES,
            )
        except GraphQLError as error:
            return PreparedDocument(None, (_token_limit_hint(error, self._max_tokens),))
        errors = validate(self._schema, document, self._limits)
        if not errors:
            errors = validate(self._schema, document, self._rules, max_errors=MAX_VALIDATION_ERRORS)
        return PreparedDocument(None if errors else document, tuple(errors))


def _token_limit_hint(error: GraphQLError, limit: int) -> GraphQLError:
    """The parser's token-limit error, saying what to do about it."""
    if f"more than {limit} tokens" in error.message:
        return GraphQLError(
            f"the document has more than {limit} tokens: ask for fewer fields, or split the request",
            source=error.source,
            positions=error.positions,
        )
    return error


@dataclass(frozen=True)
class GraphQLRequest:
    """The parts of a GraphQL-over-HTTP request."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


class Executor:
    """Runs requests against one schema; knows which operation type a request is."""

    def __init__(self, schema: GraphQLSchema, preparing: int = 1, waiting: int = 64) -> None:
        """At most `preparing` documents are parsed at once, and `waiting` more may queue."""
        self.schema = schema
        self.cache = DocumentCache(schema)
        self._preparing = preparing
        self._max_waiting = waiting
        self._waiting = 0
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    async def prepare(self, request: GraphQLRequest) -> PreparedDocument:
        """The request's document, parsed and validated off the event loop unless cached.

        Raises:
            DocumentsBusy: too many documents already wait to be prepared.
        """
        found = self.cache.cached(request.query)
        if found is not None:
            return found
        if self._waiting >= self._max_waiting:
            raise DocumentsBusy(
                f"the server is busy reading {self._waiting} other GraphQL documents: retry in a second"
            )
        self._waiting += 1
        try:
            async with self._semaphore():
                return await run_in_threadpool(self.cache.prepare, request.query)
        finally:
            self._waiting -= 1

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self._preparing), loop
        return self._slots

    @staticmethod
    def operation_of(prepared: PreparedDocument, request: GraphQLRequest) -> OperationType | None:
        """The operation type of a prepared request, or None if it cannot run."""
        if prepared.document is None:
            return None
        operation = get_operation_ast(prepared.document, request.operation_name)
        return operation.operation if operation else None

    def operation_type(self, request: GraphQLRequest) -> OperationType | None:
        """The request's operation type, or None if it cannot run (the errors say why)."""
        return self.operation_of(self.cache.prepare(request.query), request)

    def run(
        self, request: GraphQLRequest, context: Any, prepared: PreparedDocument | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Execute (`prepared`: the request's document, when already prepared); returns (HTTP status, body)."""
        prepared = prepared or self.cache.prepare(request.query)
        if prepared.document is None:
            return 400, {"errors": [format_error(e) for e in prepared.errors]}
        try:
            result = execute_sync(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=request.variables,
                operation_name=request.operation_name,
            )
        except GraphQLError as error:  # variable coercion fails before execution starts
            return 400, {"errors": [format_error(error)]}
        if is_request_error(result):
            # Variables that do not fit or an operation that cannot be chosen: nothing ran, so
            # the response has no `data` (GraphQL over HTTP: a request error).
            return 400, {"errors": [format_error(e) for e in result.errors or ()]}
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_with_retry_after(e) for e in result.errors]
        if result.data is None and any("retryAfter" in e["extensions"] for e in body.get("errors", ())):
            return 429, body  # e.g. too many failed logins: Too Many Requests, and when to retry
        # Execution ran: field errors (an unknown model, a forbidden instance) are a partial result.
        return 200, body

    async def subscribe(
        self, request: GraphQLRequest, context: Any, prepared: PreparedDocument | None = None
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a subscription: its stream of results, or the result saying why it cannot start.

        graphql-sse sends that result inside the stream (a `next`, then `complete`): a document
        that does not validate, variables that do not fit, an instance that is unknown or hidden.
        """
        prepared = prepared or await self.prepare(request)
        if prepared.document is None:
            return ExecutionResult(None, list(prepared.errors))
        try:
            result = subscribe(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=request.variables,
                operation_name=request.operation_name,
                executor_class=PerEventMemoExecutor,
            )
            if isawaitable(result):
                result = await result
        except GraphQLError as error:
            return ExecutionResult(None, [error])
        return result


def is_request_error(result: ExecutionResult) -> bool:
    """Whether `result` failed before execution (no data, and no error has a path).

    Field errors always carry the path of their field; variable coercion and operation
    selection errors carry none.
    """
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


def _with_retry_after(error: GraphQLError) -> dict[str, Any]:
    """The formatted error, plus `extensions.retryAfter` (seconds) for a rate limit that says when."""
    formatted = format_error(error)
    retry_after = getattr(error.original_error, "retry_after", None)
    if isinstance(retry_after, int) and not isinstance(retry_after, bool):
        formatted["extensions"]["retryAfter"] = retry_after
    return formatted
