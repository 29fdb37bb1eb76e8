"""Build the executable GraphQL schema: the core SDL, our extensions, and the resolvers."""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import GraphQLObjectType, GraphQLSchema, build_schema, extend_schema, parse

from ainimal_zookeeper.api.arguments import check_arguments
from ainimal_zookeeper.api.resolvers import RESOLVERS, SUBSCRIPTIONS


def schema_sdl() -> str:
    """The full SDL: the core schema shared with clients, then this server's additions."""
    folder = resources.files("ainimal_zookeeper.api")
    return (folder / "core.graphql").read_text() + "\n" + (folder / "extensions.graphql").read_text()


@cache
def build_executable_schema() -> GraphQLSchema:
    """The schema with resolvers bound; built once per process."""
    folder = resources.files("ainimal_zookeeper.api")
    schema = build_schema((folder / "core.graphql").read_text())
    schema = extend_schema(schema, parse((folder / "extensions.graphql").read_text()))
    for type_name, fields in RESOLVERS.items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, resolver in fields.items():
            graphql_type.fields[field_name].resolve = resolver
    subscription = schema.subscription_type
    assert subscription is not None
    for field_name, (source, payload) in SUBSCRIPTIONS.items():
        subscription.fields[field_name].subscribe = source
        subscription.fields[field_name].resolve = payload
    check_arguments(schema)
    return schema
