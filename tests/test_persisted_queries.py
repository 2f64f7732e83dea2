"""Persisted queries: Apollo's hash convention over POST and GET, caching, no mutations by GET."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from schema.persisted import registered_queries, sha256
from server.accounts.wiring import MemberServices
from server.app import create_app
from server.claims.core import ClaimContext
from server.partners import service as partners
from server.services import Services
from server.settings import Settings
from tests.conftest import error_codes
from tests.db import FakeClock

QUERY = "query Renji($text: String) { facilities(text: $text, first: 3) { totalCount edges { node { nameZh } } } }"
DIGEST = sha256(QUERY)
MUTATION = "mutation { logOut { __typename } }"


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def get(
    client: TestClient, digest: str, variables: dict[str, Any] | None = None, **headers: str
) -> Any:
    params = {"extensions": orjson.dumps(persisted(digest)).decode()}
    if variables is not None:
        params["variables"] = orjson.dumps(variables).decode()
    return client.get("/graphql", params=params, headers=headers)


def make_client(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
    **overrides: Any,
) -> Iterator[TestClient]:
    settings = services.settings.with_(secret_key=member_settings.secret_key, **overrides)
    s = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=claims
    )
    with TestClient(create_app(settings, services=s)) as c:
        yield c


@pytest.fixture
def client(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Iterator[TestClient]:
    yield from make_client(services, member_settings, db_factory, members, claims)


def test_a_miss_asks_for_the_text_and_is_not_cached(client: TestClient) -> None:
    # given a hash the server has never seen
    # when it is sent alone, by POST and by GET
    posted = client.post("/graphql", json={"extensions": persisted(DIGEST), "variables": {}})
    fetched = get(client, DIGEST, {"text": "仁济"})
    # then both say PersistedQueryNotFound, which Apollo clients answer with the text
    for r in (posted, fetched):
        assert r.status_code == 200
        assert error_codes(r.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert r.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        assert r.headers["cache-control"] == "no-store"


def test_registered_by_post_then_fetched_by_get_with_etag_and_304(client: TestClient) -> None:
    # given the text sent once with its hash
    first = client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"text": "仁济"}, "extensions": persisted(DIGEST)},
    )
    assert first.status_code == 200
    # when the hash and variables are fetched by GET
    r = get(client, DIGEST, {"text": "仁济"})
    # then the same answer, cacheable
    assert r.status_code == 200
    assert r.json()["data"] == first.json()["data"]
    assert "仁济" in r.json()["data"]["facilities"]["edges"][0]["node"]["nameZh"]
    assert r.headers["cache-control"] == "public, max-age=60"
    etag = r.headers["etag"]
    # and asked again with the tag: 304, no body
    again = get(client, DIGEST, {"text": "仁济"}, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    # other variables: another answer, another tag
    other = get(client, DIGEST, {"text": "dental"}, **{"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_a_registered_query_file_is_known_without_sending_it(client: TestClient) -> None:
    # given the directory query shipped in schema/persisted/
    (digest,) = [d for d, text in registered_queries().items() if "query Facilities" in text]
    # when a partner fetches it by its hash alone
    r = get(client, digest, {"text": "renji", "first": 2})
    # then it runs
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body
    assert body["data"]["facilities"]["totalCount"] >= 1
    assert "ETag" in r.headers


def test_a_mutation_is_never_run_by_get(client: TestClient) -> None:
    # given a mutation registered by POST (where it may run)
    digest = sha256(MUTATION)
    client.post("/graphql", json={"query": MUTATION, "extensions": persisted(digest)})
    # when it is fetched by GET, by hash or with its text
    by_hash = get(client, digest)
    with_text = client.get(
        "/graphql",
        params={"query": MUTATION, "extensions": orjson.dumps(persisted(digest)).decode()},
    )
    # then 405 with a GraphQL-shaped error, and it did not run
    for r in (by_hash, with_text):
        assert r.status_code == 405
        assert r.headers["allow"] == "POST"
        assert error_codes(r.json()) == ["METHOD_NOT_ALLOWED"]
        assert r.json()["data"] is None


def test_a_wrong_hash_or_extension_is_a_400(client: TestClient) -> None:
    wrong = client.post("/graphql", json={"query": QUERY, "extensions": persisted("0" * 64)})
    assert wrong.status_code == 400
    assert error_codes(wrong.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    bad = client.post("/graphql", json={"extensions": {"persistedQuery": {"sha256Hash": "xyz"}}})
    assert bad.status_code == 400
    assert error_codes(bad.json()) == ["PERSISTED_QUERY_INVALID"]
    # GET of a plain query (no hash): refused, so search text stays out of URLs unasked
    plain = client.get("/graphql", params={"query": QUERY})
    assert plain.status_code == 400
    assert error_codes(plain.json()) == ["BAD_REQUEST"]
    broken = client.get("/graphql", params={"extensions": "{not json"})
    assert broken.status_code == 400
    assert error_codes(broken.json()) == ["BAD_REQUEST"]


def test_a_signed_in_get_is_not_shared(client: TestClient) -> None:
    client.post("/graphql", json={"query": QUERY, "extensions": persisted(DIGEST)})
    r = get(client, DIGEST, {"text": "仁济"}, Authorization="Bearer whatever")
    assert r.headers["cache-control"] == "private, no-store"
    assert "etag" not in r.headers


def test_anonymous_requests_share_one_budget_and_a_partner_key_has_its_own(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    # given the query's cost, and an anonymous budget (GRAPHQL_ANONYMOUS_BUDGET) of 3 such
    for c in make_client(services, member_settings, db_factory, members, claims):
        r = c.post("/graphql", json={"query": QUERY, "variables": {"text": "renji"}})
        cost = r.json()["extensions"]["cost"]["requestedQueryCost"]
    assert cost >= 1
    clock.advance(seconds=61)  # that request's window is over
    with db_factory() as db:
        _, key = partners.issue(db, clock, "Map app", rate_per_minute=50, cost_per_minute=10**6)
        db.commit()
    for c in make_client(
        services,
        member_settings,
        db_factory,
        members,
        claims,
        graphql_max_cost=3 * cost,
        graphql_anonymous_budget=3 * cost,
    ):
        # when one address registers the query by POST, then fetches it twice by GET
        registered = c.post(
            "/graphql",
            json={"query": QUERY, "variables": {"text": "renji"}, "extensions": persisted(DIGEST)},
        )
        assert registered.status_code == 200
        assert get(c, DIGEST, {"text": "renji"}).status_code == 200
        assert get(c, DIGEST, {"text": "renji"}).status_code == 200
        # then the next GET is refused: 429 with a code and Retry-After, never cached
        r = get(c, DIGEST, {"text": "renji"})
        assert r.status_code == 429
        assert error_codes(r.json()) == ["RATE_LIMITED"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["cache-control"] == "no-store"
        # and so is a plain POST from that address: one budget for every anonymous request
        plain = c.post("/graphql", json={"query": QUERY, "variables": {"text": "renji"}})
        assert plain.status_code == 429
        # while a partner key pays under its own, larger budget
        for _ in range(5):
            assert get(c, DIGEST, {"text": "renji"}, **{"X-Api-Key": key}).status_code == 200
        # and once the window has passed, the address may go on
        clock.advance(seconds=61)
        assert get(c, DIGEST, {"text": "renji"}).status_code == 200
