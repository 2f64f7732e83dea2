"""Request limits (tokens, depth, aliases) with parsing and validation cached, in one extension.

This does what Strawberry's MaxTokensLimiter, QueryDepthLimiter, MaxAliasesLimiter,
ParserCache and ValidationCache do together, with less per-request work:

- Strawberry's depth and alias limiters make a new rule class per instance, i.e. per
  request, so a validation cache keyed on the rules would never hit. The rules here
  are made once per limit.
- Each extension costs a few µs per request in hooks, whichever hook it uses; one
  extension instead of five.
- The parse cache hands back the same document object for the same query text, so
  validation results are kept per document object rather than hashing its whole
  syntax tree on every request.

The errors are the same: the token limit is graphql-core's parser option, and depth
and aliases are checked by Strawberry's own rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    ValidationRule,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.schema import validate_document

_CACHE_SIZE = 512  # distinct query texts (and their validations) kept

# the same query text, with the same options, gives the same document object
_parse: Callable[..., DocumentNode] = functools.lru_cache(maxsize=_CACHE_SIZE)(parse)

# (schema, document, rules) by identity -> ((schema, document), errors): the objects are kept
# so that their ids stay theirs
_Key = tuple[int, int, tuple[type[ASTValidationRule], ...]]
_validated: dict[_Key, tuple[tuple[GraphQLSchema, DocumentNode], list[GraphQLError]]] = {}


@functools.cache
def _depth_rule(max_depth: int) -> type[ValidationRule]:
    return depth_validator(max_depth, None, None)


@functools.cache
def _alias_rule(limit: int) -> type[ValidationRule]:
    return alias_validator(limit)


def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    key = (id(schema), id(document), rules)
    cached = _validated.get(key)
    if cached is not None and cached[0][0] is schema and cached[0][1] is document:
        return cached[1]
    errors = validate_document(schema, document, rules)
    if len(_validated) >= _CACHE_SIZE:
        _validated.clear()
    _validated[key] = ((schema, document), errors)
    return errors


class RequestLimits(SchemaExtension):
    """Token, depth and alias limits; parsing and validation cached (see the module doc)."""

    def __init__(self, max_depth: int, max_aliases: int, max_tokens: int) -> None:
        self.rules = (_depth_rule(max_depth), _alias_rule(max_aliases))
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield
