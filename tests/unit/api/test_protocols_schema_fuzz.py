"""Schema-driven fuzzing: any document the schema allows gets an answer, never an internal error.

hypothesis-graphql writes queries and mutations from the served schema (nulls, empty strings,
odd numbers included); each runs in-process against an embedded zoo. Derandomized, so CI sees
the same documents every run.
"""

from __future__ import annotations

import pytest
from graphql import print_ast
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st
from protocols_zoo import embedded_zoo

from ainimal_zookeeper.api.context import RequestContext
from ainimal_zookeeper.api.executor import GraphQLRequest
from ainimal_zookeeper.api.schema import build_executable_schema

SCHEMA = build_executable_schema()
SCALARS = {
    "JSON": st.one_of(st.integers(-5, 5).map(nodes.Int), st.text(max_size=5).map(nodes.String)),
    "DateTime": st.sampled_from(["2026-01-01T00:00:00Z", "", "yesterday"]).map(nodes.String),
}
FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with embedded_zoo(tmp_path_factory.mktemp("protocols-fuzz")) as plane:
        endpoint = plane.endpoint
        context = RequestContext(
            endpoint.sign_in.viewer_for(None), plane.zookeeper, endpoint.sign_in, endpoint.administration, "127.0.0.1"
        )

        def execute(query: str) -> dict:
            status, body = endpoint.executor.run(GraphQLRequest(query), context)
            assert status in (200, 400, 429), (status, body)
            return body

        yield execute


def assert_no_internal_error(query: str, body: dict) -> None:
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL" and "internal error" not in error["message"], (query, error)


@pytest.mark.timeout(120)
def test_no_generated_query_gets_an_internal_error(run):
    @FUZZ
    @given(gql_st.queries(SCHEMA, custom_scalars=SCALARS))
    def check(document):
        query = document if isinstance(document, str) else print_ast(document)
        assert_no_internal_error(query, run(query))

    check()


@pytest.mark.timeout(120)
def test_no_generated_mutation_gets_an_internal_error(run):
    @FUZZ
    @given(gql_st.mutations(SCHEMA, custom_scalars=SCALARS))
    def check(document):
        query = document if isinstance(document, str) else print_ast(document)
        assert_no_internal_error(query, run(query))

    check()
