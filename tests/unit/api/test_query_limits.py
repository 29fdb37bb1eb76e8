"""Query depth, aliases, cost and operation count are bounded before anything runs."""

from __future__ import annotations

import time

import pytest
from graphql import get_introspection_query, parse, specified_rules, validate

from ainimal_zookeeper.api.query_limits import limit_rules
from ainimal_zookeeper.api.schema import build_executable_schema


@pytest.fixture(scope="module")
def schema():
    return build_executable_schema()


def errors(schema, query, **limits):
    return [e.message for e in validate(schema, parse(query), [*specified_rules, *limit_rules(**limits)])]


def nested_parents(levels):
    inner = "id"
    for _ in range(levels):
        inner = f"id parent {{ {inner} }}"
    return f'{{ checkpoint(id: "c") {{ {inner} }} }}'


def test_everyday_client_queries_pass(schema):
    query = """
    query Dashboard {
      me { username roles permissions }
      models { name kind parameters { name type default range choices } inputModalities trainable }
      environments { name kind parameters { name type } }
      instances(status: [RUNNING, PAUSED]) {
        id status mode step episode metrics owner createdAt
        model { name } environment { name }
        checkpoints { id tag step parent { id tag } }
        recordings { id status steps }
        overrides { id target value mode setBy }
      }
    }"""
    assert errors(schema, query) == []


def test_graphiqls_introspection_query_passes(schema):
    assert errors(schema, get_introspection_query(descriptions=True, specified_by_url=True)) == []


def test_a_query_too_deep_is_refused(schema):
    assert errors(schema, nested_parents(10)) == []
    (message,) = errors(schema, nested_parents(11))
    assert message == "the operation is 13 levels deep; at most 12 are accepted"


def test_depth_counts_through_fragments(schema):
    query = (
        'query Deep { checkpoint(id: "c") { ...A } }'
        " fragment A on Checkpoint { parent { ...B } }"
        " fragment B on Checkpoint { parent { parent { parent { id } } } }"
    )
    assert errors(schema, query, max_depth=5) == ["operation 'Deep' is 6 levels deep; at most 5 are accepted"]


def test_deep_introspection_is_refused_too(schema):
    of_type = "name"
    for _ in range(20):
        of_type = f"ofType {{ {of_type} }}"
    (message,) = errors(schema, f'{{ __type(name: "Query") {{ {of_type} }} }}')
    assert "introspection 22 levels deep; at most 16" in message


def test_too_many_aliases_are_refused(schema):
    fields = " ".join(f"a{i}: me {{ username }}" for i in range(31))
    (message,) = errors(schema, f"{{ {fields} }}")
    assert message == "the document uses more than 30 aliases: ask for each field once, or split the request"
    assert errors(schema, f"{{ {' '.join(f'a{i}: me {{ username }}' for i in range(30))} }}") == []


def test_a_costly_query_is_refused_with_its_price(schema):
    wide = "instances { overrides { id target value mode setBy createdAt } checkpoints { id tag step createdAt metrics sizeBytes instance } recordings { id instance streams status steps sizeBytes startedAt stoppedAt } }"
    assert errors(schema, f"{{ {wide} }}") == []
    (message,) = errors(schema, f"{{ a: {wide} b: {wide} c: {wide} }}")
    assert message.startswith("the operation would cost 6") and "at most 5000 is accepted" in message


def test_nested_lists_multiply(schema):
    # 1 (instances) + 10 x (1 (checkpoints) + 10 x 1 (id))
    assert errors(schema, "{ instances { checkpoints { id } } }", max_cost=111) == []
    assert errors(schema, "{ instances { checkpoints { id } } }", max_cost=110) != []


def test_a_fragment_bomb_is_priced_at_its_expansion_quickly(schema):
    fragments = ["fragment F0 on Instance { id step }"]
    fragments += [f"fragment F{i} on Instance {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 40)]
    query = "{ instances { ...F39 } } " + " ".join(fragments)
    started = time.perf_counter()
    found = errors(schema, query)
    assert any("would cost" in message for message in found)
    assert time.perf_counter() - started < 2


def test_too_many_operations_are_refused(schema):
    document = " ".join(f"query Q{i} {{ me {{ username }} }}" for i in range(6))
    (message,) = errors(schema, document)
    assert message == "the document has 6 operations; at most 5 are accepted: send one operation per request"


def test_mutations_and_subscriptions_are_measured_too(schema):
    assert errors(schema, 'mutation { pause(id: "i") { id checkpoints { id } } }', max_cost=5) != []
    assert errors(schema, 'subscription { instanceEvents(id: "i") { kind } }', max_depth=2) == []
    assert errors(schema, 'subscription { instanceEvents(id: "i") { kind } }', max_depth=1) != []


def test_each_limit_is_configurable(schema):
    assert errors(schema, "{ me { username } }", max_depth=1) == [
        "the operation is 2 levels deep; at most 1 are accepted"
    ]
    assert errors(schema, "{ a: me { username } }", max_aliases=0) != []
    assert errors(schema, "query A { me { username } } query B { me { username } }", max_operations=1) != []
