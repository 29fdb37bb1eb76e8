"""Which media type a GraphQL response is written in, from the request's `Accept` header.

GraphQL over HTTP: a client that accepts `application/graphql-response+json` gets it, with
4xx statuses for request errors (the document does not parse or validate, the variables do not
fit) and 200 once execution ran, even with field errors. A legacy client (`application/json`,
`*/*` or no `Accept` at all) gets `application/json` and 200 for every well-formed request,
request errors included: a 4xx in `application/json` could come from any proxy on the way, so
those clients only trust a 200. `text/event-stream` is graphql-sse's distinct connections mode.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

__all__ = ["EVENT_STREAM", "GRAPHQL_RESPONSE", "JSON", "acceptable", "graphql_json_response"]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
EVENT_STREAM = "text/event-stream"
#: Most media ranges read from one Accept header (a hostile header may list thousands).
_MAX_RANGES = 32


def acceptable(accept: str | None) -> list[str]:
    """The media types we serve that `accept` allows, most preferred first.

    No header means `application/json`; `*/*` and `application/*` mean `application/json` too
    (what legacy clients and browsers send). Higher `q` wins; at equal `q`, the order listed.
    An empty list: nothing we serve is acceptable (406).
    """
    if accept is None or not accept.strip():
        return [JSON]
    ranked: dict[str, tuple[float, int]] = {}
    for order, part in enumerate(accept.split(",")[:_MAX_RANGES]):
        name, _, params = part.partition(";")
        media = name.strip().lower()
        quality = _quality(params)
        served = {
            GRAPHQL_RESPONSE: [GRAPHQL_RESPONSE],
            JSON: [JSON],
            EVENT_STREAM: [EVENT_STREAM],
            "application/*": [JSON],
            "*/*": [JSON],
            "text/*": [EVENT_STREAM],
        }.get(media, [])
        for media_type in served:
            best = ranked.get(media_type)
            # A type named outright counts over a wildcard that also matched it.
            if best is None or (quality, -order) > best:
                ranked[media_type] = (quality, -order)
    return [media for media, (quality, _) in sorted(ranked.items(), key=lambda kv: kv[1], reverse=True) if quality > 0]


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return min(1.0, max(0.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def graphql_json_response(
    status: int, body: dict[str, Any], media_type: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A GraphQL response to a well-formed request, with the status its media type calls for.

    `status` is what `application/graphql-response+json` answers (400 for a request error);
    `application/json` answers 200 instead of 400 (deliberate statuses such as 429 with
    Retry-After and 503 stay: they are about the HTTP request, not the document).
    """
    if media_type == JSON and status == 400:
        status = 200
    content_type = f"{GRAPHQL_RESPONSE}; charset=utf-8" if media_type == GRAPHQL_RESPONSE else JSON
    return JSONResponse(body, status_code=status, headers=headers, media_type=content_type)
