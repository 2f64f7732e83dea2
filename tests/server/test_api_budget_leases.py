"""The GraphQL cost budget taken from its store in leases (server/api_budget.py): most
requests write nothing, and several processes together still never spend more than the
budget."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import Engine

from server.api_budget import ANONYMOUS, SIGNED_IN, ApiBudget, Caller
from server.crypto import vault_for
from server.db import make_sessionmaker
from server.limits import Limiter
from server.limits.database import DatabaseBackend
from server.sessions import Lifetime, SessionKind, SessionStore
from server.settings import Settings
from tests.db import TEST_SECRET_KEY, FakeClock, run_together


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "limits_postgres" if request.param == "postgresql" else "limits_sqlite"
    found: Engine = request.getfixturevalue(name)
    return found


def _budget(engine: Engine, clock: FakeClock, budget: int = 5_000) -> ApiBudget:
    """One process's budget (each call: another process) over the shared store."""
    settings = Settings(
        environment="test",
        graphql_max_cost=100,
        graphql_anonymous_budget=budget,
        graphql_signed_in_budget=budget,
    )
    return ApiBudget(
        settings,
        Limiter(DatabaseBackend(), clock),
        vault_for(TEST_SECRET_KEY, ""),
        SessionStore(clock, Lifetime.of(30, 12)),
        make_sessionmaker(engine),
    )


def _address() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"


def _spy(budget: ApiBudget, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    taken: list[int] = []
    hit_all = budget.limiter.hit_all

    def spy(db: Any, limits: Any, **kwargs: Any) -> Any:
        taken.append(kwargs.get("amount", 1))
        return hit_all(db, limits, **kwargs)

    monkeypatch.setattr(budget.limiter, "hit_all", spy)
    return taken


def test_most_requests_are_charged_in_memory(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a budget of 5,000 points: leases of 100
    budget = _budget(engine, clock)
    taken = _spy(budget, monkeypatch)
    caller = Caller(_address())
    # when 50 requests of 7 points are charged
    assert all(budget.spend(caller, 7).allowed for _ in range(50))
    # then the store was asked 4 times (350 points in leases of 100), not 50
    assert taken == [100, 100, 100, 100]


def test_points_held_are_spent_without_a_thread_or_the_store(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a budget of 5,000 points (leases of 100) and a caller not seen yet
    budget = _budget(engine, clock)
    taken = _spy(budget, monkeypatch)
    caller = Caller(_address())
    # nothing held yet: the caller must go through `spend` (off the event loop)
    assert budget.spend_held(caller, 7) is None
    assert budget.spend(caller, 7).allowed  # a lease of 100: 93 held
    # then 13 more requests of 7 (91 points) are spent from memory
    assert all((d := budget.spend_held(caller, 7)) is not None and d.allowed for _ in range(13))
    assert taken == [100]
    # 2 points left: not enough, `spend` takes the next lease
    assert budget.spend_held(caller, 7) is None
    assert budget.spend(caller, 7).allowed and taken == [100, 100]
    # a lease past its window is not spent from memory
    clock.advance(seconds=3600)
    assert budget.spend_held(caller, 7) is None
    # a token never seen needs the database to know who pays
    assert budget.spend_held(Caller(_address(), token="made-up"), 7) is None


def test_a_request_costlier_than_a_lease_takes_its_cost(
    engine: Engine, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = _budget(engine, clock, budget=1_000)  # leases of 20
    taken = _spy(budget, monkeypatch)
    caller = Caller(_address())
    assert budget.spend(caller, 90).allowed
    assert budget.spend(caller, 5).allowed and budget.spend(caller, 15).allowed
    assert taken == [90, 20]


def test_the_last_points_are_asked_for_exactly_and_a_refusal_gives_back_what_it_held(
    engine: Engine, clock: FakeClock
) -> None:
    # 5,000 points in leases of 100, requests of 30: the last lease would overrun
    budget = _budget(engine, clock)
    caller = Caller(_address())
    allowed = sum(budget.spend(caller, 30).allowed for _ in range(200))
    assert allowed == 166  # 4,980 points: every one that fits
    refused = budget.spend(caller, 30)
    assert not refused.allowed and refused.policy == ANONYMOUS
    assert 1 <= refused.retry_after_seconds <= 60
    # the 20 points left are still there for a cheaper request
    assert budget.spend(caller, 20).allowed
    assert not budget.spend(caller, 1).allowed
    # once the window has passed, the client is served again
    clock.advance(minutes=1)
    assert budget.spend(caller, 30).allowed


def test_processes_at_once_never_spend_more_than_the_budget(
    engine: Engine, clock: FakeClock
) -> None:
    # given four processes, each with its own leases, and one client
    processes = [_budget(engine, clock) for _ in range(4)]
    caller = Caller(_address())

    # when 40 threads spend 7 points each, 30 times, spread over the processes
    def work(i: int) -> int:
        budget = processes[i % 4]
        return sum(budget.spend(caller, 7).allowed for _ in range(30))

    allowed = sum(run_together(40, work))
    # then no more than the 5,000 points were spent, and at most what the processes hold
    # unspent (less than a lease each) was lost to the client
    assert 7 * allowed <= 5_000
    assert 7 * allowed > 5_000 - 4 * 100


def test_a_session_is_remembered_for_a_short_while(engine: Engine, clock: FakeClock) -> None:
    budget = _budget(engine, clock)
    with budget.db() as db, db.begin():
        issued = budget.sessions.start(db, SessionKind.MEMBER, 1, channel="app")
    caller = Caller(_address(), issued.token)
    assert budget.spend(caller, 7).policy == SIGNED_IN
    with budget.db() as db, db.begin():
        budget.sessions.end(db, SessionKind.MEMBER, issued.token)
    # the ended session's bearer pays as anonymous once the session is looked up again
    clock.advance(seconds=16)
    assert budget.spend(caller, 7).policy == ANONYMOUS
