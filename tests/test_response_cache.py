"""Answers to identical anonymous directory queries come from the response cache."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from server.app import GraphQLApp, create_app
from server.directory.directory import make_directory
from server.directory.service import DirectoryService, FacilityPage, FacilityQuery
from server.response_cache import make_response_cache
from server.search.memory import MemoryEngine
from server.services import Services
from server.settings import Settings

SEARCH = """query($text: String, $near: GeoPointInput) {
  facilities(text: $text, near: $near, first: 5) {
    totalCount edges { distanceKm node { id nameZh } }
  }
}"""
RENJI = {"text": "仁济", "near": {"lat": 31.23, "lng": 121.47}}


class Counted:
    """Counts the searches that reach the directory service."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = DirectoryService.search

        def search(service: DirectoryService, q: FacilityQuery) -> FacilityPage:
            self.calls += 1
            return real(service, q)

        monkeypatch.setattr(DirectoryService, "search", search)


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> Counted:
    return Counted(monkeypatch)


def graphql_app(app: Starlette) -> GraphQLApp:
    for route in app.routes:
        if isinstance(route, Route) and isinstance(route.app, GraphQLApp):
            return route.app
    raise AssertionError("no /graphql route")


@pytest.fixture
def own_services(services: Services) -> Services:
    # a copy, so that a test may swap the directory without touching the session's
    return dataclasses.replace(services)


@pytest.fixture
def client(settings: Settings, own_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services=own_services)) as c:
        yield c


def post(client: TestClient, body: dict[str, Any], **headers: str) -> Any:
    r = client.post("/graphql", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r


def test_a_repeated_query_is_answered_from_the_cache(client: TestClient, searches: Counted) -> None:
    # given a public directory search answered once
    first = post(client, {"query": SEARCH, "variables": RENJI})
    assert searches.calls == 1
    # when the same query comes again, variables in another order
    again = post(client, {"variables": dict(reversed(RENJI.items())), "query": SEARCH})
    # then the directory is not searched again and the answer is the same, byte for byte,
    # the cost figure included
    assert searches.calls == 1
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.json()["extensions"]["cost"] == first.json()["extensions"]["cost"]
    assert again.json()["data"]["facilities"]["totalCount"] > 0


def test_other_variables_or_another_document_miss(client: TestClient, searches: Counted) -> None:
    post(client, {"query": SEARCH, "variables": RENJI})
    other = post(client, {"query": SEARCH, "variables": {**RENJI, "text": "医院"}})
    post(client, {"query": SEARCH + " ", "variables": RENJI})
    assert searches.calls == 3
    assert other.json()["data"]["facilities"]["edges"]


def test_the_cost_figure_follows_the_variables(client: TestClient) -> None:
    query = "query($n: Int!) { facilities(first: $n) { edges { node { id } } } }"
    small = post(client, {"query": query, "variables": {"n": 2}}).json()
    large = post(client, {"query": query, "variables": {"n": 20}}).json()
    again = post(client, {"query": query, "variables": {"n": 2}}).json()
    cost = [b["extensions"]["cost"]["requestedQueryCost"] for b in (small, large, again)]
    assert cost[0] < cost[1] and cost[2] == cost[0]


def test_new_directory_data_misses(
    client: TestClient, own_services: Services, searches: Counted
) -> None:
    # given an answer cached for the loaded directory
    before = post(client, {"query": SEARCH, "variables": RENJI}).json()
    # when other data is loaded (another content hash)
    current = own_services.directory.directory
    rows = [f for f in current.facilities if "仁济" not in f.name_zh]
    other = make_directory(rows, current.districts, current.networks, content_hash="other-data")
    own_services.directory = DirectoryService(other, MemoryEngine(other))
    after = post(client, {"query": SEARCH, "variables": RENJI}).json()
    # then the query runs again, on the new data
    assert searches.calls == 2
    assert after["data"] != before["data"]


def test_signed_in_requests_are_not_cached(client: TestClient, searches: Counted) -> None:
    for _ in range(2):
        post(client, {"query": SEARCH, "variables": RENJI}, authorization="Bearer not-a-token")
    assert searches.calls == 2
    # nor are anonymous answers given to them
    post(client, {"query": SEARCH, "variables": RENJI})
    post(client, {"query": SEARCH, "variables": RENJI}, authorization="Bearer not-a-token")
    assert searches.calls == 4


@pytest.mark.parametrize(
    "query",
    [
        # a query reaching beyond the directory
        'query($text: String) { facilities(text: $text) { totalCount } node(id: "x") { id } }',
        # a mutation
        'mutation { requestSmsCode(input: {mobile: "13800000000", purpose: LOGIN}) { __typename } }',
        # a fragment at the top
        "query($text: String) { ...F } fragment F on Query { facilities(text: $text) { totalCount } }",
    ],
)
def test_only_public_directory_queries_are_cached(client: TestClient, query: str) -> None:
    app = graphql_app(client.app)  # type: ignore[arg-type]
    assert app.response_cache is not None
    for _ in range(2):
        client.post("/graphql", json={"query": query, "variables": {"text": "仁济"}})
    assert len(app.response_cache.memory) == 0


def test_answers_with_errors_are_not_cached(client: TestClient, searches: Counted) -> None:
    body = {"query": SEARCH, "variables": {**RENJI, "near": {"lat": 48.85, "lng": 2.35}}}
    prepared = graphql_app(client.app).prepared_operations is not None  # type: ignore[arg-type]
    for _ in range(2):
        before = searches.calls
        r = post(client, body).json()
        assert r["errors"][0]["extensions"]["code"]
        # searched every time: once, or twice with a prepared operation (schema/prepared.py:
        # its run raised, and the usual path ran it again to report the error)
        assert searches.calls - before in ((1, 2) if prepared else (1,))
    assert len(graphql_app(client.app).response_cache.memory) == 0  # type: ignore[arg-type,union-attr]


def test_the_cache_can_be_turned_off(
    settings: Settings, own_services: Services, searches: Counted
) -> None:
    app = create_app(settings.with_(response_cache_mb=0), services=own_services)
    assert graphql_app(app).response_cache is None
    with TestClient(app) as c:
        for _ in range(2):
            post(c, {"query": SEARCH, "variables": RENJI})
    assert searches.calls == 2


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("TEST_REDIS_URL is not set")
    return url


def test_workers_share_answers_through_redis(
    settings: Settings, own_services: Services, redis_url: str, searches: Counted
) -> None:
    # given two workers (apps) with the same Redis, under a prefix of this test's own
    prefix = f"test-response:{uuid.uuid4().hex[:12]}:"
    apps = [
        create_app(settings.with_(redis_url=redis_url), services=own_services) for _ in range(2)
    ]
    caches = [graphql_app(a).response_cache for a in apps]
    for cache in caches:
        assert cache is not None and cache.redis is not None
        cache.prefix = prefix
    redis = caches[0].redis  # type: ignore[union-attr]
    try:
        with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
            # when the first answers a query
            first = post(one, {"query": SEARCH, "variables": RENJI})
            # then the second answers it from Redis, without searching
            second = post(two, {"query": SEARCH, "variables": RENJI})
            assert searches.calls == 1
            assert second.content == first.content
            keys = list(redis.scan_iter(match=prefix + "*"))
            assert len(keys) == 1
            ttl = redis.ttl(keys[0])
            assert 0 < ttl <= settings.response_cache_seconds
    finally:
        for key in redis.scan_iter(match=prefix + "*"):
            redis.delete(key)
        redis.close()


def test_an_unreachable_redis_is_a_miss_not_an_error(
    settings: Settings, own_services: Services, searches: Counted
) -> None:
    # nothing listens on port 1
    app = create_app(settings.with_(redis_url="redis://127.0.0.1:1/0"), services=own_services)
    with TestClient(app) as c:
        first = post(c, {"query": SEARCH, "variables": RENJI})
        second = post(c, {"query": SEARCH, "variables": RENJI})
    assert second.content == first.content
    assert searches.calls == 1  # the process's own cache still answers


def test_make_response_cache_follows_the_settings(settings: Settings) -> None:
    assert make_response_cache(settings.with_(response_cache_mb=0)) is None
    cache = make_response_cache(settings.with_(response_cache_mb=2))
    assert cache is not None and cache.redis is None
    assert cache.memory.max_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize("executor", ["fast", "stock"])
def test_both_executors_cache_the_same_bytes(
    settings: Settings, own_services: Services, searches: Counted, executor: str
) -> None:
    uncached = create_app(
        settings.with_(graphql_executor=executor, response_cache_mb=0), services=own_services
    )
    cached = create_app(settings.with_(graphql_executor=executor), services=own_services)
    with TestClient(uncached) as plain, TestClient(cached) as c:
        expected = post(plain, {"query": SEARCH, "variables": RENJI})
        first = post(c, {"query": SEARCH, "variables": RENJI})
        again = post(c, {"query": SEARCH, "variables": RENJI})
    assert searches.calls == 2  # the uncached app, then the cached one once
    assert first.content == again.content == expected.content
    assert sorted(again.headers.items()) == sorted(expected.headers.items())


def test_a_body_seen_before_is_answered_unparsed_and_still_counted(
    client: TestClient, searches: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schema.budget
    import server.app
    from schema.response_cache import PublicQueries

    # given the document parse behind the cost and the cache key, and the metrics, watched
    costed: list[str] = []
    keyed: list[str] = []
    observed: list[tuple[str | None, int | None]] = []
    real_cost, real_key = schema.budget.request_cost, PublicQueries.key

    def request_cost(*args: Any) -> Any:
        costed.append(args[2])
        return real_cost(*args)

    def key(self: PublicQueries, *args: Any) -> Any:
        keyed.append(args[1])
        return real_key(self, *args)

    monkeypatch.setattr(schema.budget, "request_cost", request_cost)
    monkeypatch.setattr(PublicQueries, "key", key)
    monkeypatch.setattr(
        server.app, "observe_operation", lambda name, cost, client: observed.append((name, cost))
    )
    body = {"query": SEARCH, "variables": RENJI, "operationName": None}
    # when the same body comes three times
    answers = [post(client, body) for _ in range(3)]
    # then it was run, costed and keyed once; the two others were answered from the bytes
    assert searches.calls == 1 and len(costed) == 1 and len(keyed) == 1
    assert answers[0].content == answers[1].content == answers[2].content
    # and every one counts in the metrics, with the cost the first one was given
    cost = answers[0].json()["extensions"]["cost"]["requestedQueryCost"]
    assert observed == [(None, cost)] * 3
    # the same query in other bytes (variables in another order) is parsed, then known too
    reordered = {"variables": dict(reversed(list(RENJI.items()))), "query": SEARCH}
    assert post(client, reordered).content == answers[0].content
    assert post(client, reordered).content == answers[0].content
    assert searches.calls == 1 and len(costed) == 2 and len(keyed) == 2


def test_a_compressed_answer_is_compressed_once(
    client: TestClient, searches: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schema.response_cache

    made: list[str] = []
    real = schema.response_cache.compress

    def compress(body: bytes, coding: str) -> bytes:
        made.append(coding)
        return real(body, coding)

    monkeypatch.setattr(schema.response_cache, "compress", compress)
    big = {"query": SEARCH.replace("first: 5", "first: 20"), "variables": {"text": "医院"}}
    plain = post(client, big, **{"Accept-Encoding": "identity"})
    assert len(plain.content) >= 500  # large enough to be compressed
    answers = [post(client, big, **{"Accept-Encoding": "br"}) for _ in range(3)]
    gzipped = [post(client, big, **{"Accept-Encoding": "gzip"}) for _ in range(2)]
    # the first br answer came from the middleware, the others from one copy made once
    assert searches.calls == 1
    assert made == ["br", "gzip"]
    for r in answers:
        assert r.headers["content-encoding"] == "br"
        assert r.headers["vary"] == "Accept-Encoding"
        assert r.content == plain.content  # decoded by the client
    assert all(r.headers["content-encoding"] == "gzip" for r in gzipped)
    assert all(r.content == plain.content for r in gzipped)  # decoded by the client
