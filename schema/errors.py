"""Stable error codes on every GraphQL error, and masking of unexpected ones.

Parse and validation errors carry no code from graphql-core; `format_error` gives
them one from their wording when the response is written."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from server.errors import DomainError

log = logging.getLogger(__name__)

BAD_USER_INPUT = "BAD_USER_INPUT"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTERNAL = "INTERNAL_SERVER_ERROR"

# graphql-core's wording for a value that does not fit its argument's type
# (unknown enum literal, string for an Int, ...): the caller's input is at fault.
_VALUE_ERRORS = (
    "Expected value of type",
    "does not exist in",
    "got invalid value",
    "has invalid value",  # a variable's field: null for a non-null field, a wrong scalar
    "cannot represent",
)
# the parser's token limit; the other limits raise errors with their code (schema/limits.py)
_LIMIT_ERRORS = ("contains more than",)


def _classify(error: GraphQLError, default: str) -> str:
    message = error.message
    if any(s in message for s in _LIMIT_ERRORS):
        return TOO_COMPLEX
    if message.startswith("Syntax Error"):
        return PARSE_FAILED
    if any(s in message for s in _VALUE_ERRORS):
        return BAD_USER_INPUT
    return default


def format_error(error: GraphQLError, *, debug: bool) -> dict[str, object]:
    """The JSON form of one error; anything unexpected is masked and logged."""
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        return {"message": original.message, "path": error.path, "extensions": extensions}
    if original is not None and not isinstance(original, GraphQLError):
        log.error("unexpected error in %s", error.path, exc_info=original)
        if not debug:
            return {
                "message": "Something went wrong on our side; please try again.",
                "path": error.path,
                "extensions": {"code": INTERNAL},
            }
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("code", _classify(error, INTERNAL if original else VALIDATION_FAILED))
    formatted["extensions"] = extensions
    return dict(formatted)
