"""The limiter's rules, the same on every backend: windows, limits, locks, growing waits,
all-or-none counting, refunds, resets and expiry, on a fake clock."""

from __future__ import annotations

import datetime

import pytest

from server.crypto import Vault
from server.limits import GLOBAL, Decision, Limiter, Policy, key_of
from server.limits.database import DatabaseBackend
from server.limits.memory import MemoryBackend
from server.limits.redis_store import RedisBackend
from tests.db import FakeClock
from tests.limits import Store, fresh_key

MINUTE = datetime.timedelta(minutes=1)
BUDGET = Policy("test-budget", window=10 * MINUTE, limit=3)
LOCKING = Policy(
    "test-lock",
    window=datetime.timedelta(hours=1),
    limit=5,
    lock=15 * MINUTE,
    delay_after=3,
    delay=datetime.timedelta(seconds=30),
)
GROWING = Policy(
    "test-growing",
    window=datetime.timedelta(hours=24),
    limit=50,
    delay_after=2,
    delay=datetime.timedelta(seconds=10),
    delay_max=datetime.timedelta(seconds=40),
)


def test_a_budget_refuses_past_its_limit_until_the_window_closes(
    store: Store, clock: FakeClock
) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        assert [limiter.hit(db, BUDGET, key).count for _ in range(3)] == [1, 2, 3]
        clock.advance(minutes=4)
        refused = limiter.hit(db, BUDGET, key)
        # the window opened with the first hit: 6 of its 10 minutes are left
        assert refused == Decision(False, 6 * 60, 3, "test-budget")
        # a refused hit is not counted, and peeking counts nothing
        assert limiter.peek(db, BUDGET, key) == refused
        clock.advance(minutes=6)
        assert limiter.peek(db, BUDGET, key).allowed
        assert limiter.hit(db, BUDGET, key) == Decision(True, 0, 1, "test-budget")


def test_retry_after_is_rounded_up(store: Store, clock: FakeClock) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        for _ in range(3):
            limiter.hit(db, BUDGET, key)
        clock.advance(minutes=9, seconds=59.5)
        assert limiter.hit(db, BUDGET, key).retry_after_seconds == 1


POINTS = Policy("test-points", window=MINUTE, limit=100)


def test_a_weighted_count_spends_points_while_the_total_stays_within_the_limit(
    store: Store, clock: FakeClock
) -> None:
    limiter, key, other = store.limiter(clock), fresh_key(), fresh_key()
    with store.unit() as db:
        assert limiter.hit_all(db, [(POINTS, key)], amount=60).count == 60
        assert limiter.hit_all(db, [(POINTS, key)], amount=40).count == 100
        clock.advance(seconds=20)
        # full: even one point waits for the window to close, and nothing is counted
        assert limiter.hit_all(db, [(POINTS, key)], amount=1) == Decision(
            False, 40, 100, "test-points"
        )
        assert limiter.hit_all(db, [(POINTS, other)], amount=70).allowed
        # 30 points left under `other`: 31 is refused, 30 allowed
        assert not limiter.hit_all(db, [(POINTS, other)], amount=31).allowed
        assert limiter.hit_all(db, [(POINTS, other)], amount=30).count == 100
        clock.advance(seconds=40)
        assert limiter.hit_all(db, [(POINTS, key)], amount=100).count == 100


def test_a_weighted_count_needs_a_plain_budget_it_fits(clock: FakeClock) -> None:
    limiter = Limiter(MemoryBackend(), clock)
    with pytest.raises(ValueError):
        limiter.hit_all(None, [(LOCKING, fresh_key())], amount=2)
    with pytest.raises(ValueError):
        limiter.hit_all(None, [(POINTS, fresh_key())], amount=101)
    with pytest.raises(ValueError):
        limiter.hit_all(None, [(POINTS, fresh_key())], amount=0)


def test_failures_lock_the_key_and_counting_starts_afresh_after(
    store: Store, clock: FakeClock
) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        seen = []
        for _ in range(5):
            assert limiter.peek(db, LOCKING, key).allowed
            seen.append(limiter.record_failure(db, LOCKING, key))
            clock.advance(seconds=30)
        # three free failures, then a 30 s wait after each, the fifth locks for 15 minutes
        assert [d.allowed for d in seen] == [True, True, False, False, False]
        assert [d.count for d in seen] == [1, 2, 3, 4, 5]
        assert seen[2].retry_after_seconds == 30 and not seen[2].locked
        assert seen[4].locked and seen[4].retry_after_seconds == 15 * 60
        locked = limiter.peek(db, LOCKING, key)
        assert locked.locked and locked.retry_after_seconds == 15 * 60 - 30
        assert not limiter.hit(db, LOCKING, key).allowed
        clock.advance(minutes=15)
        assert limiter.peek(db, LOCKING, key) == Decision(True, 0, 0, "test-lock")
        assert limiter.record_failure(db, LOCKING, key).count == 1


def test_counting_every_try_locks_at_the_limit(store: Store, clock: FakeClock) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        allowed = []
        for _ in range(7):
            allowed.append(limiter.hit(db, LOCKING, key))
            clock.advance(seconds=30)
        assert [d.allowed for d in allowed] == [True] * 5 + [False] * 2
        assert allowed[4].count == 5 and allowed[5].locked


def test_the_wait_doubles_up_to_its_cap(store: Store, clock: FakeClock) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        waits = []
        for _ in range(6):
            decision = limiter.hit(db, GROWING, key)
            waits.append(decision.retry_after_seconds)
            if not decision.allowed:
                clock.advance(seconds=decision.retry_after_seconds)
                assert limiter.hit(db, GROWING, key).allowed
        # two free tries, then 10 s, 20 s, and 40 s from there on
        assert waits == [0, 0, 10, 20, 40, 40]
    assert GROWING.wait(1) == datetime.timedelta(0)
    assert GROWING.wait(1000) == datetime.timedelta(seconds=40)
    assert [c for c, _ in GROWING.delay_steps()] == [2, 3]


def test_reset_forgets_counts_waits_and_locks(store: Store, clock: FakeClock) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        for _ in range(5):
            limiter.record_failure(db, LOCKING, key)
        assert limiter.peek(db, LOCKING, key).locked
        limiter.reset(db, LOCKING, key)
        assert limiter.peek(db, LOCKING, key) == Decision(True, 0, 0, "test-lock")


def test_several_limits_count_all_or_none(store: Store, clock: FakeClock) -> None:
    limiter = store.limiter(clock)
    per_key = Policy("test-per-key", window=MINUTE, limit=2)
    overall = Policy("test-overall", window=10 * MINUTE, limit=3)
    a, b = fresh_key(), fresh_key()
    with store.unit() as db:
        assert limiter.hit_all(db, [(per_key, a), (overall, GLOBAL)]).count == 1
        assert limiter.hit_all(db, [(per_key, a), (overall, GLOBAL)]).count == 2
        # a's own budget is spent: the overall one is not touched
        refused = limiter.hit_all(db, [(per_key, a), (overall, GLOBAL)])
        assert refused == Decision(False, 60, 2, "test-per-key")
        assert limiter.peek(db, overall, GLOBAL).count == 2
        assert limiter.hit_all(db, [(per_key, b), (overall, GLOBAL)]).allowed
        # now both refuse: the answer is the longer wait
        clock.advance(seconds=30)
        both = limiter.hit_all(db, [(per_key, a), (overall, GLOBAL)])
        assert both == Decision(False, 10 * 60 - 30, 3, "test-overall")


def test_a_try_can_wait_on_a_lock_it_does_not_count_under(store: Store, clock: FakeClock) -> None:
    limiter = store.limiter(clock)
    tries, failures = fresh_key(), fresh_key()
    blocking = Policy("test-blocking", window=10 * MINUTE, limit=2)
    with store.unit() as db:
        assert limiter.hit_all(db, [(BUDGET, tries)], unless=[(blocking, failures)]).count == 1
        limiter.record_failure(db, blocking, failures)
        limiter.record_failure(db, blocking, failures)
        clock.advance(minutes=1)
        refused = limiter.hit_all(db, [(BUDGET, tries)], unless=[(blocking, failures)])
        assert refused == Decision(False, 9 * 60, 2, "test-blocking")
        # the refused try was not counted, and the looked-at key was not either
        assert limiter.peek(db, BUDGET, tries).count == 1
        assert limiter.peek(db, blocking, failures).count == 2


def test_refund_gives_one_try_back(store: Store, clock: FakeClock) -> None:
    limiter, key = store.limiter(clock), fresh_key()
    with store.unit() as db:
        for _ in range(3):
            limiter.hit(db, BUDGET, key)
        limiter.refund(db, [(BUDGET, key)])
        assert limiter.hit(db, BUDGET, key) == Decision(True, 0, 3, "test-budget")
        limiter.refund(db, [(BUDGET, fresh_key())])  # nothing to give back: nothing happens


def test_purge_drops_counters_that_no_longer_count(store: Store, clock: FakeClock) -> None:
    limiter = store.limiter(clock)
    done, locked, open_ = fresh_key(), fresh_key(), fresh_key()
    with store.unit() as db:
        limiter.hit(db, BUDGET, done)
        for _ in range(5):
            limiter.record_failure(db, LOCKING, locked)
        clock.advance(minutes=10)
        limiter.hit(db, BUDGET, open_)
        limiter.purge(db)
        # the lock and the open window are kept; the spent window is forgotten
        assert limiter.peek(db, LOCKING, locked).locked
        assert limiter.peek(db, BUDGET, open_).count == 1
        assert store.backend.read(db, BUDGET, open_) is not None
        if store.name != "redis":  # Redis lets the hash expire by itself
            assert store.backend.read(db, BUDGET, done) is None


@pytest.mark.redis
def test_redis_counters_expire_once_nothing_in_them_counts(
    redis_backend: RedisBackend, clock: FakeClock
) -> None:
    limiter, key = Limiter(redis_backend, clock), fresh_key()
    for _ in range(5):
        limiter.record_failure(None, LOCKING, key)
    ttl = redis_backend.client.pttl(redis_backend._key(LOCKING, key))
    assert 15 * 60 * 1000 < ttl <= 15 * 60 * 1000 + 1000


def test_keys_are_hashes_never_plain_identifiers(clock: FakeClock) -> None:
    limiter = Limiter(MemoryBackend(), clock)
    for plain in ("13612341560", "203.0.113.7", "", "A" * 64):
        with pytest.raises(ValueError):
            limiter.hit(None, BUDGET, plain)
    vault = Vault("test-secret")
    key = key_of(vault, "sms-client", "203.0.113.7")
    assert "203.0.113.7" not in key and limiter.hit(None, BUDGET, key).allowed
    assert key != key_of(vault, "login", "203.0.113.7")
    assert limiter.hit(None, BUDGET, GLOBAL).allowed


def test_a_policy_must_make_sense() -> None:
    with pytest.raises(ValueError):
        Policy("Bad Name", window=MINUTE, limit=1)
    with pytest.raises(ValueError):
        Policy("no-window", window=datetime.timedelta(0), limit=1)
    with pytest.raises(ValueError):
        Policy("no-limit", window=MINUTE, limit=0)
    with pytest.raises(ValueError):
        Policy("no-wait", window=MINUTE, limit=1, delay_after=2)
    with pytest.raises(ValueError):
        Policy(
            "cap-below", window=MINUTE, limit=1, delay_after=1, delay=MINUTE, delay_max=MINUTE / 2
        )


def test_the_database_backend_needs_the_callers_session(clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        Limiter(DatabaseBackend(), clock).hit(None, BUDGET, fresh_key())


def test_several_keys_are_counted_in_two_statements_on_postgresql(
    store: Store, clock: FakeClock
) -> None:
    """PostgreSQL locks and reads every key of a hit_all in one statement and counts them
    all in another, without a savepoint; a refusal is the first alone. The counts are
    each key's own, in the caller's order."""
    if store.name != "postgresql":
        pytest.skip("several keys without a savepoint: PostgreSQL's way")
    from sqlalchemy import text

    from tests.db import statements

    limiter = store.limiter(clock)
    wide = Policy("test-wide", window=MINUTE, limit=3)
    narrow = Policy("test-narrow", window=MINUTE, limit=1)
    a, b = fresh_key(), fresh_key()
    with store.unit() as db:
        db.execute(text("SELECT 1"))
        with statements(db.connection()) as seen:
            ok = limiter.hit_all(db, [(wide, a), (narrow, b)])
        assert ok.allowed
        assert len(seen) == 2 and all("rate_limit" in s for s in seen)
        assert limiter.peek(db, wide, a).count == 1 and limiter.peek(db, narrow, b).count == 1
        # narrow refuses: wide is not counted either, in the same one statement
        with statements(db.connection()) as seen:
            refused = limiter.hit_all(db, [(wide, a), (narrow, b)])
        assert refused.policy == "test-narrow" and refused.retry_after_seconds == 60
        assert len(seen) == 1
        assert limiter.peek(db, wide, a).count == 1


def test_a_key_counted_meanwhile_by_another_request_still_refuses_all(
    store: Store, clock: FakeClock
) -> None:
    """A key whose row another request is inserting while this one counts is waited for,
    and refuses the try: the other keys are not counted."""
    if store.name != "postgresql":
        pytest.skip("the count of several keys without a savepoint is PostgreSQL's")
    import threading
    import time

    limiter = store.limiter(clock)
    wide = Policy("test-wide", window=MINUTE, limit=3)
    narrow = Policy("test-narrow", window=MINUTE, limit=1)
    a, b = fresh_key(), fresh_key()
    result: list[Decision] = []
    # given another request that has counted b (its only try) and not committed yet
    with store.unit() as other:
        assert limiter.hit(other, narrow, b).allowed

        def counting() -> None:
            with store.unit() as db:
                result.append(limiter.hit_all(db, [(wide, a), (narrow, b)]))

        # when this one counts a and b (it waits on b's row until the other commits)
        worker = threading.Thread(target=counting)
        worker.start()
        time.sleep(0.3)
    worker.join(timeout=30)
    # then it is refused, and a was not counted
    assert [d.allowed for d in result] == [False]
    assert result[0].policy == "test-narrow"
    with store.unit() as db:
        assert limiter.peek(db, wide, a).count == 0
        assert limiter.peek(db, narrow, b).count == 1
