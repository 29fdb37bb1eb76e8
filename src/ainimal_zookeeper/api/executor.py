"""Execute GraphQL requests with parsed-and-validated documents cached.

Parsing and validating costs about 0.8 ms a query here, which alone caps a process near
560 requests/s; clients send the same few documents over and over, so they are cached.
Validation runs graphql-core's rules plus the depth, alias, cost and operation limits of
`query_limits`, so a document too expensive to run is refused once and never executed.
"""

from __future__ import annotations

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

from ainimal_zookeeper.api.errors import format_error
from ainimal_zookeeper.api.query_limits import limit_rules

MAX_QUERY_BYTES = 100_000


@dataclass(frozen=True)
class PreparedDocument:
    """A parsed document, or the errors that stop it from running."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentCache:
    """A bounded LRU of query text -> prepared document (errors are cached too)."""

    def __init__(
        self, schema: GraphQLSchema, size: int = 512, rules: Sequence[type[ASTValidationRule]] | None = None
    ) -> None:
        """`rules` replace the validation rules: graphql-core's plus the default limits when None."""
        self._schema = schema
        self._size = size
        # graphql-core's validate(rules=...) replaces its own rules, so they are listed too.
        self._rules = list(rules) if rules is not None else [*specified_rules, *limit_rules()]
        self._entries: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, query: str) -> PreparedDocument:
        with self._lock:
            found = self._entries.get(query)
            if found is not None:
                self._entries.move_to_end(query)
                return found
        prepared = self._prepare(query)
        with self._lock:
            self._entries[query] = prepared
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query)
        except GraphQLError as error:
            return PreparedDocument(None, (error,))
        errors = validate(self._schema, document, self._rules)
        return PreparedDocument(None if errors else document, tuple(errors))


@dataclass(frozen=True)
class GraphQLRequest:
    """The parts of a GraphQL-over-HTTP request."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None


class Executor:
    """Runs requests against one schema; knows which operation type a request is."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.cache = DocumentCache(schema)

    def operation_type(self, request: GraphQLRequest) -> OperationType | None:
        """The request's operation type, or None if it cannot run (the errors say why)."""
        prepared = self.cache.prepare(request.query)
        if prepared.document is None:
            return None
        operation = get_operation_ast(prepared.document, request.operation_name)
        return operation.operation if operation else None

    def run(self, request: GraphQLRequest, context: Any) -> tuple[int, dict[str, Any]]:
        """Execute; returns (HTTP status, response body)."""
        prepared = self.cache.prepare(request.query)
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
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_with_retry_after(e) for e in result.errors]
        if result.data is None and any("retryAfter" in e["extensions"] for e in body.get("errors", ())):
            return 429, body  # e.g. too many failed logins: Too Many Requests, and when to retry
        # Variable errors stop execution before any data: that is the client's request at fault.
        return (400 if result.data is None and result.errors else 200), body

    async def subscribe(
        self, request: GraphQLRequest, context: Any
    ) -> AsyncIterator[ExecutionResult] | tuple[int, dict[str, Any]]:
        """Start a subscription: its stream of results, or (HTTP status, body) when it cannot start."""
        prepared = self.cache.prepare(request.query)
        if prepared.document is None:
            return 400, {"errors": [format_error(e) for e in prepared.errors]}
        try:
            result = subscribe(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=request.variables,
                operation_name=request.operation_name,
            )
            if isawaitable(result):
                result = await result
        except GraphQLError as error:
            return 400, {"errors": [format_error(error)]}
        if isinstance(result, ExecutionResult):
            return 400, {"data": result.data, "errors": [format_error(e) for e in result.errors or []]}
        return result


def _with_retry_after(error: GraphQLError) -> dict[str, Any]:
    """The formatted error, plus `extensions.retryAfter` (seconds) for a rate limit that says when."""
    formatted = format_error(error)
    retry_after = getattr(error.original_error, "retry_after", None)
    if isinstance(retry_after, int) and not isinstance(retry_after, bool):
        formatted["extensions"]["retryAfter"] = retry_after
    return formatted
