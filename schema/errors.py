"""Stable error codes on every GraphQL error, and masking of unexpected ones.

graphql-core raises parse, validation and input errors without a code; each gets its code
where it arises, never from its wording: a syntax error by its class, validation errors
when the rules have run (`ErrorCodes.on_validate`; literal values of the wrong type come
from a rule that gives its own code), and the errors of setting up execution (variable
values that do not fit their types) or of coercing an argument (`ErrorCodes.on_execute`).
The limits of schema/limits.py raise their errors with their code."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import (
    GraphQLError,
    GraphQLSyntaxError,
    ValueNode,
    ValuesOfCorrectTypeRule,
)
from sqlalchemy.exc import SQLAlchemyError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension

from server.db import UNAVAILABLE_CODE, UNAVAILABLE_MESSAGE, unavailable
from server.errors import DomainError

log = logging.getLogger(__name__)

BAD_USER_INPUT = "BAD_USER_INPUT"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTERNAL = "INTERNAL_SERVER_ERROR"


def _code(error: GraphQLError) -> str | None:
    extensions = error.extensions
    code = extensions.get("code") if extensions else None
    return code if isinstance(code, str) else None


def _give_code(error: GraphQLError, code: str) -> None:
    if _code(error) is None:
        error.extensions = {**(error.extensions or {}), "code": code}


class LiteralValuesRule(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literal values; a value of the wrong type is the caller's input."""

    def report_error(self, error: GraphQLError) -> None:
        _give_code(error, BAD_USER_INPUT)
        super().report_error(error)


class ErrorCodes(SchemaExtension):
    """Gives graphql-core's validation and input errors their codes (see the module doc)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            LiteralValuesRule if rule is ValuesOfCorrectTypeRule else rule
            for rule in context.validation_rules
        )
        yield
        for error in context.pre_execution_errors or ():
            _give_code(error, VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            # Without a path: raised while setting up execution, before any field ran,
            # for variable values that do not fit their declared types. With a path but
            # located at an argument's value: a value graphql-core could not coerce for
            # that argument (e.g. null from a variable whose default made it legal).
            if error.path is None or (
                error.nodes and all(isinstance(node, ValueNode) for node in error.nodes)
            ):
                _give_code(error, BAD_USER_INPUT)


def format_error(error: GraphQLError, *, debug: bool) -> dict[str, object]:
    """The JSON form of one error; anything unexpected is masked and logged."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        return {"message": original.message, "path": error.path, "extensions": extensions}
    if unavailable(original):
        # a dropped or busy database: one line, no traceback (its text may quote SQL)
        log.warning("database unavailable in %s: %s", error.path, type(original).__name__)
        return {
            "message": UNAVAILABLE_MESSAGE,
            "path": error.path,
            "extensions": {"code": UNAVAILABLE_CODE},
        }
    if original is not None and not isinstance(original, GraphQLError):
        log.error("unexpected error in %s", error.path, exc_info=original)
        # a database error's text holds its SQL and parameters: the log has it, never a client
        if not debug or isinstance(original, SQLAlchemyError):
            return {
                "message": "Something went wrong on our side; please try again.",
                "path": error.path,
                "extensions": {"code": INTERNAL},
            }
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if isinstance(error, GraphQLSyntaxError):
            extensions["code"] = PARSE_FAILED
        elif isinstance(error, StrawberryInputCoercionError) or isinstance(
            original, StrawberryInputCoercionError
        ):
            # Strawberry could not convert an argument (e.g. a malformed global id)
            extensions["code"] = BAD_USER_INPUT
        else:
            # a GraphQL error nothing above accounts for, e.g. a value a resolver
            # returned that its type cannot represent: ours, not the caller's
            extensions["code"] = INTERNAL
    formatted["extensions"] = extensions
    return dict(formatted)
