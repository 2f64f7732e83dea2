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

Besides what schema/execution.py relies on, this uses graphql-core 3.3's
`Executor.build`, `collect_fields`, `get_variable_signature`, `VariableValues` and
`VariableValueSource`, `input_is_nested_too_deeply`, `coerce_input_value`,
`get_argument_values` and `build_resolve_info`, and Strawberry's `optimized_is_awaitable`.
Where one of them moved, server/app.py runs without prepared operations (an import that
fails), or the text or the request takes the usual path (a call that fails).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    ValueNode,
    VariableNode,
    is_non_null_type,
    is_required_argument,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
    input_is_nested_too_deeply,
)
from graphql.pyutils import Path
from graphql.utilities import coerce_input_value
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

log = logging.getLogger(__name__)

_LIMIT = 512  # (query text, operation name) pairs kept


class Fallback(Exception):
    """This request takes the usual path (`schema.execute`)."""


class _Variable(NamedTuple):
    """How one variable of the operation is coerced (as `get_variable_values` does)."""

    name: str
    signature: Any  # graphql-core's GraphQLVariableSignature
    type: Any
    non_null: bool
    default: Any  # the coerced default value, or Undefined


class _Arguments(NamedTuple):
    """A root field's argument values worked out once, when each argument is a literal
    without variables, a variable, or left out (as `get_argument_values` fills them)."""

    constant: dict[str, Any]  # literals, and defaults of the arguments left out
    # (name, variable, non-null, required, the argument's default or Undefined)
    variables: tuple[tuple[str, str, bool, bool, Any], ...]


class _Root(NamedTuple):
    response_name: str
    plan: _Plan
    node: Any  # the field's first node: its arguments
    arguments: _Arguments | None  # None: `get_argument_values` per request
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
        variables: tuple[_Variable, ...] | None,
    ) -> None:
        self.schema = schema
        self.document = document  # kept: the measures are cached by its identity
        self.operation = operation
        self.operation_name = operation_name
        self.variable_definitions = operation.variable_definitions or ()
        self.roots = roots
        self.max_cost = max_cost
        self.variables = variables  # None: `get_variable_values` per request

    def coerce(self, inputs: dict[str, Any]) -> VariableValues:
        """The request's variable values, as `get_variable_values` coerces them; Fallback
        for any value that does not fit (graphql-core then says why)."""
        if self.variables is None:
            coerced = get_variable_values(
                self.schema, self.variable_definitions, inputs, max_errors=50
            )
            if isinstance(coerced, list):
                raise Fallback
            return coerced
        sources: dict[str, VariableValueSource] = {}
        values: dict[str, Any] = {}
        for name, signature, type_, non_null, default in self.variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                sources[name] = VariableValueSource(signature)
                if default is not Undefined:
                    values[name] = default
                elif non_null:
                    raise Fallback
                continue
            sources[name] = VariableValueSource(signature, value)
            if type(value) is not str and input_is_nested_too_deeply(value, type_):
                raise Fallback  # graphql-core refuses it
            try:
                coerced_value = coerce_input_value(value, type_)
            except RecursionError:
                raise Fallback from None
            if coerced_value is Undefined:
                raise Fallback
            values[name] = coerced_value
        return VariableValues(sources, values)

    def cost(self, variables: dict[str, Any] | None) -> int:
        return _measured(self.schema, self.document).cost(variables, self.operation_name)

    def answer(
        self, root_value: Any, context: Any, variables: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """`data` of this request, or None where it takes the usual path."""
        try:
            return self.run(root_value, context, variables)
        except Exception:  # Fallback, or an internal that behaves otherwise: the usual path
            return None

    def run(self, root_value: Any, context: Any, variables: dict[str, Any] | None) -> Any:
        """`data` of this request, or Fallback."""
        coerced = self.coerce(variables or {})
        given = coerced.coerced
        data: dict[str, Any] = {}
        is_awaitable = optimized_is_awaitable
        for root in self.roots:
            plan = root.plan
            definition = plan.definition
            assert definition is not None
            kwargs: dict[str, Any] = dict.fromkeys(plan.source_kwargs, root_value)
            try:
                if plan.arguments:
                    arguments = root.arguments
                    if arguments is None:
                        values = get_argument_values(plan.field_def, root.node, coerced)
                    else:
                        values = dict(arguments.constant)
                        for name, variable, non_null, required, default in arguments.variables:
                            if variable in given:
                                value = given[variable]
                                if value is None and non_null:
                                    raise Fallback
                                values[name] = value
                            elif required:
                                raise Fallback
                            elif default is not Undefined:
                                values[name] = default
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
            except Fallback:
                raise
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
            except Exception as error:  # an internal that moved: this text takes the usual path
                log.warning("a GraphQL operation could not be prepared: %r", error)
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
            arguments = _arguments(plan, first.node, executor.variable_values)
            roots.append(
                _Root(response_name, plan, first.node, arguments, info, completion, kind == _LIST)
            )
        if not roots:
            return None
        return Prepared(
            self.schema,
            document,
            operation,
            operation_name,
            roots,
            self.limits.max_cost,
            _variables(self.schema, operation),
        )


def _variables(schema: Any, operation: OperationDefinitionNode) -> tuple[_Variable, ...] | None:
    """How each variable is coerced; None when a default cannot be worked out here."""
    out = []
    for definition in operation.variable_definitions or ():
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError):
            return None
        default: Any = Undefined
        if definition.default_value is not None:
            coerced = get_variable_values(schema, [definition], {})
            if isinstance(coerced, list) or signature.name not in coerced.coerced:
                return None
            default = coerced.coerced[signature.name]
        out.append(
            _Variable(
                signature.name, signature, signature.type, is_non_null_type(signature.type), default
            )
        )
    return tuple(out)


def _arguments(plan: _Plan, node: FieldNode, variable_values: Any) -> _Arguments | None:
    """A root field's arguments worked out once (see `_Arguments`), or None."""
    field_def = plan.field_def
    by_name = {argument.name.value: argument for argument in node.arguments or ()}
    if set(by_name) - set(field_def.args):
        return None
    defaults = get_argument_values(field_def, FieldNode(name=node.name, arguments=()))
    constant = dict(defaults)
    variables = []
    literal = [name for name, argument in by_name.items() if _no_variables(argument.value)]
    if literal:
        values = get_argument_values(field_def, node, variable_values)
        for name in literal:
            out_name = field_def.args[name].out_name or name
            if out_name not in values:
                return None
            constant[out_name] = values[out_name]
    for name, argument in by_name.items():
        if name in literal:
            continue
        value = argument.value
        if not isinstance(value, VariableNode):
            return None  # a literal with variables inside: graphql-core fills it
        arg_def = field_def.args[name]
        out_name = arg_def.out_name or name
        constant.pop(out_name, None)
        variables.append(
            (
                out_name,
                value.name.value,
                is_non_null_type(arg_def.type),
                is_required_argument(arg_def),
                defaults.get(out_name, Undefined),
            )
        )
    return _Arguments(constant, tuple(variables))


def _no_variables(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return False
    if isinstance(value, ListValueNode):
        return all(_no_variables(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return all(_no_variables(field.value) for field in value.fields)
    return True


class _VariablesDiffer(Exception):
    pass
