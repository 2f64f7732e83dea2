"""Parsing and validation are cached per query text, but never across limits or schemas."""

from __future__ import annotations

from starlette.testclient import TestClient

from server.app import create_app
from server.services import Services
from server.settings import Settings
from tests.conftest import GraphQLClient, error_codes

DEEP = "{ facilities { edges { node { location { lat } } } } }"


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
