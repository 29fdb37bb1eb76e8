"""The executor caches prepared documents and shapes errors with codes, never tracebacks."""

from __future__ import annotations

from graphql import build_schema

from ainimal_zookeeper.api.executor import DocumentCache, Executor, GraphQLRequest
from ainimal_zookeeper.errors import NotFound

SCHEMA = build_schema("type Query { hello(name: String!): String, boom: String, missing: String }")
SCHEMA.query_type.fields["hello"].resolve = lambda _root, _info, name: f"hi {name}"


def _raise(exc):
    def resolve(*_args, **_kwargs):
        raise exc

    return resolve


SCHEMA.query_type.fields["boom"].resolve = _raise(RuntimeError("secret internals"))
SCHEMA.query_type.fields["missing"].resolve = _raise(NotFound("unknown thing 'x'"))


def test_the_same_query_text_is_parsed_and_validated_once_and_the_cache_is_bounded_by_bytes():
    first_cost = len('{ hello(name: "a") }') * 2 + 8 * 600  # 8 tokens
    cache = DocumentCache(SCHEMA, max_bytes=first_cost * 2)
    first = cache.prepare('{ hello(name: "a") }')
    assert cache.prepare('{ hello(name: "a") }') is first
    cache.prepare('{ hello(name: "b") }')
    cache.prepare('{ hello(name: "c") }')
    assert cache.prepare('{ hello(name: "a") }') is not first  # evicted: the cache is bounded
    assert cache.size_bytes <= cache.max_bytes


def test_refused_documents_are_never_cached():
    cache = DocumentCache(SCHEMA)
    for n in range(50):
        assert cache.prepare(f"{{ nope{n} }}").document is None
    cache.prepare("{ hello(")
    assert len(cache) == 0 and cache.size_bytes == 0


def test_variables_reach_resolvers_and_data_comes_back():
    status, body = Executor(SCHEMA).run(GraphQLRequest("query($n: String!) { hello(name: $n) }", {"n": "zoo"}), None)
    assert (status, body) == (200, {"data": {"hello": "hi zoo"}})


def test_our_errors_keep_their_message_and_code_and_others_hide_their_internals():
    status, body = Executor(SCHEMA).run(GraphQLRequest('{ missing boom hello(name: "x") }'), None)
    assert status == 200 and body["data"] == {"missing": None, "boom": None, "hello": "hi x"}
    by_path = {e["path"][0]: e for e in body["errors"]}
    assert by_path["missing"]["message"] == "unknown thing 'x'"
    assert by_path["missing"]["extensions"]["code"] == "NOT_FOUND"
    assert "secret" not in by_path["boom"]["message"] and by_path["boom"]["extensions"]["code"] == "INTERNAL"


def test_syntax_and_validation_errors_are_bad_requests():
    executor = Executor(SCHEMA)
    status, body = executor.run(GraphQLRequest("{ hello("), None)
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    status, body = executor.run(GraphQLRequest("{ nope }"), None)
    assert status == 400 and "nope" in body["errors"][0]["message"]
    status, body = executor.run(GraphQLRequest("query($n: String!) { hello(name: $n) }", {}), None)
    assert status == 400 and "$n" in body["errors"][0]["message"]
