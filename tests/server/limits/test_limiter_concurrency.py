"""40 tries at once, each in a transaction (or a Redis call) of its own: every limit holds
exactly, on SQLite, PostgreSQL, Redis and in memory."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from sqlalchemy.orm import Session

from server.limits import Decision, Limiter, Policy
from tests.db import FakeClock, run_together
from tests.limits import Store, fresh_key

N = 40
MINUTE = datetime.timedelta(minutes=1)


def _race(
    store: Store, clock: FakeClock, work: Callable[[Limiter, Session | None, int], Decision]
) -> list[Decision]:
    limiter = store.limiter(clock)

    def one(i: int) -> Decision:
        with store.unit() as db:
            return work(limiter, db, i)

    results = run_together(N, one)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return results


def test_a_budget_lets_exactly_its_limit_through(store: Store, clock: FakeClock) -> None:
    budget = Policy("race-budget", window=5 * MINUTE, limit=20)
    key = fresh_key()
    results = _race(store, clock, lambda limiter, db, i: limiter.hit(db, budget, key))
    assert sum(d.allowed for d in results) == 20
    assert sorted(d.count for d in results if d.allowed) == list(range(1, 21))
    with store.unit() as db:
        assert store.limiter(clock).peek(db, budget, key).count == 20


def test_a_lock_stops_the_rest_at_once(store: Store, clock: FakeClock) -> None:
    # the log-in rule: three free tries, then a wait; five lock
    login = Policy(
        "race-login",
        window=datetime.timedelta(hours=1),
        limit=5,
        lock=15 * MINUTE,
        delay_after=3,
        delay=datetime.timedelta(seconds=30),
    )
    key = fresh_key()
    results = _race(store, clock, lambda limiter, db, i: limiter.hit(db, login, key))
    assert sum(d.allowed for d in results) == 3
    assert all(d.retry_after_seconds == 30 for d in results if not d.allowed)


def test_a_growing_wait_lets_exactly_the_free_tries_through(store: Store, clock: FakeClock) -> None:
    portal = Policy(
        "race-growing",
        window=datetime.timedelta(hours=24),
        limit=20,
        delay_after=5,
        delay=datetime.timedelta(seconds=30),
        delay_max=15 * MINUTE,
    )
    key = fresh_key()
    results = _race(store, clock, lambda limiter, db, i: limiter.hit(db, portal, key))
    assert sum(d.allowed for d in results) == 5


def test_several_budgets_at_once_hold_each(store: Store, clock: FakeClock) -> None:
    per_client = Policy("race-client", window=MINUTE, limit=15)
    overall = Policy("race-overall", window=MINUTE, limit=25)
    busy, quiet = fresh_key(), fresh_key()
    everyone = fresh_key()  # this test's own overall key (GLOBAL in the application)

    def client(i: int) -> str:
        return quiet if i % 4 == 0 else busy  # 10 tries and 30

    results = _race(
        store,
        clock,
        lambda limiter, db, i: limiter.hit_all(db, [(per_client, client(i)), (overall, everyone)]),
    )
    # the busy client stops at its 15, the quiet one gets its 10: 25 in all, whatever the order
    assert sum(d.allowed for i, d in enumerate(results) if client(i) == busy) == 15
    assert sum(d.allowed for i, d in enumerate(results) if client(i) == quiet) == 10
    with store.unit() as db:
        limiter = store.limiter(clock)
        assert limiter.peek(db, overall, everyone).count == 25
        assert limiter.peek(db, per_client, busy).count == 15
        assert limiter.peek(db, per_client, quiet).count == 10


def test_weighted_counts_at_once_spend_exactly_the_budget(store: Store, clock: FakeClock) -> None:
    # 40 requests of 7 points against 100: 14 fit (98 points), whatever the order
    points = Policy("race-points", window=MINUTE, limit=100)
    key = fresh_key()
    results = _race(
        store, clock, lambda limiter, db, i: limiter.hit_all(db, [(points, key)], amount=7)
    )
    assert sum(d.allowed for d in results) == 14
    assert sorted(d.count for d in results if d.allowed) == list(range(7, 99, 7))
    with store.unit() as db:
        assert store.limiter(clock).peek(db, points, key).count == 98


def test_failures_recorded_at_once_are_all_counted(store: Store, clock: FakeClock) -> None:
    failures = Policy("race-failures", window=MINUTE, limit=100)
    key = fresh_key()
    results = _race(store, clock, lambda limiter, db, i: limiter.record_failure(db, failures, key))
    assert sorted(d.count for d in results) == list(range(1, N + 1))
