"""Request limits: tokens, depth, aliases, fields and cost, measured without expanding fragments.

A query's size is measured on its syntax tree with each fragment measured once and its
figures reused wherever it is spread (`measure`), so ten fragments that each spread the
previous one ten times cost ten small walks, not 10^10. The figures are:

- depth: the deepest field nesting (fragments add no level of their own; an introspection
  field counts one level);
- aliases: aliased fields, counted as often as they would be executed;
- fields: field selections after expanding fragments (graphql-core's overlap check
  compares fields pairwise, so this bounds validation time);
- cost: every field counts 1, times the size of each list it sits in: a field with a
  `first` (or `last`) argument multiplies what is under it by that number, taken from the
  literal, the request's variables or the argument's default; any other list counts as
  `LIST_COST`. A connection's `edges` and `nodes` are the list its `first` already counted.

Depth, aliases and fields are graphql-core validation rules (`depth_rule`, `alias_rule`,
`fields_rule`); cost depends on the variables, so it is `cost_of(...)` checked per request.
`RequestLimits` runs them before the standard rules, so a query over budget is refused
after one linear walk (well under a millisecond for the largest document the token limit
lets through), puts the cost in the response's `extensions`, and caches parsing and
standard validation per query text (Strawberry validates a text the first time, with the
standard rules and its own; later requests reuse the result).

Tokens are graphql-core's parser limit (`max_tokens`, comments included); a parse that
stops there is told from bad syntax by where it stopped (`_stopped_at_token_limit`) and
answered with the limit's code.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    parse,
    validate,
)
from graphql.language import Lexer, Source, TokenKind, Visitor
from strawberry.extensions import SchemaExtension

from schema.errors import TOO_COMPLEX

_CACHE_SIZE = 512  # distinct query texts (and their validations) kept
LIST_COST = 10  # what a list without a size argument counts for
MAX_LIST_SIZE = 1_000_000  # a larger `first` counts as this (the field refuses it anyway)
_SIZE_ARGS = ("first", "last")
_CONNECTION_LISTS = ("edges", "nodes")

# the same query text, with the same options, gives the same document object
_parse: Callable[..., DocumentNode] = functools.lru_cache(maxsize=_CACHE_SIZE)(parse)


@dataclasses.dataclass(frozen=True, slots=True)
class Figures:
    depth: int
    aliases: int
    fields: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Size:
    """How many times a field's selection runs: a fixed number or a variable's value."""

    fixed: int
    variable: str | None = None
    default: int = 0  # the variable's default when the request does not give it


@dataclasses.dataclass(slots=True)
class _Shape:
    """A selection set measured once: figures, plus its cost as a small expression."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    # cost = constant + sum(size(s) * inner.cost(...)) over `scaled`
    constant: int = 0
    scaled: list[tuple[_Size, _Shape]] = dataclasses.field(default_factory=list)
    spreads: list[_Shape] = dataclasses.field(default_factory=list)

    def cost(self, variables: Mapping[str, Any], memo: dict[int, int]) -> int:
        key = id(self)
        known = memo.get(key)
        if known is not None:
            return known
        memo[key] = 0  # a fragment cycle (refused by the standard rules) adds nothing
        total = self.constant
        for size, inner in self.scaled:
            total += _resolve(size, variables) * inner.cost(variables, memo)
        for spread in self.spreads:
            total += spread.cost(variables, memo)
        memo[key] = total
        return total


def _resolve(size: _Size, variables: Mapping[str, Any]) -> int:
    if size.variable is None:
        return size.fixed
    value = variables.get(size.variable, size.default)
    if not isinstance(value, int) or isinstance(value, bool):
        return size.default
    return max(0, min(value, MAX_LIST_SIZE))


class _Measure:
    """Measures a document's operations, each fragment once (see the module doc)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Shape] = {}
        self.open: set[str] = set()
        self.defaults: dict[str, int] = {}

    def operation(self, operation: OperationDefinitionNode) -> _Shape:
        self.defaults = {
            v.variable.name.value: int(v.default_value.value)
            for v in operation.variable_definitions or ()
            if isinstance(v.default_value, IntValueNode)
        }
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        return self.selection_set(operation.selection_set, root)

    def fragment(self, name: str) -> _Shape:
        shape = self.measured.get(name)
        if shape is not None:
            return shape
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return _Shape()  # unknown or cyclic: the standard rules say so
        self.open.add(name)
        type_ = self.schema.get_type(definition.type_condition.name.value)
        # fragments are measured with the defaults of the operation that meets them first;
        # an operation's defaults only matter for variables it declares
        shape = self.selection_set(definition.selection_set, type_)
        self.open.discard(name)
        self.measured[name] = shape
        return shape

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> _Shape:
        shape = _Shape()
        if selection_set is None:
            return shape
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, shape)
            elif isinstance(selection, FragmentSpreadNode):
                self._join(shape, self.fragment(selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                self._join(shape, self.selection_set(selection.selection_set, type_))
        return shape

    @staticmethod
    def _join(shape: _Shape, inner: _Shape) -> None:
        shape.depth = max(shape.depth, inner.depth)
        shape.aliases += inner.aliases
        shape.fields += inner.fields
        shape.spreads.append(inner)

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, shape: _Shape) -> None:
        definition = _field_definition(parent, node.name.value)
        inner_type = get_named_type(definition.type) if definition is not None else None
        inner = self.selection_set(node.selection_set, inner_type)
        # introspection nests deeply by design; graphql-core's MaxIntrospectionDepthRule and
        # the fields limit bound it instead
        introspection = node.name.value.startswith("__")
        shape.depth = max(shape.depth, 1 if introspection else 1 + inner.depth)
        shape.aliases += inner.aliases + (1 if node.alias is not None else 0)
        shape.fields += 1 + inner.fields
        shape.constant += 1
        if node.selection_set is not None:
            shape.scaled.append((self._size(node, definition, parent), inner))

    def _size(
        self, node: FieldNode, definition: GraphQLField | None, parent: GraphQLNamedType | None
    ) -> _Size:
        if definition is None:
            return _Size(1)
        for argument in node.arguments or ():
            if argument.name.value in _SIZE_ARGS:
                value = argument.value
                if isinstance(value, IntValueNode):
                    return _Size(min(int(value.value), MAX_LIST_SIZE))
                if isinstance(value, VariableNode):
                    name = value.name.value
                    return _Size(0, name, self.defaults.get(name, _arg_default(definition)))
        default = _arg_default(definition)
        if default:
            return _Size(default)
        if _is_list(definition) and not (
            node.name.value in _CONNECTION_LISTS and _is_connection(parent)
        ):
            return _Size(LIST_COST)
        return _Size(1)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields is not None else None


def _arg_default(definition: GraphQLField) -> int:
    for name in _SIZE_ARGS:
        argument = definition.args.get(name)
        if argument is not None and isinstance(argument.default_value, int):
            return argument.default_value
    return 0


def _is_list(definition: GraphQLField) -> bool:
    type_ = definition.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(parent: GraphQLNamedType | None) -> bool:
    return parent is not None and parent.name.endswith("Connection")


@dataclasses.dataclass(frozen=True, slots=True)
class Measured:
    figures: Figures
    operations: dict[str | None, _Shape]

    def cost(self, variables: Mapping[str, Any] | None, operation_name: str | None) -> int:
        """The cost of the operation that runs (the dearest one when that is unclear)."""
        variables = variables or {}
        shapes = self.operations
        chosen = [shapes[operation_name]] if operation_name in shapes else list(shapes.values())
        return max((s.cost(variables, {}) for s in chosen), default=0)


def measure(schema: GraphQLSchema, document: DocumentNode) -> Measured:
    """Depth, aliases and fields of the largest operation; per-operation cost expressions."""
    m = _Measure(schema, document)
    operations: dict[str | None, _Shape] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else None
            operations[name] = m.operation(definition)
    shapes = list(operations.values())
    figures = Figures(
        depth=max((s.depth for s in shapes), default=0),
        aliases=max((s.aliases for s in shapes), default=0),
        fields=max((s.fields for s in shapes), default=0),
    )
    return Measured(figures, operations)


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX})


# --- the limits as graphql-core validation rules ----------------------------------------------


def _limit_rule(
    figure: str, limit: int, message: Callable[[int, int], str]
) -> type[ValidationRule]:
    class LimitRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            value = getattr(_measured(self.context.schema, node).figures, figure)
            if value > limit:
                self.report_error(too_complex(message(value, limit)))
            return Visitor.SKIP  # measured without walking the tree node by node

    LimitRule.__name__ = f"Max{figure.capitalize()}Rule"
    return LimitRule


@functools.cache
def depth_rule(limit: int) -> type[ValidationRule]:
    return _limit_rule(
        "depth",
        limit,
        lambda v, n: f"The query is nested {v} levels deep; at most {n} are allowed.",
    )


@functools.cache
def alias_rule(limit: int) -> type[ValidationRule]:
    return _limit_rule(
        "aliases", limit, lambda v, n: f"The query has {v} aliases; at most {n} are allowed."
    )


@functools.cache
def fields_rule(limit: int) -> type[ValidationRule]:
    return _limit_rule(
        "fields",
        limit,
        lambda v, n: (
            f"The query selects {v} fields once fragments are expanded; at most {n} are allowed."
        ),
    )


# (schema, document) by identity -> measured; the objects are kept so that their ids stay theirs
_measures: dict[tuple[int, int], tuple[tuple[GraphQLSchema, DocumentNode], Measured]] = {}


def _measured(schema: GraphQLSchema, document: DocumentNode) -> Measured:
    key = (id(schema), id(document))
    cached = _measures.get(key)
    if cached is not None and cached[0][0] is schema and cached[0][1] is document:
        return cached[1]
    result = measure(schema, document)
    if len(_measures) >= _CACHE_SIZE:
        _measures.clear()
    _measures[key] = ((schema, document), result)
    return result


# (schema, document, rules) by identity -> ((schema, document), errors)
_Key = tuple[int, int, tuple[type[ASTValidationRule], ...]]
_validated: dict[_Key, tuple[tuple[GraphQLSchema, DocumentNode], list[GraphQLError]]] = {}


def _cached(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError] | None:
    cached = _validated.get((id(schema), id(document), rules))
    if cached is not None and cached[0][0] is schema and cached[0][1] is document:
        return cached[1]
    return None


def _cache(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    errors: list[GraphQLError],
) -> None:
    if len(_validated) >= _CACHE_SIZE:
        _validated.clear()
    _validated[(id(schema), id(document), rules)] = ((schema, document), errors)


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    errors = _cached(schema, document, rules)
    if errors is None:
        errors = validate(schema, document, rules)
        _cache(schema, document, rules, errors)
    return errors


# (schema, document) by identity -> the objects, for documents that passed every rule
# (limits, standard and Strawberry's): schema/prepared.py runs only those
_passed: dict[tuple[int, int], tuple[GraphQLSchema, DocumentNode]] = {}


def _pass(schema: GraphQLSchema, document: DocumentNode) -> None:
    if len(_passed) >= _CACHE_SIZE:
        _passed.clear()
    _passed[(id(schema), id(document))] = (schema, document)


def passed_validation(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """Whether a request with this document has passed every validation rule here."""
    seen = _passed.get((id(schema), id(document)))
    return seen is not None and seen[0] is schema and seen[1] is document


def _parse_within(query: str, options: Mapping[str, Any]) -> DocumentNode:
    """The parsed query; past the token limit, a coded error instead of a syntax error."""
    max_tokens = options.get("max_tokens")
    try:
        return _parse(query, **options)
    except GraphQLSyntaxError as error:
        if max_tokens is not None and _stopped_at_token_limit(query, error, max_tokens):
            raise GraphQLError(
                f"The query has more than {max_tokens} tokens; at most {max_tokens} are allowed.",
                source=error.source,
                positions=error.positions,
                extensions={"code": TOO_COMPLEX},
            ) from error
        raise


def _stopped_at_token_limit(query: str, error: GraphQLSyntaxError, max_tokens: int) -> bool:
    """Whether the parser gave up for the token limit rather than for bad syntax.

    graphql-core enforces the limit as it reads (comments count, and a long run of them is
    cut short), so it stays the one to enforce it; what stopped it is told by where: the
    limit stops it at a well-formed token with `max_tokens` tokens before it, while bad
    syntax stops it at a token already counted, or at text that is no token. Both scans
    below stay within the text the parser has already read.
    """
    if not error.positions:
        return False
    stop = next(iter(error.positions))
    try:
        # a comment is always well formed; the end of the text is no token
        if not query.startswith("#", stop) and (
            Lexer(Source(query[stop:])).advance().kind is TokenKind.EOF
        ):
            return False
        lexer = Lexer(Source(query[:stop]))
        while lexer.advance().kind is not TokenKind.EOF:
            pass
    except GraphQLSyntaxError:
        return False
    # every token before `stop`, comments included, is in the lexer's linked list
    count, token = 0, lexer.token.prev
    while token is not None and token.kind is not TokenKind.SOF:
        count += 1
        token = token.prev
    return count >= max_tokens


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_fields: int
    max_cost: int


def request_cost(
    schema: GraphQLSchema,
    limits: Limits,
    query: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> int | None:
    """What a request will cost, computed as `RequestLimits` does (sharing its caches), before
    it runs: for the HTTP layer to charge it. None when the limits refuse the request anyway
    (its error then comes from validation, as for every request)."""
    try:
        document = _parse_within(query, {"max_tokens": limits.max_tokens})
    except GraphQLError:
        return None
    size_rules = (
        depth_rule(limits.max_depth),
        alias_rule(limits.max_aliases),
        fields_rule(limits.max_fields),
    )
    if _validate(schema, document, size_rules):
        return None
    cost = _measured(schema, document).cost(variables, operation_name)
    return cost if cost <= limits.max_cost else None


class RequestLimits(SchemaExtension):
    """Every limit before the standard rules; cost in `extensions` (see the module doc)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.size_rules = (
            depth_rule(limits.max_depth),
            alias_rule(limits.max_aliases),
            fields_rule(limits.max_fields),
        )
        self.cost: int | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        assert context.query is not None  # Strawberry refuses a request without one first
        context.graphql_document = _parse_within(context.query, context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        schema = context.schema._schema
        errors = _validate(schema, document, self.size_rules)
        if not errors:
            cost = _measured(schema, document).cost(context.variables, context.operation_name)
            self.cost = cost
            if cost > self.limits.max_cost:
                errors = [
                    too_complex(
                        f"The query would cost {cost} points; at most {self.limits.max_cost} are allowed. Ask for fewer items (`first`) or fewer fields."
                    )
                ]
        rules = tuple(context.validation_rules)
        standard = None if errors else _cached(schema, document, rules)
        if errors or standard is not None:
            # Strawberry validates only when no errors were set before it
            context.pre_execution_errors = errors or standard
            yield
            if not errors and not standard and not context.pre_execution_errors:
                _pass(schema, document)
            return
        yield  # Strawberry validates with the standard rules and its own
        _cache(schema, document, rules, list(context.pre_execution_errors or ()))
        if not context.pre_execution_errors:
            _pass(schema, document)

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requestedQueryCost": self.cost, "maximumAvailable": self.limits.max_cost}}
