"""Parsing and validation are cached per query text, but never across limits or schemas."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import DocumentNode, ValidationRule, get_introspection_query, parse
from starlette.testclient import TestClient
from strawberry.extensions import AddValidationRules

from schema import build_schema
from schema.errors import ErrorCodes
from schema.limits import Limits, RequestLimits, measure
from server.app import create_app
from server.services import Services
from server.settings import Settings
from tests.conftest import GraphQLClient, error_codes

DEEP = "{ facilities { edges { node { location { lat } } } } }"


@pytest.fixture(scope="module")
def schema() -> Any:
    return build_schema()


def test_cached_validation_follows_each_schemas_limits(
    settings: Settings, services: Services, gql: GraphQLClient
) -> None:
    strict = create_app(settings.with_(graphql_max_depth=3), services=services)
    with TestClient(strict) as client:
        strict_gql = GraphQLClient(client)
        for _ in range(3):  # the same text, alternately, so each answer comes from the caches
            assert error_codes(strict_gql(DEEP)) == ["QUERY_TOO_COMPLEX"]
            assert "errors" not in gql(DEEP)


def test_cached_errors_are_given_every_time(gql: GraphQLClient) -> None:
    for _ in range(3):
        assert error_codes(gql("{ facilities { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]
        assert error_codes(gql("{ facilities { totalCount ")) == ["GRAPHQL_PARSE_FAILED"]
        many = "{ facilities { totalCount " + "totalCount " * 2100 + "} }"
        assert error_codes(gql(many)) == ["QUERY_TOO_COMPLEX"]


def _fan_out(levels: int, width: int, leaf: str = "nameEn") -> str:
    """Each fragment spreads the one before it `width` times: width**levels fields expanded."""
    fragments = [f"fragment F0 on Facility {{ {leaf} }}"]
    for i in range(1, levels):
        fragments.append(f"fragment F{i} on Facility {{ {' '.join([f'...F{i - 1}'] * width)} }}")
    top = f"query {{ facilities {{ edges {{ node {{ ...F{levels - 1} }} }} }} }}"
    return "\n".join([top, *fragments])


def test_a_fragment_fan_out_is_refused_without_expanding_it(gql: GraphQLClient) -> None:
    # the 882-byte request that froze the server: 10^9 expanded fields; 10^15 here, which
    # would never finish if any limit expanded the spreads
    for levels in (10, 15):
        query = _fan_out(levels, 10)
        assert len(query.encode()) < 1400
        body = gql(query)
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "fields" in body["errors"][0]["message"]
        assert body.get("data") is None


def test_figures_are_measured_once_per_fragment(schema: Any) -> None:
    measured = measure(schema._schema, parse(_fan_out(16, 10)))
    # exact figures of the expanded query, computed without expanding it
    assert measured.figures.fields == 10**15 + 3
    assert measured.figures.depth == 4
    # facilities + 20 x (edges + node + 10^15 leaves)
    assert measured.cost({}, None) == 1 + 20 * (2 + 10**15)


def test_aliases_and_depth_count_through_fragments(
    gql: GraphQLClient, settings: Settings, services: Services
) -> None:
    aliased = (
        "query { facilities { edges { node { ...A ...A } } } }\n"
        "fragment A on Facility { " + " ".join(f"a{i}: nameEn" for i in range(8)) + " }"
    )
    body = gql(aliased)
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "16 aliases" in body["errors"][0]["message"]
    deep = (
        "query { facilities { ...C } }\n"
        "fragment C on FacilityConnection { edges { node { ...N } } }\n"
        "fragment N on Facility { location { lat } }"
    )
    assert "errors" not in gql(deep)
    with TestClient(create_app(settings.with_(graphql_max_depth=4), services=services)) as c:
        body = GraphQLClient(c)(deep)
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "5 levels deep" in body["errors"][0]["message"]


def test_fragment_cycles_are_a_validation_error_not_a_hang(gql: GraphQLClient) -> None:
    cyclic = (
        "query { facilities { edges { node { ...A } } } }\n"
        "fragment A on Facility { nameEn ...B }\n"
        "fragment B on Facility { nameZh ...A }"
    )
    assert error_codes(gql(cyclic)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_the_cost_is_returned_and_follows_first(gql: GraphQLClient) -> None:
    query = (
        "query($n: Int) { facilities(first: $n) { edges { node { nameEn departments { en } } } } }"
    )
    small = gql(query, {"n": 2})
    large = gql(query, {"n": 50})
    assert "errors" not in small and "errors" not in large
    cost = small["extensions"]["cost"]
    assert cost["maximumAvailable"] == 50_000
    # facilities + n x (edges + node + nameEn + departments + 10 x en)
    assert cost["requestedQueryCost"] == 1 + 2 * 14
    assert large["extensions"]["cost"]["requestedQueryCost"] == 1 + 50 * 14
    # a literal and the argument's default (20) count the same way
    literal = gql("{ facilities(first: 3) { edges { node { nameEn } } } }")
    assert literal["extensions"]["cost"]["requestedQueryCost"] == 1 + 3 * 3
    default = gql("{ facilities { edges { node { nameEn } } } }")
    assert default["extensions"]["cost"]["requestedQueryCost"] == 1 + 20 * 3


def test_a_query_over_the_cost_budget_is_refused(settings: Settings, services: Services) -> None:
    app = create_app(settings.with_(graphql_max_cost=100), services=services)
    with TestClient(app) as client:
        strict = GraphQLClient(client)
        query = "query($n: Int) { facilities(first: $n) { edges { node { nameEn } } } }"
        assert "errors" not in strict(query, {"n": 33})  # 1 + 33 x 3 = 100
        body = strict(query, {"n": 34})
        assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
        assert "103 points" in body["errors"][0]["message"]
        assert body["extensions"]["cost"]["requestedQueryCost"] == 103


def test_a_standard_introspection_query_is_within_the_limits(gql: GraphQLClient) -> None:
    body = gql(get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_standard_validation_runs_once_per_query_text() -> None:
    # given a rule that counts the documents Strawberry validates, behind the app's extensions
    validated: list[str] = []

    class Counting(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            validated.append("once")

    limits = Limits(max_depth=10, max_aliases=15, max_tokens=2000, max_fields=500, max_cost=100)
    counted = strawberry.Schema(
        query=_Query,
        extensions=[
            lambda: AddValidationRules([Counting]),
            ErrorCodes,
            lambda: RequestLimits(limits),
        ],
    )
    # when the same texts run again and again
    for _ in range(3):
        assert counted.execute_sync("{ one }").data == {"one": 1}
        assert error_codes_of(counted.execute_sync("{ two }")) == ["GRAPHQL_VALIDATION_FAILED"]
    # then each was validated once, and the cached errors still carry their code
    assert validated == ["once", "once"]


@strawberry.type(name="Query")
class _Query:
    @strawberry.field
    def one(self) -> int:
        return 1


def error_codes_of(result: Any) -> list[str]:
    return [e.extensions["code"] for e in result.errors or ()]
