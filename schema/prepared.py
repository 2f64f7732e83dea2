"""Prepared operations: known public queries run without Strawberry's execute.

A directory page costs about 1 ms of CPU through `schema.execute`, of which the search and
the compiled selections (schema/execution.py) are a third: the rest is Strawberry's four
extension contexts, graphql-core's `ExecutionContext` (operation lookup, variable
coercion, collecting the root fields) and result building, all redone per request for a
document already parsed and validated.

A `Prepared` operation is worked out once per (query text, operation name) from a
document the limits' caches (schema/limits.py) have seen pass every validation rule: a
query (no mutation, no subscription) whose text has no directive at all (`@skip`,
`@include`, `@defer`: their outcome depends on the variables), whose root fields are each
a plain Strawberry resolver (schema/execution.py's `_plan`: arguments of plain kinds, no
field extensions) and whose sub-selections compile to the leaves. A request then:

- coerces its variables with graphql-core's `get_variable_values`, and each root field's
  arguments with `get_argument_values`, converted as Strawberry converts them;
- calls the root resolvers with Strawberry's `Info` around a resolve info made once and
  given this request's context and variables;
- completes their values with the compiled selections, into `{"data": ...}`, with the
  cost in `extensions` as `RequestLimits` reports it.

Anything else is `Fallback`: variables that do not coerce, an argument that does not fit,
a resolver that raises or returns an awaitable, a value the compiled selections do not
complete (null on a non-null field, a wrong type), a cost over the limit. The caller then
runs the request through `schema.execute` as before; what ran here was a read (queries
only), so running it again changes nothing but the time spent.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path
from strawberry.execution import optimized_is_awaitable

from schema.execution import (
    _C_LEAF,
    _LIST,
    Executor,
    _Compiler,
    _complete_item,
    _Completion,
    _NotCompiled,
    _Plan,
    _plan,
    _plans,
)
from schema.limits import Limits, _measured, _parse_within, passed_validation

_LIMIT = 512  # (query text, operation name) pairs kept


class Fallback(Exception):
    """This request takes the usual path (`schema.execute`)."""


class _Root(NamedTuple):
    response_name: str
    plan: _Plan
    node: Any  # the field's first node: its arguments
    info: Any  # graphql-core's resolve info, but for the request's context and variables
    # the value's completion; for a list, (non-null, the items' completion)
    completion: _Completion | tuple[bool, _Completion]
    is_list: bool


class Prepared:
    """One operation of a validated document, ready to run (see the module doc)."""

    def __init__(
        self,
        schema: Any,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        operation_name: str | None,
        roots: list[_Root],
        max_cost: int,
    ) -> None:
        self.schema = schema
        self.document = document  # kept: the measures are cached by its identity
        self.operation = operation
        self.operation_name = operation_name
        self.variable_definitions = operation.variable_definitions or ()
        self.roots = roots
        self.max_cost = max_cost

    def cost(self, variables: dict[str, Any] | None) -> int:
        return _measured(self.schema, self.document).cost(variables, self.operation_name)

    def run(self, root_value: Any, context: Any, variables: dict[str, Any] | None) -> Any:
        """`data` of this request, or Fallback."""
        coerced = get_variable_values(
            self.schema, self.variable_definitions, variables or {}, max_errors=50
        )
        if isinstance(coerced, list):
            raise Fallback
        data: dict[str, Any] = {}
        is_awaitable = optimized_is_awaitable
        for root in self.roots:
            plan = root.plan
            definition = plan.definition
            assert definition is not None
            kwargs: dict[str, Any] = dict.fromkeys(plan.source_kwargs, root_value)
            try:
                if plan.arguments:
                    values = get_argument_values(plan.field_def, root.node, coerced)
                    for graphql_name, python_name, convert in plan.arguments:
                        if graphql_name in values:
                            kwargs[python_name] = convert(values[graphql_name])
                strawberry_info = None
                if plan.info_kwarg is not None:
                    raw = root.info._replace(
                        root_value=root_value, variable_values=coerced, context=context
                    )
                    strawberry_info = kwargs[plan.info_kwarg] = plan.info_class(
                        _raw_info=raw, _field=definition
                    )
                value = definition.get_result(
                    root_value, strawberry_info, [root_value] if plan.passes_self else [], kwargs
                )
            except Exception as error:
                raise Fallback from error
            if is_awaitable(value):
                close = getattr(value, "close", None)
                if close is not None:
                    close()  # a coroutine never awaited: no warning
                raise Fallback
            try:
                if root.is_list:
                    non_null, item = root.completion  # type: ignore[misc]
                    if value is None:
                        if non_null:
                            raise Fallback
                        data[root.response_name] = None
                        continue
                    if type(value) is not list and type(value) is not tuple:
                        raise Fallback
                    data[root.response_name] = [
                        _complete_item(item, v, is_awaitable) for v in value
                    ]
                else:
                    data[root.response_name] = _complete_item(
                        root.completion,  # type: ignore[arg-type]
                        value,
                        is_awaitable,
                    )
            except Fallback:
                raise
            except Exception as error:
                raise Fallback from error
        return data


class PreparedOperations:
    """Prepared operations of one schema, by (query text, operation name)."""

    def __init__(self, schema: Any, limits: Limits) -> None:
        self.schema = schema  # graphql-core's
        self.limits = limits
        self._known: dict[tuple[str, str | None], Prepared | None] = {}

    def get(
        self, query: str, operation_name: str | None, variables: dict[str, Any] | None
    ) -> Prepared | None:
        """The prepared operation for this text, or None (the usual path)."""
        key = (query, operation_name)
        try:
            return self._known[key]
        except KeyError:
            pass
        if "@" in query:
            # directives (or text that mentions one): their outcome may depend on variables
            prepared = None
        else:
            try:
                document = _parse_within(query, {"max_tokens": self.limits.max_tokens})
            except GraphQLError:
                return None  # the usual path answers with the error
            if not passed_validation(self.schema, document):
                return None  # not validated yet: the usual path does it, and says
            try:
                prepared = self._prepare(document, operation_name, variables)
            except _VariablesDiffer:
                return None  # try again with another request's variables
            except (_NotCompiled, GraphQLError, RecursionError):
                prepared = None
        if len(self._known) >= _LIMIT:
            self._known.clear()
        self._known[key] = prepared
        return prepared

    def _prepare(
        self, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
    ) -> Prepared | None:
        executor = Executor.build(
            self.schema,
            document,
            None,
            None,
            variables,
            operation_name,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        )
        if isinstance(executor, list):
            # no such operation (the same for every request) or variables that do not fit
            if any(error.nodes for error in executor):
                raise _VariablesDiffer
            return None
        if not isinstance(executor, Executor):
            return None
        operation = executor.operation
        if operation.operation is not OperationType.QUERY or not executor.direct:
            return None
        root_type = self.schema.query_type
        assert isinstance(root_type, GraphQLObjectType)
        grouped, new_defer_usages, _forbidden = collect_fields(
            self.schema, executor.fragments, executor.variable_values, root_type, operation
        )
        if new_defer_usages:
            return None
        plans = _plans.get(root_type)
        if plans is None:
            plans = _plans[root_type] = {}
        compiler = _Compiler(executor)
        roots: list[_Root] = []
        for response_name, field_details_list in grouped.items():
            first = field_details_list[0]
            name = first.node.name.value
            if name.startswith("__"):
                return None  # introspection, __typename: the usual path
            for details in field_details_list:
                if details.defer_usage is not None or details.fragment_variable_values:
                    return None
            if name not in plans:
                plans[name] = _plan(self.schema, root_type, name)
            plan = plans[name]
            if plan is None or plan.definition is None:
                return None
            if first.node.arguments and not plan.arguments:
                return None
            kind, non_null, detail = plan.shape
            completion: _Completion | tuple[bool, _Completion]
            if kind == _LIST:
                item_type, item_shape = detail
                item = compiler.item(item_type, item_shape, field_details_list, plan)
                completion = (non_null, item)
            else:
                completion = compiler.item(
                    plan.field_def.type, plan.shape, field_details_list, plan
                )
                if completion.kind != _C_LEAF and completion.selection is None:
                    return None
            info = executor.build_resolve_info(
                plan.field_def,
                [d.node for d in field_details_list],
                root_type,
                Path(None, response_name, root_type.name),
            )
            roots.append(_Root(response_name, plan, first.node, info, completion, kind == _LIST))
        if not roots:
            return None
        return Prepared(
            self.schema, document, operation, operation_name, roots, self.limits.max_cost
        )


class _VariablesDiffer(Exception):
    pass
