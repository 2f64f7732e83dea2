"""HTTP 429 on /graphql: the cost budget per client address and per sign-in session, and the
log-in and SMS limits answered with 429 and Retry-After (schema/budget.py,
server/api_budget.py)."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.accounts.wiring import MemberServices
from server.api_budget import ANONYMOUS, SIGNED_IN, ApiBudget, Caller
from server.app import create_app
from server.claims.core import ClaimContext
from server.crypto import vault_for
from server.db import make_sessionmaker
from server.limits import Limiter
from server.limits.database import DatabaseBackend
from server.services import Services
from server.sessions import Lifetime, SessionKind, SessionStore
from server.settings import Settings
from tests.db import TEST_SECRET_KEY, FakeClock, last_sms_code, run_together

QUERY = "{ facilities(first: 2) { edges { node { id nameZh } } } }"  # costs 9
COST = 9
BUDGET = 50  # five such queries (45 points) a minute, not six
LOGIN = """mutation($mobile: String!, $password: String!) {
  logIn(input: {mobile: $mobile, password: $password}) {
    __typename
    ... on Error { code }
    ... on RetryLaterError { retryAfterSeconds }
  }
}"""
SEND = """mutation($mobile: String!) {
  sendSmsCode(input: {mobile: $mobile, purpose: REGISTER}) {
    __typename
    ... on Error { code }
    ... on RetryLaterError { retryAfterSeconds }
  }
}"""
REGISTER = """mutation($mobile: String!, $code: String!) {
  register(input: {mobile: $mobile, password: "Health2026!", smsCode: $code, acceptTerms: true}) {
    __typename
    ... on SignInSuccess { token }
  }
}"""


def _address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"


@pytest.fixture
def budget_app(
    services: Services,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Starlette:
    """The app over the test database and clock, with a budget of 50 points a minute."""
    settings = services.settings.with_(
        secret_key=TEST_SECRET_KEY,
        graphql_max_cost=BUDGET,
        graphql_anonymous_budget=BUDGET,
        graphql_signed_in_budget=BUDGET,
    )
    s = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=claims
    )
    return create_app(settings, services=s)


@pytest.fixture
def client_at(budget_app: Starlette) -> Iterator[Any]:
    clients: list[TestClient] = []

    def at(address: str) -> TestClient:
        c = TestClient(budget_app, client=(address, 50000))
        clients.append(c.__enter__())
        return c

    yield at
    for c in clients:
        c.__exit__(None, None, None)


def _post(client: TestClient, query: str, token: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def test_over_budget_answers_429_with_retry_after_and_another_client_is_unaffected(
    client_at: Any, clock: FakeClock
) -> None:
    # given a client that spent 45 of its 50 points
    busy, quiet = client_at(_address()), client_at(_address())
    for _ in range(5):
        r = _post(busy, QUERY)
        assert r.status_code == 200 and r.json()["extensions"]["cost"]["requestedQueryCost"] == COST
    clock.advance(seconds=20)
    # when it asks for 9 more
    r = _post(busy, QUERY)
    # then 429, a Retry-After until the window closes and a GraphQL-shaped JSON body
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == "40"
    body = r.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 40}
    assert "try again in 40 s" in body["errors"][0]["message"]
    # a cheaper query still fits (5 points left)
    assert _post(busy, "{ __typename }").status_code == 200
    # and another address has its own budget
    assert _post(quiet, QUERY).status_code == 200
    # once the window closes the client is served again
    clock.advance(seconds=40)
    assert _post(busy, QUERY).status_code == 200


def test_a_budget_store_that_does_not_answer_lets_requests_through_and_says_so(
    client_at: Any,
    members: MemberServices,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from server.metrics import BUDGET_UNAVAILABLE

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis://user:secret@cache went away")

    monkeypatch.setattr(members.limiter, "hit_all", down)
    before = BUDGET_UNAVAILABLE._value.get()
    c = client_at(_address())
    # limits fail open: far past the budget, every query is still served
    assert [_post(c, QUERY).status_code for _ in range(8)] == [200] * 8
    assert BUDGET_UNAVAILABLE._value.get() - before == 8
    assert "could not be charged: ConnectionError" in caplog.text
    assert "secret" not in caplog.text


def test_a_query_the_limits_refuse_is_not_charged(client_at: Any) -> None:
    c = client_at(_address())
    expensive = "{ facilities(first: 100) { edges { node { id nameZh } } } }"
    for _ in range(10):
        r = _post(c, expensive)
        assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == (
            "QUERY_TOO_COMPLEX"
        )
    assert _post(c, QUERY).status_code == 200


def _register(
    client: TestClient, db: sessionmaker[Session], members: MemberServices, phone: str
) -> str:
    assert _post(client, SEND, mobile=phone).status_code == 200
    code = last_sms_code(db, members, phone)
    r = _post(client, REGISTER, mobile=phone, code=code)
    return str(r.json()["data"]["register"]["token"])


def test_a_signed_in_session_pays_its_own_budget_and_a_made_up_token_pays_as_anonymous(
    client_at: Any, db_factory: sessionmaker[Session], members: MemberServices
) -> None:
    c = client_at(_address())
    token = _register(c, db_factory, members, "13612345001")
    # the address spends its budget anonymously, a made-up token included
    while _post(c, QUERY, token="made-up-" + secrets.token_urlsafe(16)).status_code == 200:
        pass
    assert _post(c, QUERY).status_code == 429
    # the member's session has a budget of its own
    for _ in range(5):
        assert _post(c, QUERY, token=token).status_code == 200
    assert _post(c, QUERY, token=token).status_code == 429


def test_a_locked_log_in_answers_429_with_its_typed_error(client_at: Any) -> None:
    c = client_at(_address())
    phone = "13612345002"
    for _ in range(3):
        r = _post(c, LOGIN, mobile=phone, password="Wrong2026!")
        assert r.status_code == 200 and r.json()["data"]["logIn"]["code"] == "LOGIN_FAILED"
    r = _post(c, LOGIN, mobile=phone, password="Wrong2026!")
    # the fourth try waits 30 s: 429, Retry-After and the typed error in the body
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    assert r.json()["data"]["logIn"] == {
        "__typename": "RetryLaterError",
        "code": "LOGIN_LOCKED",
        "retryAfterSeconds": 30,
    }


def test_an_sms_asked_too_soon_answers_429_unless_another_root_field_did_its_work(
    client_at: Any,
) -> None:
    c = client_at(_address())
    assert _post(c, SEND, mobile="13612345003").status_code == 200
    r = _post(c, SEND, mobile="13612345003")
    assert r.status_code == 429 and r.headers["retry-after"] == "120"
    assert r.json()["data"]["sendSmsCode"]["code"] == "SMS_TOO_SOON"
    # with a code sent to another mobile in the same request, the answer stays 200
    both = """mutation {
      a: sendSmsCode(input: {mobile: "13612345003", purpose: REGISTER}) { __typename }
      b: sendSmsCode(input: {mobile: "13612345004", purpose: REGISTER}) { __typename }
    }"""
    r = _post(c, both)
    assert r.status_code == 200 and "retry-after" not in r.headers
    assert r.json()["data"] == {
        "a": {"__typename": "RetryLaterError"},
        "b": {"__typename": "SendSmsCodeSuccess"},
    }


# --- 40 requests at once spend exactly the budget, on every backend ------------------------


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def budget_store(request: pytest.FixtureRequest, clock: FakeClock) -> ApiBudget:
    name = request.param
    engine: Engine = request.getfixturevalue(
        "limits_postgres" if name == "postgresql" else "limits_sqlite"
    )
    backend: Any = (
        request.getfixturevalue("redis_backend") if name == "redis" else DatabaseBackend()
    )
    s = Settings(
        environment="test",
        graphql_max_cost=100,
        graphql_anonymous_budget=100,
        graphql_signed_in_budget=200,
    )
    vault = vault_for(TEST_SECRET_KEY, "")
    sessions = SessionStore(clock, Lifetime.of(30, 12))
    return ApiBudget(s, Limiter(backend, clock), vault, sessions, make_sessionmaker(engine))


def test_forty_requests_at_once_spend_exactly_the_budget(budget_store: ApiBudget) -> None:
    # 40 requests of 7 points against 100 from one address: 14 fit, whatever the order
    caller = Caller(_address())
    results = run_together(40, lambda i: budget_store.spend(caller, 7))
    assert not [r for r in results if isinstance(r, Exception)], results[:3]
    assert sum(d.allowed for d in results) == 14
    refused = [d for d in results if not d.allowed]
    assert {d.policy for d in refused} == {ANONYMOUS}
    assert all(1 <= d.retry_after_seconds <= 60 for d in refused)
    # another address is untouched
    assert budget_store.spend(Caller(_address()), 100).allowed


def test_a_live_session_pays_under_its_own_key(budget_store: ApiBudget, clock: FakeClock) -> None:
    with budget_store.db() as db, db.begin():
        issued = budget_store.sessions.start(db, SessionKind.MEMBER, 1, channel="app")
    caller = Caller(_address(), issued.token)
    decisions = run_together(40, lambda i: budget_store.spend(caller, 7))
    assert sum(d.allowed for d in decisions) == 28  # 196 of 200 points
    assert {d.policy for d in decisions} == {SIGNED_IN}
    # the same address without the token still has its whole anonymous budget
    assert budget_store.spend(Caller(caller.address), 100).allowed
    # an ended session opens nothing: its bearer pays as anonymous
    with budget_store.db() as db, db.begin():
        budget_store.sessions.end(db, SessionKind.MEMBER, issued.token)
    clock.advance(minutes=1)
    assert budget_store.spend(caller, 7).policy == ANONYMOUS


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def shared_budget_app(request: pytest.FixtureRequest, services: Services) -> Starlette:
    """The app on the session's SQLite file (a pool of connections, as served) with its
    counters in that database or in Redis; 100 points a minute per client."""
    from server.accounts.wiring import member_services
    from server.clock import system_clock

    backend: Any = (
        request.getfixturevalue("redis_backend") if request.param == "redis" else DatabaseBackend()
    )
    settings = services.settings.with_(
        graphql_max_cost=100, graphql_anonymous_budget=100, graphql_signed_in_budget=100
    )
    members = member_services(settings, limiter=Limiter(backend, system_clock))
    return create_app(
        settings, services=dataclasses.replace(services, settings=settings, members=members)
    )


def test_forty_requests_at_once_over_http_spend_exactly_the_budget(
    shared_budget_app: Starlette,
) -> None:
    # 40 queries of 9 points at once from one address against 100: 11 run, 29 get 429
    address = _address()

    def one(i: int) -> int:
        with TestClient(shared_budget_app, client=(address, 50000 + i)) as c:
            return _post(c, QUERY).status_code

    statuses = run_together(40, one)
    assert sorted(statuses) == [200] * 11 + [429] * 29


def test_answers_from_the_response_cache_pay_their_cost_too(
    client_at: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.directory.service import DirectoryService

    searched: list[object] = []
    real = DirectoryService.search

    def search(service: DirectoryService, query: Any) -> Any:
        searched.append(query)
        return real(service, query)

    monkeypatch.setattr(DirectoryService, "search", search)
    c = client_at(_address())
    # five identical public queries: one run, four answered from the cache, unparsed
    assert all(_post(c, QUERY).status_code == 200 for _ in range(5))
    assert len(searched) == 1
    # and all five paid: the sixth is over the budget
    r = _post(c, QUERY)
    assert r.status_code == 429
    assert r.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
