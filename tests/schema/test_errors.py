"""Error codes are given where an error arises (schema/errors.py), never from its wording.

A small schema with the app's two extensions shows each way in: syntax, the token limit,
validation rules, variable values, argument values, Strawberry's argument conversion and
errors of the server's own making, including messages worded like input errors.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from strawberry import relay

from schema.errors import ErrorCodes, format_error
from schema.limits import Limits, RequestLimits
from tests.conftest import GraphQLClient, error_codes

LIMITS = Limits(max_depth=10, max_aliases=15, max_tokens=20, max_fields=500, max_cost=50_000)


@strawberry.type
class Query:
    @strawberry.field
    def one(self) -> int:
        return 1

    @strawberry.field
    def double(self, n: int) -> int:
        return 2 * n

    @strawberry.field
    def count(self) -> int:
        return "many"  # type: ignore[return-value]  # a bug of ours: Int cannot represent it

    @strawberry.field
    def worded(self) -> str:
        # a failure of ours that happens to be worded like a caller's mistake
        raise GraphQLError("Expected value of type 'Int', found 'x'; it has invalid value")

    @strawberry.field
    def node_type(self, id: relay.GlobalID) -> str:
        return id.type_name


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


SCHEMA = Schema(query=Query, extensions=[ErrorCodes, lambda: RequestLimits(LIMITS)])


def codes(query: str, variables: dict[str, Any] | None = None) -> list[object]:
    result = SCHEMA.execute_sync(query, variables)
    return [format_error(e, debug=False)["extensions"]["code"] for e in result.errors or ()]  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        # syntax
        ("{ double(n: 1) ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ double(n: ?) }", None, "GRAPHQL_PARSE_FAILED"),
        # validation rules; literal values of the wrong type are the caller's input
        ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ double }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ double(n: "two") }', None, "BAD_USER_INPUT"),
        # variables that do not fit their types, found while setting up execution
        ("query($n: Int!) { double(n: $n) }", {"n": "two"}, "BAD_USER_INPUT"),
        ("query($n: Int!) { double(n: $n) }", {}, "BAD_USER_INPUT"),
        # an argument graphql-core cannot coerce while executing the field
        ("query($n: Int = 1) { double(n: $n) }", {"n": None}, "BAD_USER_INPUT"),
        # Strawberry cannot convert the argument
        ('{ nodeType(id: "not a global id") }', None, "BAD_USER_INPUT"),
        # the server's own failures, whatever their wording
        ("{ count }", None, "INTERNAL_SERVER_ERROR"),
        ("{ worded }", None, "INTERNAL_SERVER_ERROR"),
    ],
)
def test_each_error_is_coded_where_it_arises(
    query: str, variables: dict[str, Any] | None, code: str
) -> None:
    assert codes(query, variables) == [code]


def test_fine_requests_have_no_errors() -> None:
    assert codes("query($n: Int = 1) { double(n: $n) }", {"n": 4}) == []
    assert SCHEMA.execute_sync('{ nodeType(id: "VGhpbmc6MQ==") }').data == {"nodeType": "Thing"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # "{", 18 fields, "}": 20 tokens, the limit
        ("{ " + "one " * 18 + "}", None),
        ("{ " + "one " * 19 + "}", "QUERY_TOO_COMPLEX"),
        # comments count, as graphql-core counts them
        ("{ " + "one " * 10 + "# c\n" * 9 + "}", "QUERY_TOO_COMPLEX"),
        ("{ one " + "# c\n" * 5000 + "}", "QUERY_TOO_COMPLEX"),
        # bad syntax the parser meets first is bad syntax, however long the query
        ("{ one ) " + "one " * 30 + "}", "GRAPHQL_PARSE_FAILED"),
        # a bad character or string where the 21st token would start: the lexer stops first
        ("{ " + "one " * 19 + "?", "GRAPHQL_PARSE_FAILED"),
        ("{ " + "one " * 19 + '"open', "GRAPHQL_PARSE_FAILED"),
        # exactly at the limit, then the end: bad syntax
        ("{ " + "one " * 19, "GRAPHQL_PARSE_FAILED"),
    ],
)
def test_the_token_limit_is_told_from_bad_syntax(query: str, code: str | None) -> None:
    assert codes(query) == ([code] if code else [])


def test_the_token_limit_says_what_it_is() -> None:
    [error] = SCHEMA.execute_sync("{ " + "one " * 19 + "}").errors or []
    assert error.message == "The query has more than 20 tokens; at most 20 are allowed."
    # where the parser stopped: the 21st token
    assert error.locations is not None and error.locations[0].column == 2 + 19 * 4 + 1


def test_the_apps_codes_do_not_depend_on_wording(gql: GraphQLClient) -> None:
    # the app's own extensions, end to end
    assert error_codes(gql("{ facilities(first: 1) { totalCount } ")) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(gql("{ facilities(kind: HOSPITAL) { totalCount } }")) == ["BAD_USER_INPUT"]
    body = gql('query($id: ID = "1") { facility(id: $id) { id } }', {"id": None})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = gql("query($n: Int) { facilities(first: $n) { totalCount } }", {"n": "x"})
    assert error_codes(body) == ["BAD_USER_INPUT"]
