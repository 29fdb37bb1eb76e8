"""Turn errors into GraphQL error entries: our exceptions keep their message and get a code;
anything else is logged and reported without a traceback."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from ainimal_zookeeper.errors import ZookeeperError

log = logging.getLogger(__name__)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The JSON entry for one error, with `extensions.code`."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if original is None:
        code = "GRAPHQL_VALIDATION_FAILED" if error.nodes else "GRAPHQL_PARSE_FAILED"
    elif error.path is None:
        # Raised while coercing the request's variables, before any resolver: the client's.
        code = "BAD_USER_INPUT"
    elif isinstance(original, ZookeeperError):
        code = original.code
    else:
        log.error("resolver failed at %s", error.path, exc_info=original)
        formatted["message"] = "internal error: the server logged the details"
        code = "INTERNAL"
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted


def request_error(message: str, code: str = "BAD_REQUEST") -> dict[str, Any]:
    """A response body for a request that never reached execution."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}
