"""GraphQL validation rules that refuse documents too deep, too wide or too costly to run.

They run with graphql-core's own rules, before any resolver, so an expensive query costs one
validation (cached with the document) and no work:

- depth: nested field levels in any operation, fragments expanded (introspection subtrees,
  `__schema` and `__type`, have their own depth limit and no list multiplier, so GraphiQL's
  standard introspection query passes while the API's own fields keep the strict limits);
- aliases: aliased fields in the document (aliases are how one request asks a field 1000 times);
- cost: every field costs 1, times `list_size` for each list it sits inside, fragments expanded
  (so fragment "bombs" that double at each level are priced at their full expansion);
- operations: operation definitions per document (a document is parsed and validated whole,
  even though one request runs one operation);
- repeats: how often one response name appears in one selection set, and how many fragments a
  document defines: graphql-core's fields-can-merge rule compares such fields pairwise
  (quadratic), so 450 repeated `models { name }` cost it 0.7 s; refused here first, they cost
  a linear pass.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_composite_type,
)
from graphql.validation import ASTValidationRule, ValidationContext

__all__ = ["DEFAULT_LIST_SIZE", "limit_rules"]

#: How many items a list field is assumed to return when pricing a query.
DEFAULT_LIST_SIZE = 10


def limit_rules(
    max_depth: int = 12,
    max_aliases: int = 30,
    max_cost: int = 5000,
    max_operations: int = 5,
    list_size: int = DEFAULT_LIST_SIZE,
    max_introspection_depth: int = 16,
    max_repeats: int = 5,
    max_fragments: int = 50,
) -> list[type[ASTValidationRule]]:
    """Validation rules enforcing the limits; pass them to `validate` after `specified_rules`.

    `validate(schema, document, [*specified_rules, *limit_rules()])`
    """

    class OperationLimit(_OperationCountRule):
        limit = max_operations

    class AliasLimit(_AliasCountRule):
        limit = max_aliases

    class DepthAndCostLimit(_DepthAndCostRule):
        depth_limit = max_depth
        introspection_depth_limit = max_introspection_depth
        cost_limit = max_cost
        list_multiplier = list_size

    class RepeatLimit(_RepeatRule):
        limit = max_repeats
        fragment_limit = max_fragments

    return [OperationLimit, AliasLimit, RepeatLimit, DepthAndCostLimit]


class _RepeatRule(ASTValidationRule):
    limit = 5
    fragment_limit = 50

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        fragments = [d for d in node.definitions if isinstance(d, FragmentDefinitionNode)]
        if len(fragments) > self.fragment_limit:
            self.report_error(
                GraphQLError(
                    f"the document defines {len(fragments)} fragments; at most {self.fragment_limit} are accepted",
                    fragments[self.fragment_limit],
                )
            )

    def enter_selection_set(self, node: SelectionSetNode, _key: Any, parent: Any, *_args: Any) -> None:
        if isinstance(parent, InlineFragmentNode):
            return  # counted with the selection set it sits in
        counts: dict[str, int] = {}
        for selection in _fields_of(node):
            name = (selection.alias or selection.name).value
            counts[name] = counts.get(name, 0) + 1
            if counts[name] == self.limit + 1:
                self.report_error(
                    GraphQLError(
                        f"the field {name!r} is asked more than {self.limit} times in one selection: ask for it once",
                        selection,
                    )
                )


class _OperationCountRule(ASTValidationRule):
    limit = 5

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        operations = [d for d in node.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > self.limit:
            self.report_error(
                GraphQLError(
                    f"the document has {len(operations)} operations; at most {self.limit} are accepted: "
                    "send one operation per request",
                    operations[self.limit],
                )
            )


class _AliasCountRule(ASTValidationRule):
    limit = 30

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._count = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is None:
            return
        self._count += 1
        if self._count == self.limit + 1:
            self.report_error(
                GraphQLError(
                    f"the document uses more than {self.limit} aliases: ask for each field once, or split the request",
                    node,
                )
            )


def _fields_of(node: SelectionSetNode) -> list[FieldNode]:
    """The fields of a selection set, inline fragments flattened (not named fragments: each is
    defined once and the document's fragments are counted)."""
    fields: list[FieldNode] = []
    pending = [node]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
    return fields


class _DepthAndCostRule(ASTValidationRule):
    depth_limit = 12
    introspection_depth_limit = 16
    cost_limit = 5000
    list_multiplier = DEFAULT_LIST_SIZE
    context: ValidationContext

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        root = _root_type(self.context.schema, node.operation)
        size = _Measure(self.context, self.list_multiplier).selection_set(node.selection_set, root, False)
        name = f"operation {node.name.value!r}" if node.name else "the operation"
        if size.depth > self.depth_limit:
            self.report_error(
                GraphQLError(f"{name} is {size.depth} levels deep; at most {self.depth_limit} are accepted", node)
            )
        if size.meta_depth > self.introspection_depth_limit:
            self.report_error(
                GraphQLError(
                    f"{name} asks for introspection {size.meta_depth} levels deep; "
                    f"at most {self.introspection_depth_limit} are accepted",
                    node,
                )
            )
        if size.cost > self.cost_limit:
            self.report_error(
                GraphQLError(
                    f"{name} would cost {size.cost} (each field 1, times {self.list_multiplier} inside each list); "
                    f"at most {self.cost_limit} is accepted: ask for fewer fields or nested lists",
                    node,
                )
            )


def _root_type(schema: GraphQLSchema, operation: OperationType) -> GraphQLObjectType | None:
    if operation == OperationType.QUERY:
        return schema.query_type
    if operation == OperationType.MUTATION:
        return schema.mutation_type
    return schema.subscription_type


class _Size(NamedTuple):
    """Depth of ordinary fields, cost, and depth of introspection (`__schema`, `__type`) subtrees."""

    depth: int = 0
    cost: int = 0
    meta_depth: int = 0

    def beside(self, other: _Size) -> _Size:
        """Two selections side by side: the deeper depth, the summed cost."""
        return _Size(max(self.depth, other.depth), self.cost + other.cost, max(self.meta_depth, other.meta_depth))


class _Measure:
    """Sizes of selection sets, with fragments expanded once each (memoised).

    Introspection is measured apart: the standard introspection query (GraphiQL's) is 15 levels
    deep, with lists of the schema's own, small, types; so its subtrees get their own depth limit
    and no list multiplier, while the fields of the API keep the strict ones.
    """

    def __init__(self, context: ValidationContext, list_size: int) -> None:
        self._context = context
        self._schema = context.schema
        self._list_size = list_size
        self._fragments: dict[tuple[str, bool], _Size] = {}
        self._visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: GraphQLNamedType | None, meta: bool) -> _Size:
        """The size of a selection set under `parent` (None when the type is unknown)."""
        size = _Size()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                size = size.beside(self._field(selection, parent, meta))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._schema.get_type(condition.name.value) if condition else parent
                size = size.beside(self.selection_set(selection.selection_set, target, meta))
            elif isinstance(selection, FragmentSpreadNode):
                size = size.beside(self._fragment(selection.name.value, meta))
        return size

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, meta: bool) -> _Size:
        definition = self._schema.get_field(parent, node.name.value) if is_composite_type(parent) else None  # type: ignore[arg-type]
        field_type: Any = definition.type if definition else None
        meta = meta or node.name.value in ("__schema", "__type")
        multiplier = 1
        while isinstance(field_type, GraphQLNonNull | GraphQLList):
            if isinstance(field_type, GraphQLList) and not meta:
                multiplier *= self._list_size
            field_type = field_type.of_type
        child = self.selection_set(node.selection_set, field_type, meta)
        cost = 1 + multiplier * child.cost
        if meta:
            return _Size(0, cost, 1 + max(child.depth, child.meta_depth))
        return _Size(1 + child.depth, cost, child.meta_depth)

    def _fragment(self, name: str, meta: bool) -> _Size:
        key = (name, meta)
        if key in self._fragments:
            return self._fragments[key]
        fragment = self._context.get_fragment(name)
        if fragment is None or name in self._visiting:
            return _Size()  # unknown fragments and cycles are reported by graphql-core's own rules
        self._visiting.add(name)
        measured = self.selection_set(fragment.selection_set, self._condition(fragment), meta)
        self._visiting.discard(name)
        self._fragments[key] = measured
        return measured

    def _condition(self, fragment: FragmentDefinitionNode) -> GraphQLNamedType | None:
        return self._schema.get_type(fragment.type_condition.name.value)
