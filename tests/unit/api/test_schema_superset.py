"""The served schema keeps every type, field and argument of the core API, with compatible types.

Compared with the core schema in this repository always, and with the shared API schema kept
beside the repository (`<repo>/../shared/api/schema.graphql`) when that file is present.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)
from graphql.pyutils import Undefined

from ainimal_zookeeper.api.schema import build_executable_schema

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_SCHEMA = REPO_ROOT.parent / "shared" / "api" / "schema.graphql"


def _output_compatible(reference, served) -> bool:
    """A client reading `reference` can read `served` (served may be stricter: non-null where nullable)."""
    if isinstance(served, GraphQLNonNull):
        inner = reference.of_type if isinstance(reference, GraphQLNonNull) else reference
        return _output_compatible(inner, served.of_type)
    if isinstance(reference, GraphQLNonNull):
        return False
    if isinstance(reference, GraphQLList) or isinstance(served, GraphQLList):
        both = isinstance(reference, GraphQLList) and isinstance(served, GraphQLList)
        return both and _output_compatible(reference.of_type, served.of_type)
    return reference.name == served.name


def _input_compatible(reference, served) -> bool:
    """What a client sends for `reference` is accepted by `served` (served may be looser: nullable)."""
    if isinstance(reference, GraphQLNonNull):
        inner = served.of_type if isinstance(served, GraphQLNonNull) else served
        return _input_compatible(reference.of_type, inner)
    if isinstance(served, GraphQLNonNull):
        return False
    if isinstance(reference, GraphQLList) or isinstance(served, GraphQLList):
        both = isinstance(reference, GraphQLList) and isinstance(served, GraphQLList)
        return both and _input_compatible(reference.of_type, served.of_type)
    return reference.name == served.name


def _required(arg_or_field) -> bool:
    """A client that does not know it cannot leave it out: non-null without a default."""
    return isinstance(arg_or_field.type, GraphQLNonNull) and arg_or_field.default_value is Undefined


def missing_from(served: GraphQLSchema, reference: GraphQLSchema) -> list[str]:
    """Everything `reference` declares that `served` lacks or serves with an incompatible type."""
    problems: list[str] = []
    for name, ref_type in reference.type_map.items():
        if name.startswith("__"):
            continue
        got = served.type_map.get(name)
        if got is None:
            problems.append(f"type {name} is missing")
            continue
        if type(got) is not type(ref_type):
            problems.append(f"type {name} is a {type(got).__name__}, expected a {type(ref_type).__name__}")
            continue
        if isinstance(ref_type, (GraphQLObjectType, GraphQLInterfaceType)):
            problems += _compare_fields(name, ref_type, got)
            missing = {i.name for i in ref_type.interfaces} - {i.name for i in got.interfaces}
            problems += [f"type {name} does not implement {i}" for i in sorted(missing)]
        elif isinstance(ref_type, GraphQLInputObjectType):
            for field_name, field in ref_type.fields.items():
                served_field = got.fields.get(field_name)
                if served_field is None:
                    problems.append(f"input field {name}.{field_name} is missing")
                elif not _input_compatible(field.type, served_field.type):
                    problems.append(f"input field {name}.{field_name} is {served_field.type}, expected {field.type}")
            problems += [
                f"input field {name}.{f} is required but unknown to the reference"
                for f, served_field in got.fields.items()
                if f not in ref_type.fields and _required(served_field)
            ]
        elif isinstance(ref_type, GraphQLEnumType):
            problems += [f"enum value {name}.{v} is missing" for v in ref_type.values if v not in got.values]
        elif isinstance(ref_type, GraphQLUnionType):
            members = {t.name for t in got.types}
            problems += [f"union {name} lacks member {t.name}" for t in ref_type.types if t.name not in members]
    for root in ("query_type", "mutation_type", "subscription_type"):
        ref_root, served_root = getattr(reference, root), getattr(served, root)
        if ref_root is not None and (served_root is None or served_root.name != ref_root.name):
            problems.append(f"root {root} should be {ref_root.name}")
    return problems


def _compare_fields(name: str, reference, served) -> list[str]:
    problems = []
    for field_name, field in reference.fields.items():
        served_field = served.fields.get(field_name)
        if served_field is None:
            problems.append(f"field {name}.{field_name} is missing")
            continue
        if not _output_compatible(field.type, served_field.type):
            problems.append(f"field {name}.{field_name} is {served_field.type}, expected {field.type}")
        for arg_name, arg in field.args.items():
            served_arg = served_field.args.get(arg_name)
            if served_arg is None:
                problems.append(f"argument {name}.{field_name}({arg_name}) is missing")
            elif not _input_compatible(arg.type, served_arg.type):
                problems.append(f"argument {name}.{field_name}({arg_name}) is {served_arg.type}, expected {arg.type}")
        problems += [
            f"argument {name}.{field_name}({a}) is required but unknown to the reference"
            for a, served_arg in served_field.args.items()
            if a not in field.args and _required(served_arg)
        ]
    return problems


def _core_schema() -> GraphQLSchema:
    return build_schema((resources.files("ainimal_zookeeper.api") / "core.graphql").read_text())


def test_the_served_schema_keeps_every_core_name_of_the_shared_api():
    schema = build_executable_schema()
    core = _core_schema()
    for name, graphql_type in core.type_map.items():
        if name.startswith("__") or not hasattr(graphql_type, "fields"):
            continue
        served = schema.type_map[name]
        assert set(graphql_type.fields) <= set(served.fields), name
    assert schema.mutation_type.fields["launch"].args["input"].type.of_type.name == "LaunchInput"


def test_the_served_schema_is_a_compatible_superset_of_the_core_schema_in_the_repository():
    assert missing_from(build_executable_schema(), _core_schema()) == []


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason=f"no shared API schema at {SHARED_SCHEMA}")
def test_the_served_schema_is_a_compatible_superset_of_the_shared_api_schema_when_present():
    assert missing_from(build_executable_schema(), build_schema(SHARED_SCHEMA.read_text())) == []


def test_the_comparison_finds_what_a_served_schema_drops_or_changes():
    reference = build_schema(
        """
        enum Color { RED GREEN }
        input Filter { name: String! }
        type Thing { id: ID!, tags: [String!]!, color: Color, size(unit: String): Int }
        type Query { thing(id: ID!): Thing, things(filter: Filter): [Thing!]! }
        """
    )
    assert missing_from(reference, reference) == []
    looser_inputs_stricter_outputs = build_schema(
        """
        enum Color { RED GREEN BLUE }
        input Filter { name: String, kind: String = "x" }
        type Thing { id: ID!, tags: [String!]!, color: Color!, size(unit: String, round: Boolean): Int, more: Int }
        type Query { thing(id: ID): Thing, things(filter: Filter, limit: Int = 10): [Thing!]! }
        """
    )
    assert missing_from(looser_inputs_stricter_outputs, reference) == []
    broken = build_schema(
        """
        enum Color { RED }
        input Filter { name: Int!, kind: String! }
        type Thing { id: ID, tags: [String!]!, color: Color, size(units: String, round: Boolean!): Int }
        type Query { thing(id: ID!): Thing }
        """
    )
    assert sorted(missing_from(broken, reference)) == sorted(
        [
            "enum value Color.GREEN is missing",
            "input field Filter.name is Int!, expected String!",
            "input field Filter.kind is required but unknown to the reference",
            "field Thing.id is ID, expected ID!",
            "argument Thing.size(unit) is missing",
            "argument Thing.size(round) is required but unknown to the reference",
            "field Query.things is missing",
        ]
    )
