"""Hostile documents are cheap to refuse: limits while parsing, cheap rules before costly ones,
parsing off the event loop with a bounded queue, and JSON nesting bounded before parsing."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from graphql import build_schema, specified_rules
from graphql.validation import ASTValidationRule

from ainimal_zookeeper.api.errors import format_error
from ainimal_zookeeper.api.executor import DocumentCache, DocumentsBusy, Executor, GraphQLRequest
from ainimal_zookeeper.api.http_common import load_json

SCHEMA = build_schema("type Query { hello: String, items: [Item] } type Item { name: String }")


def spy_rules() -> tuple[list[type[ASTValidationRule]], list[str]]:
    """graphql-core's rules plus one that notes each document it sees."""
    seen: list[str] = []

    class Spy(ASTValidationRule):
        def enter_document(self, *_args):
            seen.append("validated")

    return [*specified_rules, Spy], seen


def test_a_document_over_the_token_limit_stops_the_parser_and_says_what_to_do():
    cache = DocumentCache(SCHEMA, max_tokens=100)
    prepared = cache.prepare("{" + " items { name }" * 5000 + "}")
    (error,) = prepared.errors
    assert "more than 100 tokens" in error.message and "split the request" in error.message
    assert format_error(error)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert cache.prepare("{" + " hello" * 5 + "}").document is not None  # under the limit


def test_comments_and_length_are_limited_while_parsing_too():
    cache = DocumentCache(SCHEMA)
    assert "comments" in cache.prepare("{ hello }\n" + "# padding\n" * 600).errors[0].message
    assert "100000" in cache.prepare("{ hello }" + " " * 100_000).errors[0].message


@pytest.mark.parametrize(
    "document, expected",
    [
        ("{" + " items { name }" * 6 + "}", "asked more than 5 times"),
        ("{" + " ... on Query { items { name } }" * 6 + "}", "asked more than 5 times"),
        (
            "{"
            + "".join(f" ...F{i}" for i in range(51))
            + "}"
            + "".join(f" fragment F{i} on Query {{ hello }}" for i in range(51)),
            "51 fragments",
        ),
        ("{" + "".join(f" a{i}: hello" for i in range(31)) + "}", "more than 30 aliases"),
    ],
    ids=["repeated fields", "repeated through inline fragments", "fragments", "aliases"],
)
def test_the_cheap_limits_refuse_before_graphql_cores_costly_rules_run(document, expected):
    rules, seen = spy_rules()
    prepared = DocumentCache(SCHEMA, rules=rules).prepare(document)
    assert prepared.document is None and expected in prepared.errors[0].message
    assert seen == []  # graphql-core's rules (fields-can-merge is quadratic) never saw it


def test_an_accepted_document_passes_both_and_is_cached_while_a_refused_one_is_not():
    rules, seen = spy_rules()
    cache = DocumentCache(SCHEMA, rules=rules)
    assert cache.prepare("{ items { name } hello }").document is not None
    assert cache.prepare("{ items { name } hello }").document is not None
    assert seen == ["validated"] and len(cache) == 1
    assert cache.prepare("{ nope }").document is None and len(cache) == 1


def test_validation_stops_after_ten_errors():
    prepared = DocumentCache(SCHEMA).prepare("{" + "".join(f" nope{i}" for i in range(50)) + "}")
    assert len(prepared.errors) == 11 and "aborted" in prepared.errors[-1].message


class BlockingCache(DocumentCache):
    """Prepares documents only once `release` is set (a slow document)."""

    def __init__(self) -> None:
        super().__init__(SCHEMA)
        self.release = threading.Event()

    def prepare(self, query):
        if query != "{ hello }":
            assert self.release.wait(10)
        return super().prepare(query)


def test_documents_are_prepared_off_the_event_loop_and_a_full_queue_is_busy():
    async def scenario():
        executor = Executor(SCHEMA, preparing=1, waiting=2)
        executor.cache = BlockingCache()
        await executor.prepare(GraphQLRequest("{ hello }"))  # cached from now on
        slow = [
            asyncio.create_task(executor.prepare(GraphQLRequest(f"{{ items {{ name }} n{i}: hello }}")))
            for i in range(2)
        ]
        await asyncio.sleep(0.05)
        # The loop is free while slow documents are parsed: a cached one is answered at once.
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.001)
            ticks += 1
        cached = await asyncio.wait_for(executor.prepare(GraphQLRequest("{ hello }")), 1)
        assert cached.document is not None and ticks == 5
        with pytest.raises(DocumentsBusy, match="busy reading 2 other"):
            await executor.prepare(GraphQLRequest("{ items { name } }"))
        executor.cache.release.set()
        done = await asyncio.gather(*slow)
        assert all(p.document is not None for p in done)
        # The queue drained: documents are accepted again.
        assert (await executor.prepare(GraphQLRequest("{ items { name } }"))).document is not None

    asyncio.run(scenario())


class TestJsonNesting:
    def test_nesting_up_to_the_limit_is_read(self):
        value: object = []
        for _ in range(63):
            value = [value]
        assert load_json("[" * 64 + "]" * 64) == value

    @pytest.mark.parametrize(
        "deep", ["[" * 65 + "]" * 65, '{"a":' * 65 + "1" + "}" * 65, "[" * 200_000 + "]" * 200_000]
    )
    def test_deeper_nesting_is_refused_before_parsing_with_the_limit(self, deep):
        with pytest.raises(ValueError, match="nest more than 64 levels deep"):
            load_json(deep)

    def test_brackets_inside_strings_do_not_count(self):
        value = {"s": "[" * 500 + '\\"{' * 100, "wide": [[1]] * 1000}

        assert load_json(json.dumps(value)) == value

    def test_malformed_json_is_still_a_value_error(self):
        with pytest.raises(ValueError):
            load_json("[" * 100 + "]" * 99)
        with pytest.raises(ValueError):
            load_json(b"{not json")
