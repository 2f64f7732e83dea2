"""Prepared operations (schema/prepared.py) answer byte for byte as `schema.execute` does.

Each request is sent to an app with prepared operations and to one without (its
`prepared_operations` set to None): status, body and the headers a client reads must be
the same, for the directory's documents with variables changing between requests, for
persisted queries (POST and GET), for errors (variables, arguments, resolvers), for the
limits' refusals and for the budget's 429; metrics count the same, and the response
cache is filled with the same answer. With GRAPHQL_EXECUTOR=stock there are no prepared
operations and the two apps are the same.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

import schema.prepared
from schema.persisted import sha256
from server.accounts.wiring import MemberServices
from server.app import GraphQLApp, create_app
from server.claims.core import ClaimContext
from server.metrics import OPERATIONS
from server.services import Services
from server.settings import Settings
from tests.schema.test_compiled_selections import DIRECTORY, FACILITIES

H5 = (
    "query Near($near: GeoPointInput!, $first: Int = 10) { facilities(near: $near, sort: DISTANCE,"
    " first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { cursor distanceKm"
    " node { id nameZh nameEn grade } } } }"
)

NEAR_LAT = (
    "query($lat: Float!, $kind: FacilityKind = MEDICAL, $text: String, $first: Int = 3) {"
    " facilities(near: {lat: $lat, lng: 121.4}, kind: $kind, text: $text, first: $first,"
    " sort: DISTANCE) { totalCount otherLists { kind count } edges { distanceKm node { id } } } }"
)

# (document, variables) in order: documents come back with other variables
REQUESTS: list[tuple[str, dict[str, Any] | None]] = [
    *DIRECTORY,
    *DIRECTORY,
    (FACILITIES, {"text": "dental"}),
    (FACILITIES, None),
    (H5, {"near": {"lat": 31.2, "lng": 121.5}}),
    (H5, {"near": {"lat": 31.3, "lng": 121.4}, "first": 3}),
    (H5, {"near": {"lat": 31.3, "lng": 121.4}, "first": 3}),
    ('{ facilities(first: 2) { edges { node { id } } } places(query: "徐汇") { nameZh } }', None),
    ("{ networks { id nameZh } }", None),
    # a literal holding a variable; variables left out, null, or with defaults
    (NEAR_LAT, {"lat": 31.2}),
    (NEAR_LAT, {"lat": 31.25, "kind": "DENTAL", "text": None}),
    (NEAR_LAT, {"lat": 31.25, "kind": None, "first": 2}),
    ("{ __typename facilities(first: 1) { totalCount } }", None),
    ("{ a: facilities(first: 1) { totalCount } b: facilities(first: 2) { totalCount } }", None),
]

ERRORS: list[tuple[str, dict[str, Any] | None]] = [
    (H5, {}),  # a required variable missing
    (H5, {"near": "here"}),  # a variable of the wrong type
    (H5, {"near": {"lat": 31.2, "lng": 121.5}, "first": "ten"}),
    (FACILITIES, {"first": 500}),  # a page size the resolver refuses
    (H5, {"near": {"lat": 31.2, "lng": 121.5}, "first": None}),  # null for a non-null argument
    (H5, {"near": {"lat": 31.2, "lng": 121.5, "alt": 3}}),  # a field the input lacks
    (NEAR_LAT, {"lat": None}),
    (NEAR_LAT, {"lat": 31.2, "kind": "NOPE"}),
    (NEAR_LAT, {"lat": 31.2, "first": 2**40}),
    ('{ facilities(first: 2, after: "not a cursor") { totalCount } }', None),
    ("{ facilities(first: 2) { edges { node { nope } } } }", None),  # not valid
    ("{ facilities(first: 2) { totalCount ", None),  # not parsed
    ("query A { networks { id } } query B { networks { id } }", None),  # which one?
    ("{ facilities(first: 2) { edges { node { id } } } }", {"unused": 1}),
    ("mutation { logOut { __typename } }", None),
]


@pytest.fixture
def apps(settings: Settings, services: Services) -> Iterator[tuple[TestClient, TestClient]]:
    yield from _pair(settings, services, response_cache_mb=0)


def _pair(
    settings: Settings, services: Services, **overrides: Any
) -> Iterator[tuple[TestClient, TestClient]]:
    s = settings.with_(**overrides)
    service = dataclasses.replace(services, settings=s)
    prepared, usual = create_app(s, services=service), create_app(s, services=service)
    _graphql(usual).prepared_operations = None
    with TestClient(prepared) as a, TestClient(usual) as b:
        yield a, b


def _graphql(app: Starlette) -> GraphQLApp:
    for route in app.routes:
        if getattr(route, "path", None) == "/graphql":
            endpoint = route.endpoint  # type: ignore[attr-defined]
            assert isinstance(endpoint, GraphQLApp)
            return endpoint
    raise AssertionError("no /graphql route")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each prepared run answered (True) or fell back (False)."""
    seen: list[bool] = []
    run = schema.prepared.Prepared.run

    def counted(self: Any, *args: Any) -> Any:
        try:
            data = run(self, *args)
        except Exception:  # Fallback, or anything else
            seen.append(False)
            raise
        seen.append(True)
        return data

    monkeypatch.setattr(schema.prepared.Prepared, "run", counted)
    return seen


def _same(a: TestClient, b: TestClient, body: dict[str, Any], **headers: str) -> Any:
    got = a.post("/graphql", content=orjson.dumps(body), headers=_json(headers))
    want = b.post("/graphql", content=orjson.dumps(body), headers=_json(headers))
    _check(got, want)
    return got


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {"content-type": "application/json", **headers}


def _check(got: Any, want: Any) -> None:
    assert got.status_code == want.status_code, (got.text, want.text)
    assert got.content == want.content
    for name in ("content-type", "retry-after", "cache-control", "etag"):
        assert got.headers.get(name) == want.headers.get(name), name


def _fast(settings: Settings) -> bool:
    return settings.graphql_executor == "fast"


def test_known_documents_answer_byte_for_byte_as_schema_execute(
    apps: tuple[TestClient, TestClient], settings: Settings, runs: list[bool]
) -> None:
    a, b = apps
    for document, variables in REQUESTS:
        r = _same(a, b, {"query": document, "variables": variables})
        assert r.status_code == 200 and "errors" not in r.json(), r.text
    if _fast(settings):
        # every document but those with directives or __typename at the root, from its
        # second request on (the first one validates it)
        assert runs.count(True) == 12
        assert False not in runs


def test_errors_answer_as_schema_execute(
    apps: tuple[TestClient, TestClient], settings: Settings, runs: list[bool]
) -> None:
    a, b = apps
    for document, variables in ERRORS:
        # the document known (validated, prepared) before the request in error
        _same(a, b, {"query": H5, "variables": {"near": {"lat": 31.2, "lng": 121.5}}})
        _same(a, b, {"query": FACILITIES, "variables": {"text": "仁济"}})
        _same(a, b, {"query": document, "variables": variables})
        _same(a, b, {"query": document, "variables": variables, "operationName": "B"})
    if _fast(settings):
        assert True in runs and False in runs  # the resolver's refusals fell back


def test_operation_names_and_metrics_count_alike(
    apps: tuple[TestClient, TestClient], settings: Settings
) -> None:
    a, b = apps
    document = "query Q1 { networks { id } } query Q2 { facilities(first: 1) { totalCount } }"
    for client in (a, b):
        for name in ("Q1", "Q2", "Q2"):
            before = OPERATIONS.labels(name, "anonymous")._value.get()
            r = client.post("/graphql", json={"query": document, "operationName": name})
            assert r.status_code == 200 and "errors" not in r.json()
            assert OPERATIONS.labels(name, "anonymous")._value.get() == before + 1
    for name in ("Q1", "Q2"):
        _same(a, b, {"query": document, "operationName": name})


def test_limits_refuse_as_schema_execute(settings: Settings, services: Services) -> None:
    small = {"graphql_max_depth": 4, "graphql_max_aliases": 1, "graphql_max_tokens": 60}
    for a, b in _pair(settings, services, response_cache_mb=0, **small):
        ok = "{ facilities(first: 1) { edges { node { id } } } }"
        deep = "{ facilities(first: 1) { edges { node { location { lat } } } } }"
        aliases = (
            "{ x: facilities(first: 1) { totalCount } y: facilities(first: 1) { totalCount } }"
        )
        for document in (ok, deep, aliases, FACILITIES, ok):
            r = _same(a, b, {"query": document})
            codes = [e["extensions"]["code"] for e in r.json().get("errors", ())]
            assert codes in ([], ["QUERY_TOO_COMPLEX"]), r.text
    for a, b in _pair(settings, services, response_cache_mb=0, graphql_max_cost=30):
        for first in (2, 40, 2):
            _same(
                a, b, {"query": H5, "variables": {"near": {"lat": 31, "lng": 121}, "first": first}}
            )


def test_the_response_cache_keeps_the_same_answers(
    settings: Settings, services: Services, runs: list[bool]
) -> None:
    for a, b in _pair(settings, services, response_cache_mb=8):
        for document, variables in REQUESTS[:6]:
            body = {"query": document, "variables": variables}
            first = _same(a, b, body)
            again = _same(a, b, body)
            assert again.content == first.content
        if _fast(settings):
            assert True in runs


# --- persisted queries and the budget: the app over the test database ----------------------


@pytest.fixture
def db_pair(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Iterator[Any]:
    """(budget) -> two clients at one new address: with prepared operations, without."""
    clients: list[TestClient] = []

    def make(budget: int) -> tuple[TestClient, TestClient]:
        settings = services.settings.with_(
            secret_key=member_settings.secret_key,
            response_cache_mb=0,
            graphql_max_cost=min(budget, 50_000),
            graphql_anonymous_budget=budget,
        )
        s = dataclasses.replace(
            services, settings=settings, db=db_factory, members=members, claims=claims
        )
        prepared, usual = create_app(settings, services=s), create_app(settings, services=s)
        _graphql(usual).prepared_operations = None
        address = f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"
        pair = (
            TestClient(prepared, client=(address + "a", 50000)),
            TestClient(usual, client=(address + "b", 50000)),
        )
        for c in pair:
            clients.append(c.__enter__())
        return pair

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def test_persisted_queries_answer_as_schema_execute(
    db_pair: Any, settings: Settings, runs: list[bool]
) -> None:
    a, b = db_pair(10**9)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(FACILITIES)}}
    for variables in ({"text": "仁济"}, {"text": "dental"}, {"text": "仁济"}):
        _same(a, b, {"query": FACILITIES, "variables": variables, "extensions": extensions})
        _same(a, b, {"variables": variables, "extensions": extensions})
        params = {
            "extensions": orjson.dumps(extensions).decode(),
            "variables": orjson.dumps(variables).decode(),
        }
        _check(a.get("/graphql", params=params), b.get("/graphql", params=params))
    if _fast(settings):
        assert runs and False not in runs


def test_the_budget_refuses_as_schema_execute(
    db_pair: Any, settings: Settings, runs: list[bool]
) -> None:
    a, b = db_pair(1000)
    query = "{ facilities(first: 20) { edges { node { id nameZh } } } }"
    cost = _same(a, b, {"query": query}).json()["extensions"]["cost"]["requestedQueryCost"]
    statuses = []
    for _ in range(1000 // cost + 1):
        r = _same(a, b, {"query": query})
        statuses.append(r.status_code)
    assert statuses[0] == 200 and statuses[-1] == 429, statuses
    assert statuses == sorted(statuses), statuses  # served until the budget is spent
    assert r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    if _fast(settings):
        assert runs.count(True) >= statuses.count(200) - 1


def test_signed_in_requests_and_failing_internals_take_the_usual_path(
    apps: tuple[TestClient, TestClient],
    settings: Settings,
    runs: list[bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = apps
    body = {"query": H5, "variables": {"near": {"lat": 31.2, "lng": 121.5}}}
    _same(a, b, body)  # validated
    runs.clear()
    _same(a, b, body, authorization="Bearer not-a-session")
    assert runs == []

    def moved(*args: Any) -> Any:
        raise TypeError("an internal that changed")

    monkeypatch.setattr(schema.prepared, "coerce_input_value", moved)
    r = _same(a, b, body)
    assert r.status_code == 200 and "errors" not in r.json()
    if _fast(settings):
        assert runs == [False]
