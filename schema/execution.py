"""A graphql-core executor with a direct path for the fields a directory page is made of.

A facility search answers about 390 fields for a page of 20. graphql-core completes
each through a path entry, a resolve-info tuple, Strawberry's resolver wrapper
(argument conversion, extension chain, Info object), awaitable checks and several
levels of `complete_value`: about 10 µs a field, more than the search itself.

For a field whose value is an attribute of its parent, or comes from a plain Strawberry
resolver (no extensions, no exception handlers, arguments only of plain kinds: scalars,
enums, optional values, lists of leaves, input types made of those), and whose type is
a scalar, an enum, an object or a list of those, this executor does the same work
directly: read the value or call the resolver (its arguments converted by a conversion
worked out once per field, as Strawberry's `convert_arguments` would convert them),
coerce leaves with the type's `coerce_output_value`, check objects with `is_type_of` and
run their selection, map lists. Every other field, and every unusual value (null on a
non-null field, an exception, an awaitable, a value a type rejects), goes through
graphql-core's own methods with the value already in hand, so errors, their paths and
messages are graphql-core's. With `@defer`/`@stream` in the schema or resolver
middleware, the stock executor runs throughout.

A selection set made only of fields without arguments read so (to its leaves) is
compiled once per parsed document into a list of steps run straight into the result's
dicts (see "compiled selections" below); the completed views of objects declared pure
(`pure_view`: a facility) are reused across requests under their key.

It is chosen by `GRAPHQL_EXECUTOR=fast` (the default; `stock` is Strawberry's own
executor) and relies on internals of the two libraries, each used as it is in the
releases tested (see pyproject.toml):

- graphql-core: `ExecutionContext`'s methods `execute_fields`, `execute_field`,
  `collect_subfields`, `collect_and_execute_subfields`, `build_resolve_info`,
  `complete_value`, `complete_awaitable_value`, `handle_field_error` and
  `settle_in_background`, with their 3.3 signatures (field details lists, position
  contexts); `graphql.execution.executor.invalid_return_type_error`;
  `graphql.type.scalars.serialize_string`/`serialize_id`; `graphql.pyutils.Path` and
  `gather_with_cancel`; `graphql.execution.values.get_argument_values`; the executor's
  `fragments` (`FragmentDetails`) and the `FieldDetails` of grouped field sets;
- Strawberry: `StrawberryGraphQLCoreExecutionContext` (the base class),
  `GraphQLCoreConverter.DEFINITION_BACKREF` (a GraphQL type or field's Strawberry
  definition), `CustomGraphQLEnumType`, the `_is_default` mark on the resolver of basic
  fields, `StrawberryField` (`base_resolver`, `default_resolver`, `python_name`,
  `get_result`), `StrawberryResolver` (`wrapped_func` and its parameters),
  `StrawberryObjectDefinition` (`origin`, `is_type_of`, `from_input`, `is_input`),
  `StrawberryArgument`, `StrawberryOptional`/`StrawberryMaybe`/`StrawberryList`,
  `strawberry.types.cast.TYPE_CAST_ATTRIBUTE` (what Strawberry's generated `is_type_of`
  looks at first),
  `strawberry.types.arguments._is_leaf_type` and the name converter and scalar
  registry of the Strawberry schema (`_strawberry_schema`).

`self_check()` runs once when the app's schema is built: where an upgrade removed or
changed one of these, the app logs a warning and uses the stock executor.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import MISSING
from enum import Enum
from operator import attrgetter
from typing import Any, NamedTuple

import strawberry
from graphql import (
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.relay.types import GlobalID
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.arguments import _is_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.enum import has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

# value kinds completed here
_LEAF, _OBJECT, _LIST = 0, 1, 2

# (kind, non-null, detail). detail: a leaf type's output coercion; for an object,
# (type, Strawberry's is_type_of or None, Python class); for a list, the (type, shape)
# of its items
Shape = tuple[int, bool, Any]

# values never awaitable nor exceptions: a leaf of these is coerced without more checks
_PLAIN: frozenset[type] = frozenset({str, int, float, bool})
_NEVER_AWAITABLE: frozenset[type] = _PLAIN | {list, tuple, dict, type(None)}


class _Plan(NamedTuple):
    field_def: GraphQLField
    shape: Shape
    # reads the value from the parent: the attribute of a basic field, or a resolver that
    # takes only `self`; None for other resolvers
    read: Callable[[Any], Any] | None
    # done inline: _LEAF or _OBJECT for leaves and objects with `read`, else None
    inline: int | None
    # for a leaf: the Python type its coercion returns unchanged (str for String and ID)
    same: type | None
    # for other resolvers: the Strawberry field and how its parameters are filled
    definition: StrawberryField | None
    passes_self: bool
    source_kwargs: tuple[str, ...]  # `root` / `parent` parameters
    info_kwarg: str | None
    info_class: Any
    # for a resolver with arguments: (GraphQL name, Python name, conversion) of each
    arguments: tuple[tuple[str, str, Callable[[Any], Any]], ...] = ()


# one step of a selection: (response name, its field details, plan or None)
_Step = tuple[str, Any, _Plan | None]

# plans per object type and field name, for as long as the schema lives
_plans: weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, _Plan | None]] = (
    weakref.WeakKeyDictionary()
)


def _shape(type_: GraphQLOutputType) -> Shape | None:
    non_null = is_non_null_type(type_)
    inner: Any = type_.of_type if non_null else type_  # type: ignore[union-attr]
    if is_leaf_type(inner):
        return _LEAF, non_null, _coercion(inner)
    if is_object_type(inner):
        definition = (inner.extensions or {}).get(_BACKREF)
        # Strawberry's own is_type_of (types with interfaces) is synchronous and ignores
        # its info; a type's own is_type_of may be neither
        if not isinstance(definition, StrawberryObjectDefinition) or definition.is_type_of:
            return None
        origin = definition.origin
        return _OBJECT, non_null, (inner, inner.is_type_of, _unawaitable(origin))
    if is_list_type(inner):
        item = _shape(inner.of_type)
        return None if item is None else (_LIST, non_null, (inner.of_type, item))
    return None  # interfaces and unions: graphql-core resolves their runtime type


def _coercion(leaf_type: Any) -> Callable[[Any], Any]:
    """The leaf type's `coerce_output_value`; for Strawberry enums, a lookup in front of it."""
    coerce: Callable[[Any], Any] = leaf_type.coerce_output_value
    wrapped = getattr(leaf_type, "wrapped_cls", None)
    if (
        getattr(type(leaf_type), "coerce_output_value", None)
        is not CustomGraphQLEnumType.coerce_output_value
        or not isinstance(wrapped, type)
        or not issubclass(wrapped, Enum)
    ):
        return coerce
    # Strawberry's coercion: the first GraphQL name whose value equals the member's value
    names: dict[Any, str] = {}
    for member in wrapped:
        for name, enum_value in leaf_type.values.items():
            if member.value == enum_value.value:
                names[member] = name
                break

    def coerce_enum(value: Any) -> Any:
        name = names.get(value) if type(value) is wrapped else None
        return coerce(value) if name is None else name

    return coerce_enum


def _same(field_def: GraphQLField) -> type | None:
    """str for built-in String and ID fields: their coercion returns a str as it is."""
    leaf = get_nullable_type(field_def.type)
    if (leaf is GraphQLString and leaf.coerce_output_value is serialize_string) or (
        leaf is GraphQLID and leaf.coerce_output_value is serialize_id
    ):
        return str
    return None


def _inline(shape: Shape) -> int | None:
    kind = shape[0]
    return kind if kind == _LEAF or (kind == _OBJECT and shape[2][2] is not None) else None


def _plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str) -> _Plan | None:
    """How to execute `parent_type.name` directly, or None when graphql-core should."""
    field_def = schema.get_field(parent_type, name)
    if field_def is None:
        return None
    definition = (field_def.extensions or {}).get(_BACKREF)
    shape = _shape(field_def.type)
    if (
        shape is None
        or not isinstance(definition, StrawberryField)
        or type(definition).get_result is not StrawberryField.get_result
        or definition.extensions
    ):
        return None
    if definition.base_resolver is None:
        if field_def.args:
            return None
        # Strawberry marks the resolver it makes for basic fields without exception handlers
        if definition.default_resolver is not getattr or not getattr(
            field_def.resolve, "_is_default", False
        ):
            return None
        read: Callable[[Any], Any] = attrgetter(definition.python_name)
        return _Plan(
            field_def, shape, read, _inline(shape), _same(field_def), None, False, (), None, None
        )
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolver = definition.base_resolver
    if (
        strawberry_schema is None
        or strawberry_schema.exception_handlers
        or definition.is_async
        or not callable(resolver.wrapped_func)
    ):
        return None
    arguments = _arguments(definition, strawberry_schema)
    if arguments is None or len(arguments) != len(field_def.args):
        return None
    source_kwargs = tuple(
        p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None
    )
    info = resolver.info_parameter
    passes_self = resolver.self_parameter is not None
    if (
        passes_self
        and not arguments
        and not source_kwargs
        and info is None
        and type(resolver).__call__ is StrawberryResolver.__call__
    ):
        # `get_result` would call `wrapped_func(source)`
        read = resolver.wrapped_func
        return _Plan(
            field_def, shape, read, _inline(shape), _same(field_def), None, False, (), None, None
        )
    return _Plan(
        field_def,
        shape,
        None,
        None,
        None,
        definition,
        passes_self,
        source_kwargs,
        None if info is None else info.name,
        strawberry_schema.config.info_class,
        arguments,
    )


def _arguments(
    definition: StrawberryField, strawberry_schema: Any
) -> tuple[tuple[str, str, Callable[[Any], Any]], ...] | None:
    """How Strawberry's `convert_arguments` converts each argument of a resolver, done
    once per field; None when one of them is of a kind left to Strawberry itself."""
    config = strawberry_schema.config
    registry = strawberry_schema.schema_converter.scalar_registry
    out = []
    for argument in definition.arguments:
        convert = _conversion(argument.type, registry, config, 0)
        if convert is None or argument.python_name is None:
            return None
        out.append((config.name_converter.from_argument(argument), argument.python_name, convert))
    return tuple(out)


def _same_value(value: Any) -> Any:
    return value


def _conversion(type_: Any, registry: Any, config: Any, depth: int) -> Callable[[Any], Any] | None:
    """As Strawberry's `convert_argument` for scalars (not GlobalID), enums, optional
    values, lists of leaves and input types made of those; None for anything else."""
    if depth > 8 or isinstance(type_, StrawberryMaybe):
        return None
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
        if isinstance(type_, StrawberryOptional | StrawberryMaybe):
            return None
    if type_ is GlobalID or isinstance(type_, LazyType):
        return None
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if isinstance(item, StrawberryOptional):
            item = item.of_type
        if item is GlobalID or not _is_leaf_type(item, registry):
            return None

        def copy_list(value: Any) -> Any:
            # a list is copied: graphql-core shares a default between requests
            return value if value is None or value is UNSET else list(value)

        return copy_list
    if _is_leaf_type(type_, registry) or has_enum_definition(type_):
        return _same_value
    if not has_object_definition(type_):
        return None
    input_definition = type_.__strawberry_definition__
    if input_definition.from_input is not None or not input_definition.is_input:
        return None
    cls = type_
    unset = {
        f.python_name: None
        for f in input_definition.fields
        if f.default_value is MISSING and f.default_factory is MISSING
    }
    fields = []
    for f in input_definition.fields:
        convert = _conversion(
            f.resolve_type(type_definition=input_definition), registry, config, depth + 1
        )
        if convert is None:
            return None
        fields.append((config.name_converter.from_field(f), f.python_name, convert))

    def build(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(unset)
        for graphql_name, python_name, convert in fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name])
        return cls(**kwargs)

    return build


class _Field(NamedTuple):
    """What building a field's resolve info needs, kept until (rarely) it is needed."""

    plan: _Plan
    parent_type: GraphQLObjectType
    field_details_list: Any
    path: Path


class _Raised:
    """An attribute read that raised, carried to where field errors are handled."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_UNKNOWN: Any = object()


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with the direct path described in the module doc."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # middleware must see every field; @defer and @stream need graphql-core's bookkeeping
        self.direct = not (
            (manager is not None and manager.middlewares)
            or self.schema.get_directive("defer")
            or self.schema.get_directive("stream")
        )
        # steps per selection (graphql-core reuses one selection for all items of a list);
        # the selection is kept with its steps so that its id cannot be reused meanwhile
        self._steps: dict[int, tuple[Any, list[_Step]]] = {}

    def _steps_of(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step]:
        plans = _plans.get(parent_type)
        if plans is None:
            plans = _plans[parent_type] = {}
        steps: list[_Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            name = node.name.value
            if name not in plans:
                plans[name] = _plan(self.schema, parent_type, name)
            plan = plans[name]
            if node.arguments and (plan is None or not plan.arguments):
                plan = None
            steps.append((response_name, field_details_list, plan))
        self._steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if position_context is not None or not self.direct:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        compiled = self._compiled_of(parent_type, grouped_field_set)
        if compiled is not None:
            try:
                return compiled.run(source_value, self.is_awaitable)
            except Exception:  # anything unusual: the field by field path below says what
                pass
        cached = self._steps.get(id(grouped_field_set))
        steps = (
            cached[1]
            if cached is not None and cached[0] is grouped_field_set
            else self._steps_of(parent_type, grouped_field_set)
        )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plan in steps:
                if plan is None:
                    field_path = Path(path, response_name, parent_type.name)
                    result = self.execute_field(
                        parent_type, source_value, field_details_list, field_path, None
                    )
                    if result is Undefined:
                        continue
                elif plan.inline == _LEAF:
                    # the bulk of a page: read, coerce, done
                    try:
                        value = plan.read(source_value)  # type: ignore[misc]
                    except Exception as error:  # reported below, as graphql-core would
                        value = _Raised(error)
                    else:
                        if type(value) is plan.same:
                            results[response_name] = value
                            continue
                        if value is None:
                            if not plan.shape[1]:
                                results[response_name] = None
                                continue
                        elif (
                            type(value) in _PLAIN
                            or isinstance(value, Enum)
                            or not (isinstance(value, Exception) or is_awaitable(value))
                        ):
                            try:
                                coerced = plan.shape[2](value)
                            except Exception:  # raised again below, with its path
                                coerced = None
                            if coerced is not None and coerced is not Undefined:
                                results[response_name] = coerced
                                continue
                    result = self._execute_planned(
                        plan, parent_type, source_value, field_details_list, path,
                        response_name, value,
                    )  # fmt: skip
                elif plan.inline == _OBJECT:
                    # an object of its own Python class: check it and run its selection
                    object_type, is_type_of, origin = plan.shape[2]
                    try:
                        value = plan.read(source_value)  # type: ignore[misc]
                    except Exception as error:  # reported below, as graphql-core would
                        value = _Raised(error)
                    else:
                        if type(value) is origin and (
                            is_type_of is None or is_type_of(value, None)
                        ):
                            results[response_name] = result = self._execute_object(
                                plan, object_type, value, field_details_list,
                                Path(path, response_name, parent_type.name),
                            )  # fmt: skip
                            if is_awaitable(result):
                                awaitable_fields.append(response_name)
                            continue
                    result = self._execute_planned(
                        plan, parent_type, source_value, field_details_list, path,
                        response_name, value,
                    )  # fmt: skip
                else:
                    result = self._execute_planned(
                        plan, parent_type, source_value, field_details_list, path,
                        response_name, _UNKNOWN,
                    )  # fmt: skip
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gather_fields(results, awaitable_fields)

    def _compiled_of(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> _Selection | None:
        """The compiled selection for this grouped field set, or None when it has none."""
        nodes: list[Any] = []
        for field_details_list in grouped_field_set.values():
            for details in field_details_list:
                if details.defer_usage is not None or details.fragment_variable_values:
                    return None
                nodes.append(details.node)
        key = (parent_type, *map(id, nodes))
        try:
            return _selections[key][1]
        except KeyError:
            pass
        try:
            compiled = _Compiler(self).selection(parent_type, grouped_field_set)
        except _NotCompiled:
            compiled = None
        if len(_selections) >= _SELECTIONS_LIMIT:
            _selections.clear()
        # the nodes are kept with the entry, so that their ids are not reused meanwhile
        _selections[key] = (nodes, compiled)
        return compiled

    def _execute_object(
        self,
        plan: _Plan,
        object_type: GraphQLObjectType,
        value: Any,
        field_details_list: Any,
        field_path: Path,
    ) -> Any:
        """The end of `execute_field` for an object already read and checked."""
        try:
            completed = self._selection(object_type, field_details_list, field_path, value)
            if self.is_awaitable(completed):
                return self._await_completed(
                    completed, plan.field_def.type, field_details_list, field_path
                )
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.field_def.type, field_details_list, field_path)
            return None

    def _selection(
        self, object_type: GraphQLObjectType, field_details_list: Any, path: Path, value: Any
    ) -> Any:
        """As graphql-core's complete_object_value once is_type_of has agreed."""
        grouped_field_set, new_defer_usages, _forbidden = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, None
            )
        return self.execute_fields(object_type, value, path, grouped_field_set, None)

    def _info(self, field: _Field) -> GraphQLResolveInfo:
        return self.build_resolve_info(
            field.plan.field_def,
            [d.node for d in field.field_details_list],
            field.parent_type,
            field.path,
        )

    def _execute_planned(
        self,
        plan: _Plan,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path | None,
        response_name: str,
        value: Any,
    ) -> Any:
        """As graphql-core's `execute_field`, resolving and completing directly."""
        return_type = plan.field_def.type
        field_path = Path(path, response_name, parent_type.name)
        field = _Field(plan, parent_type, field_details_list, field_path)
        try:
            if value is _UNKNOWN:
                value = self._resolve(field, source)
            elif isinstance(value, _Raised):
                raise value.error
            kind = type(value)
            if (
                kind not in _NEVER_AWAITABLE
                and (plan.shape[0] != _OBJECT or kind is not plan.shape[2][2])
                and self.is_awaitable(value)
            ):
                return self.complete_awaitable_value(
                    return_type, field_details_list, self._info(field), field_path, value, None
                )
            completed = self._complete(plan.shape, return_type, field, field_path, value)
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, field_path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, field_path)
            return None

    def _resolve(self, field: _Field, source: Any) -> Any:
        plan = field.plan
        if plan.read is not None:
            return plan.read(source)
        # Strawberry's calling convention (`get_arguments`) for a resolver without arguments
        definition = plan.definition
        assert definition is not None
        kwargs: dict[str, Any] = dict.fromkeys(plan.source_kwargs, source)
        if plan.arguments:
            first = field.field_details_list[0]
            values = get_argument_values(
                plan.field_def,
                first.node,
                self.variable_values,
                first.fragment_variable_values,
                self.hide_suggestions,
            )
            for graphql_name, python_name, convert in plan.arguments:
                if graphql_name in values:
                    kwargs[python_name] = convert(values[graphql_name])
        strawberry_info = None
        if plan.info_kwarg is not None:
            strawberry_info = kwargs[plan.info_kwarg] = plan.info_class(
                _raw_info=self._info(field), _field=definition
            )
        return definition.get_result(
            source, strawberry_info, [source] if plan.passes_self else [], kwargs
        )

    def _complete(
        self, shape: Shape, return_type: Any, field: _Field, path: Path, value: Any
    ) -> Any:
        """As graphql-core's `complete_value` for the planned shapes; the rest is its own."""
        kind, _non_null, detail = shape
        if value is None or isinstance(value, Exception):
            return self._complete_value(return_type, field, path, value)
        if kind == _LEAF:
            coerced = detail(value)
            if coerced is None or coerced is Undefined:
                return self._complete_value(return_type, field, path, value)
            return coerced
        if kind == _OBJECT:
            object_type, is_type_of, _origin = detail
            if is_type_of is not None and not is_type_of(value, None):
                raise invalid_return_type_error(object_type, value, field.field_details_list)
            return self._selection(object_type, field.field_details_list, path, value)
        if type(value) not in (list, tuple) or _any_awaitable(value, detail[1], self.is_awaitable):
            return self._complete_value(return_type, field, path, value)
        return self._complete_list(detail, field, path, value)

    def _complete_value(self, return_type: Any, field: _Field, path: Path, value: Any) -> Any:
        return self.complete_value(
            return_type, field.field_details_list, self._info(field), path, value, None
        )

    def _complete_list(
        self, item: tuple[Any, Shape], field: _Field, path: Path, items: list[Any] | tuple[Any, ...]
    ) -> Any:
        # as graphql-core's complete_iterable_value and complete_list_item_value, for a
        # list or tuple without awaitable items (and no @stream in the schema)
        item_type, item_shape = item
        field_details_list = field.field_details_list
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        append = completed_results.append
        awaitable_indices: list[int] = []
        # items of their object type's own class: checked and run here (a call less per item)
        own = item_shape[2] if item_shape[0] == _OBJECT else None
        try:
            for index, value in enumerate(items):
                item_path = path.add_key(index, None)
                try:
                    if (
                        own is not None
                        and type(value) is own[2]
                        and (own[1] is None or own[1](value, None))
                    ):
                        completed = self._selection(own[0], field_details_list, item_path, value)
                    else:
                        completed = self._complete(item_shape, item_type, field, item_path, value)
                    if is_awaitable(completed):
                        append(
                            self._await_completed(
                                completed, item_type, field_details_list, item_path
                            )
                        )
                        awaitable_indices.append(index)
                        continue
                    append(completed)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    append(None)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed_results[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results
        return _gather_items(completed_results, awaitable_indices)

    async def _await_completed(
        self, completed: Awaitable[Any], return_type: Any, field_details_list: Any, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


# --- compiled selections ---------------------------------------------------------------------
#
# A selection set whose every field, to the leaves, is one the direct path reads (no
# arguments, an attribute or a resolver taking only `self`; scalars, enums, objects of
# their own Python class, lists of those, `__typename`) is compiled once per document
# into a `_Selection`: a list of (response name, how to read and complete) run straight
# into the result's dicts, without paths, resolve info or per-field calls. Sub-selections
# with directives (@skip, @include: their outcome depends on the variables) or fragment
# arguments are not compiled. Any value the compiled code does not expect (null on a
# non-null field, an exception, an awaitable, a value a type rejects) abandons the
# compiled run of that selection, and the field by field path above runs it again, so
# that errors, their paths and partial data are exactly what they would have been.
# The fields run again are plain reads (attributes, resolvers of `self` alone).
#
# Types declared pure (`pure_view`) complete from their own object alone: a selection on
# one whose every type is pure keeps its completed dicts per object key (the key must
# include the data version), so that the same facility shown again costs one lookup.

# selections compiled, by (parent type, ids of the grouped field nodes); None: not compiled
_selections: dict[tuple[Any, ...], tuple[list[Any], _Selection | None]] = {}
_SELECTIONS_LIMIT = 1_024
# completed views, by (compiled selection, object key), for all selections together: the
# least recently used dropped first
VIEWS_LIMIT = 5_000
_views: OrderedDict[tuple[Any, Any], dict[str, Any]] = OrderedDict()

# Python classes whose API fields depend only on the object itself (no context, no
# arguments, no language taken from elsewhere), and for those that can be cached, how to
# key an object's completed view
_pure: dict[type, Callable[[Any], Any] | None] = {}


def pure_view(cls: type, key: Callable[[Any], Any] | None = None) -> None:
    """Declare that every field of `cls`'s GraphQL type depends only on the object.

    With `key` (which must change whenever the object's data may: e.g. its id with the
    data version), completed selections on it are kept and reused across requests when
    every type they reach is declared pure too."""
    _pure[cls] = key


class _NotCompiled(Exception):
    pass


# entry kinds
_C_LEAF, _C_TYPENAME, _C_OBJECT, _C_LIST = 0, 1, 2, 3


class _Completion(NamedTuple):
    """How one value (a field's or a list item's) is completed."""

    kind: int  # _C_LEAF or _C_OBJECT
    non_null: bool
    same: type | None  # a leaf: the type its coercion returns unchanged
    coerce: Callable[[Any], Any] | None  # a leaf's coercion
    origin: type | None  # an object: its Python class
    is_type_of: Callable[[Any, Any], bool] | None
    selection: _Selection | None  # an object's sub-selection


class _Selection:
    """A compiled selection set on one object type."""

    __slots__ = ("cached", "entries", "pure")

    def __init__(self) -> None:
        # (response name, kind, read, detail): detail is the __typename for _C_TYPENAME,
        # the value's _Completion for leaves and objects, (non-null, the items' _Completion)
        # for lists
        self.entries: list[tuple[str, int, Any, Any]] = []
        self.pure = True
        # whether its completed views are kept (`_views`)
        self.cached = False

    def run(self, source: Any, is_awaitable: Callable[[Any], bool]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kind, read, detail in self.entries:
            if kind == _C_TYPENAME:
                out[name] = detail
                continue
            value = read(source)
            if kind == _C_LIST:
                if value is None:
                    if detail[0]:
                        raise _Unexpected
                    out[name] = None
                    continue
                if type(value) is not list and type(value) is not tuple:
                    raise _Unexpected
                item = detail[1]
                out[name] = [_complete_item(item, v, is_awaitable) for v in value]
            else:
                out[name] = _complete_item(detail, value, is_awaitable)
        return out


class _Unexpected(Exception):
    """A value the compiled run does not complete: the field by field path will."""


def _complete_item(item: _Completion, value: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    if value is None:
        if item.non_null:
            raise _Unexpected
        return None
    if item.kind == _C_LEAF:
        if type(value) is item.same:
            return value
        if not (
            type(value) in _PLAIN
            or isinstance(value, Enum)
            or not (isinstance(value, Exception) or is_awaitable(value))
        ):
            raise _Unexpected
        coerced = item.coerce(value)  # type: ignore[misc]
        if coerced is None or coerced is Undefined:
            raise _Unexpected
        return coerced
    if type(value) is not item.origin or (
        item.is_type_of is not None and not item.is_type_of(value, None)
    ):
        raise _Unexpected
    selection = item.selection
    assert selection is not None
    if not selection.cached:
        return selection.run(value, is_awaitable)
    key = (selection, _pure[item.origin](value))  # type: ignore[misc]
    view = _views.get(key)
    if view is None:
        view = _views[key] = selection.run(value, is_awaitable)
        while len(_views) > VIEWS_LIMIT:
            _views.popitem(last=False)
    else:
        _views.move_to_end(key)
    return view


class _Compiler:
    """Compiles a selection set with an executor's schema, fragments and plans."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def selection(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Selection:
        executor = self.executor
        plans = _plans.get(parent_type)
        if plans is None:
            plans = _plans[parent_type] = {}
        compiled = _Selection()
        origin = _origin(parent_type)
        compiled.pure = origin is not None and origin in _pure
        for response_name, field_details_list in grouped_field_set.items():
            first = field_details_list[0].node
            name = first.name.value
            if name == "__typename":
                compiled.entries.append((response_name, _C_TYPENAME, None, parent_type.name))
                continue
            for details in field_details_list:
                node = details.node
                if node.arguments or details.defer_usage is not None:
                    raise _NotCompiled
                if details.fragment_variable_values:
                    raise _NotCompiled
            if name not in plans:
                plans[name] = _plan(executor.schema, parent_type, name)
            plan = plans[name]
            if plan is None or plan.read is None:
                raise _NotCompiled
            kind, non_null, detail = plan.shape
            if kind == _LIST:
                item_type, item_shape = detail
                item = self.item(item_type, item_shape, field_details_list, plan)
                compiled.entries.append((response_name, _C_LIST, plan.read, (non_null, item)))
            else:
                item = self.item(plan.field_def.type, plan.shape, field_details_list, plan)
                compiled.entries.append(
                    (response_name, _C_LEAF if kind == _LEAF else _C_OBJECT, plan.read, item)
                )
            if item.selection is not None and not item.selection.pure:
                compiled.pure = False
        if compiled.pure and origin is not None and _pure[origin] is not None:
            compiled.cached = True
        return compiled

    def item(self, type_: Any, shape: Shape, field_details_list: Any, plan: _Plan) -> _Completion:
        kind, non_null, detail = shape
        if kind == _LEAF:
            return _Completion(_C_LEAF, non_null, plan.same if type_ is plan.field_def.type else None,
                         detail, None, None, None)  # fmt: skip
        if kind != _OBJECT:
            raise _NotCompiled  # lists of lists
        object_type, is_type_of, origin = detail
        if origin is None:
            raise _NotCompiled
        for details in field_details_list:
            self.check_directives(details.node.selection_set)
        grouped, new_defer_usages, _forbidden = self.executor.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            raise _NotCompiled
        selection = self.selection(object_type, grouped)
        return _Completion(
            _C_OBJECT, non_null, None, None, origin, _of_own_class(is_type_of), selection
        )

    def check_directives(self, selection_set: Any) -> None:
        """Refuse sub-selections whose outcome depends on the variables."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if selection.directives:
                raise _NotCompiled
            if isinstance(selection, FragmentSpreadNode):
                if getattr(selection, "arguments", None):
                    raise _NotCompiled
                fragment = self.executor.fragments.get(selection.name.value)
                if fragment is None:
                    raise _NotCompiled
                definition = fragment.definition
                if (
                    definition.directives
                    or definition.variable_definitions
                    or fragment.variable_signatures
                ):
                    raise _NotCompiled
                self.check_directives(definition.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                self.check_directives(selection.selection_set)


def _of_own_class(
    is_type_of: Callable[[Any, Any], bool] | None,
) -> Callable[[Any, Any], bool] | None:
    """`is_type_of` for a value already known to be of its type's own Python class.

    Strawberry's (made for types with interfaces) then says yes unless the value was cast
    (`strawberry.cast`) to some type: only a cast value needs asking."""
    if (
        is_type_of is None
        or getattr(is_type_of, "__module__", None) != _CONVERTER_MODULE
        or getattr(is_type_of, "__name__", None) != "is_type_of"
    ):
        return is_type_of

    def uncast_or_asked(value: Any, info: Any) -> bool:
        return getattr(value, TYPE_CAST_ATTRIBUTE, None) is None or is_type_of(value, info)

    return uncast_or_asked


_CONVERTER_MODULE = GraphQLCoreConverter.__module__


def _origin(object_type: GraphQLObjectType) -> type | None:
    definition = (object_type.extensions or {}).get(_BACKREF)
    return definition.origin if isinstance(definition, StrawberryObjectDefinition) else None


def _unawaitable(cls: type) -> type | None:
    """The class, when its instances are never awaitable (so need not be asked)."""
    return None if hasattr(cls, "__await__") else cls


def _any_awaitable(items: Any, item_shape: Shape, is_awaitable: Callable[[Any], bool]) -> bool:
    # items of exactly the Python class of their object type need not be asked
    origin = item_shape[2][2] if item_shape[0] == _OBJECT else None
    return any(type(item) is not origin and is_awaitable(item) for item in items)


async def _gather_fields(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    """As graphql-core's execute_fields: await the pending fields, in parallel."""
    if len(awaitable_fields) == 1:
        field = awaitable_fields[0]
        results[field] = await results[field]
    else:
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results


async def _gather_items(completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
    """As graphql-core's complete_iterable_value: await the pending items, in parallel."""
    if len(awaitable_indices) == 1:
        index = awaitable_indices[0]
        completed[index] = await completed[index]
    else:
        awaited = await gather_with_cancel(*(completed[index] for index in awaitable_indices))
        for index, item in zip(awaitable_indices, awaited, strict=True):
            completed[index] = item
    return completed


# --- the start-up check -----------------------------------------------------------------------


@strawberry.enum(name="ProbeTone")
class _Tone(Enum):
    LOUD = "loud"
    SOFT = "soft"


@strawberry.type(name="ProbeLeaf")
class _Leaf:
    label: str


@strawberry.type(name="ProbeItem")
class _Item:
    name: str
    tone: _Tone
    size: int | None
    leaves: list[_Leaf]

    @strawberry.field
    def upper(self) -> str:
        return self.name.upper()

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return f"{info.field_name}@{info.path.prev.key if info.path.prev else ''}"

    @strawberry.field
    def greet(self, who: str = "you") -> str:
        return f"{self.name} greets {who}"


@strawberry.type(name="Query")
class _ProbeQuery:
    @strawberry.field
    def items(self) -> list[_Item]:
        return [
            _Item(name="a", tone=_Tone.LOUD, size=None, leaves=[_Leaf(label="x")]),
            _Item(name="bb", tone=_Tone.SOFT, size=2, leaves=[]),
        ]

    @strawberry.field
    def broken(self) -> _Item | None:
        return _Item(name=None, tone=_Tone.LOUD, size=1, leaves=[])  # type: ignore[arg-type]


_PROBE = (
    '{ items { name tone size leaves { label } upper where greet(who: "me") } '
    "broken { size name } }"
)


class _ProbeSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None  # the probe's errors are expected: not a log line


class ExecutorUnavailable(RuntimeError):
    """The installed graphql-core or Strawberry lacks what this executor relies on."""


def self_check() -> None:
    """Raise ExecutorUnavailable unless plain fields take the direct path and a probe query
    gets the same answer (data and errors) as from Strawberry's stock executor."""
    fast = _ProbeSchema(query=_ProbeQuery, execution_context_class=Executor)
    stock = _ProbeSchema(query=_ProbeQuery)
    item_type = fast._schema.get_type("ProbeItem")
    assert isinstance(item_type, GraphQLObjectType)
    for name in ("name", "tone", "leaves", "upper"):
        plan = _plan(fast._schema, item_type, name)
        if plan is None or plan.read is None:
            raise ExecutorUnavailable(f"a plain field ({name}) would not take the direct path")
    # synchronously: the app may be built inside a running event loop
    got, want = fast.execute_sync(_PROBE), stock.execute_sync(_PROBE)
    if (got.data, [e.formatted for e in got.errors or ()]) != (
        want.data,
        [e.formatted for e in want.errors or ()],
    ):
        raise ExecutorUnavailable(
            "the probe query was answered differently from the stock executor"
        )
