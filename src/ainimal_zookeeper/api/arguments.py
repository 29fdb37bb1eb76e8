"""Arguments checked against the schema before a resolver sees them.

GraphQL lets a client send an explicit `null` for an argument that has a default
(`compareRecordings(offset: null)`): the default is then not applied and the resolver gets None
where it counted on a number. An `ID!` may be the empty string, which no record has but which
some services read as "none given". Both are refused here, for every field alike, with the
argument's name, what was expected and the fix (InvalidInput, BAD_USER_INPUT).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    NullValueNode,
    Undefined,
    print_ast,
)

from ainimal_zookeeper.errors import InvalidInput

__all__ = ["check_arguments", "checked"]


def _is_id(argument: GraphQLArgument) -> bool:
    kind = argument.type
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind is GraphQLID


def _default(argument: GraphQLArgument) -> str | None:
    """The argument's default as the SDL writes it; None when it has none (or it is null)."""
    if argument.default_value is not Undefined and argument.default_value is not None:
        return repr(argument.default_value)
    node = argument.ast_node.default_value if argument.ast_node is not None else None
    return None if node is None or isinstance(node, NullValueNode) else print_ast(node)


def _check(field_name: str, arguments: dict[str, GraphQLArgument], kwargs: dict[str, Any]) -> None:
    for name, value in kwargs.items():
        argument = arguments.get(name)
        if argument is None:
            continue
        default = _default(argument)
        if value is None and default is not None:
            raise InvalidInput(
                f"{field_name}: {name} must not be null: give a value, or leave {name} out for its default ({default})"
            )
        if _is_id(argument):
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and not v.strip() for v in values):
                raise InvalidInput(f"{field_name}: {name} is empty: give the id of an existing record")


def checked(field_name: str, field: GraphQLField, resolver: Callable[..., Any]) -> Callable[..., Any]:
    """`resolver`, refusing null-for-default and empty ids before calling it."""
    arguments = dict(field.args)

    @functools.wraps(resolver)
    def resolve(root: Any, info: Any, **kwargs: Any) -> Any:
        _check(field_name, arguments, kwargs)
        return resolver(root, info, **kwargs)

    return resolve


def check_arguments(schema: GraphQLSchema) -> None:
    """Wrap the resolver and subscriber of every field that takes arguments."""
    for graphql_type in schema.type_map.values():
        fields = getattr(graphql_type, "fields", None)
        if graphql_type.name.startswith("__") or not isinstance(fields, dict):
            continue
        for name, field in fields.items():
            if not isinstance(field, GraphQLField) or not field.args:
                continue
            # A subscription's arguments are checked once, when it starts (not on every event).
            if field.resolve is not None and graphql_type is not schema.subscription_type:
                field.resolve = checked(name, field, field.resolve)
            if field.subscribe is not None:
                field.subscribe = checked(name, field, field.subscribe)
